//! The phone web app's first load in a real headless Chromium (Debian's,
//! with a phone screen, trusting the box CA), from the box on loopback:
//! what is transferred (compressed bytes of JS, CSS and the rest, from the
//! browser's Resource Timing) and how soon the first screen is there and
//! usable (paint timings, DOMContentLoaded, load, and the last first-load
//! resource).
//!
//! Every sample is a fresh browser profile (nothing cached, no service
//! worker yet, a new connection), except the "reload" rows, which load the
//! app again in the same profile (the service worker serves the shell). The
//! baseline, in the same run and the same browser, is a fresh profile's
//! navigation to `GET /api/health`: one HTTPS request and a tiny document.
//!
//! It reuses the browser harness of the end-to-end tests
//! (`foyer_e2e::browser`), which starts chromedriver and Chromium with no way
//! out of the machine; that harness runs `$FOYERD_BIN`, which `main` points
//! at the binary under test.

use anyhow::{Result, anyhow};
use foyer_e2e::Daemon;
use foyer_e2e::browser::Browser;
use serde_json::Value;

use crate::report::{Report, Section};
use crate::util::{fmt_ms, summarize};

pub struct WebOpts {
    pub samples: usize,
}

/// Reads the navigation and resource timings of the current page once the
/// first screen's element (`arguments[0]`) is there. Times in ms since the
/// navigation started; sizes are `encodedBodySize` (bytes on the wire, before
/// decompression, without headers).
const TIMINGS: &str = r#"
const done = arguments[arguments.length - 1];
const selector = arguments[0];
const started = performance.now();
function collect() {
  const nav = performance.getEntriesByType('navigation')[0] || {};
  const paint = {};
  for (const p of performance.getEntriesByType('paint')) paint[p.name] = p.startTime;
  const res = performance.getEntriesByType('resource');
  const kinds = { js: 0, css: 0, json: 0, other: 0 };
  let lastEnd = nav.responseEnd || 0;
  let firstLoad = 0;
  for (const r of res) {
    const path = new URL(r.name).pathname;
    const kind = path.endsWith('.js') ? 'js' : path.endsWith('.css') ? 'css'
      : (path.endsWith('.json') || path.startsWith('/api/')) ? 'json' : 'other';
    kinds[kind] += r.encodedBodySize;
    // Resources asked for before the first screen was found count as first load.
    if (r.startTime <= started) { lastEnd = Math.max(lastEnd, r.responseEnd); firstLoad++; }
  }
  let lcp = 0;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) lcp = Math.max(lcp, e.startTime);
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } catch (e) { /* not supported: stays 0 */ }
  setTimeout(() => done({
    html: nav.encodedBodySize || 0,
    ttfb: nav.responseStart || 0,
    dcl: nav.domContentLoadedEventEnd || 0,
    load: nav.loadEventEnd || 0,
    fcp: paint['first-contentful-paint'] || 0,
    lcp, lastEnd, found: started, resources: res.length, firstLoad, kinds,
    sw: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
  }), 0);
}
(function wait() {
  if (document.querySelector(selector)) collect(); else setTimeout(wait, 5);
})();
"#;

#[derive(serde::Serialize, Default, Clone)]
struct Sample {
    html: f64,
    js: f64,
    css: f64,
    json: f64,
    other: f64,
    ttfb: f64,
    fcp: f64,
    lcp: f64,
    dcl: f64,
    load: f64,
    /// When the last resource of the first load had arrived (ms).
    ready: f64,
    resources: f64,
    from_service_worker: bool,
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

async fn sample(b: &Browser, path: &str, selector: &str) -> Result<Sample> {
    b.open(path).await;
    let v = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        b.client.execute_async(TIMINGS, vec![Value::from(selector)]),
    )
    .await
    .map_err(|_| anyhow!("{path}: `{selector}` did not appear in 60 s"))?
    .map_err(|e| anyhow!("{path}: timing script failed: {e}"))?;
    let k = &v["kinds"];
    Ok(Sample {
        html: num(&v, "html"),
        js: num(k, "js"),
        css: num(k, "css"),
        json: num(k, "json"),
        other: num(k, "other"),
        ttfb: num(&v, "ttfb"),
        fcp: num(&v, "fcp"),
        lcp: num(&v, "lcp"),
        dcl: num(&v, "dcl"),
        load: num(&v, "load"),
        ready: num(&v, "lastEnd").max(num(&v, "dcl")).max(num(&v, "lcp")),
        resources: num(&v, "resources"),
        from_service_worker: v["sw"].as_bool().unwrap_or(false),
    })
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

fn median(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    summarize(&samples.iter().map(f).collect::<Vec<_>>()).median
}

pub async fn run(o: &WebOpts, report: &mut Report) -> Result<()> {
    if let Some(why) = foyer_e2e::browser::skip_reason() {
        eprintln!("[web] skipped: {why}");
        return Ok(());
    }
    let d = Daemon::start().await;
    let (mut onboarding, mut health, mut reload) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.samples {
        eprintln!("[web] fresh browser {} of {}", i + 1, o.samples);
        // Each first navigation opens the browser's first connection to the
        // box (TCP + TLS), in the app's case and in the baseline's alike.
        let b = Browser::start(&d, "bench-web", "en").await;
        health.push(sample(&b, "/api/health", "body").await?);
        b.close().await;
        let b = Browser::start(&d, "bench-web", "en").await;
        onboarding.push(sample(&b, "/", "[data-testid=claim-code]").await?);
        // Let the service worker install and take control, then load again.
        b.wait_for(
            "the service worker to control the page",
            "return navigator.serviceWorker.ready.then(() => true)",
        )
        .await;
        reload.push(sample(&b, "/", "[data-testid=claim-code]").await?);
        b.close().await;
    }

    let mut s = Section::new(
        "Phone web app: first load in headless Chromium (phone screen, loopback, box CA trusted)",
        &[
            "Load",
            "JS (gzip)",
            "CSS (gzip)",
            "JSON (i18n, API)",
            "HTML",
            "First contentful paint",
            "Largest contentful paint",
            "DOMContentLoaded",
            "First screen ready",
            "Ready, ratio to baseline",
        ],
    );
    let base_ready = median(&health, |x| x.ready);
    for (what, v) in [
        (
            format!("`/`, fresh profile: onboarding (median of {})", o.samples),
            &onboarding,
        ),
        (
            "`/` again, same profile (service worker)".to_owned(),
            &reload,
        ),
        (
            "baseline: `GET /api/health` in the same browser".to_owned(),
            &health,
        ),
    ] {
        s.row_owned(vec![
            what,
            kib(median(v, |x| x.js)),
            kib(median(v, |x| x.css)),
            kib(median(v, |x| x.json)),
            kib(median(v, |x| x.html)),
            fmt_ms(median(v, |x| x.fcp)),
            fmt_ms(median(v, |x| x.lcp)),
            fmt_ms(median(v, |x| x.dcl)),
            fmt_ms(median(v, |x| x.ready)),
            format!("{:.2}×", median(v, |x| x.ready) / base_ready.max(0.001)),
        ]);
    }
    let first_js_css = median(&onboarding, |x| x.js + x.css);
    s.note(format!(
        "First load of JS+CSS, compressed: **{}** (aim < 150 KB). \"First screen ready\" is when the onboarding \
         screen's claim-code field exists and every resource asked for until then has arrived (the larger of that, \
         DOMContentLoaded and LCP): a lower bound of time to interactive, since the app does no work after its \
         first render. Sizes are the browser's `encodedBodySize` (bytes on the wire before decompression, headers \
         excluded); a reload served by the service worker sends nothing over the network and the browser reports \
         the uncompressed sizes. Every first navigation opens a new TCP + TLS connection. Reload served by the \
         service worker: {} of {}.",
        kib(first_js_css),
        reload.iter().filter(|x| x.from_service_worker).count(),
        reload.len(),
    ));
    report.sections.push(s);
    report.record(
        "web",
        serde_json::json!({"onboarding": onboarding, "reload": reload, "health": health}),
    );
    Ok(())
}
