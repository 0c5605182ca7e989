//! Startup: exec → healthy `/api/health`, on fresh and on existing data
//! directories; idle memory after startup and setup.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::Ctx;
use crate::daemon::{Daemon, expect};
use crate::report::{Report, Section};
use crate::util::{fmt_mib_kib, fmt_ms, loadavg, ms, status_kib, summarize, yes_no};

const HEALTHY_AIM_MS: f64 = 300.0;
const IDLE_AIM_KIB: u64 = 20 * 1024;

pub struct StartupOpts {
    pub repeats: usize,
    pub idle_secs: u64,
}

/// The daemon's own `startup_ms` from its last "foyerd is ready" log line
/// (the log may carry ANSI colour codes).
fn logged_startup_ms(d: &Daemon) -> Option<f64> {
    let text = std::fs::read_to_string(&d.log_path).ok()?;
    let line = text.lines().rev().find(|l| l.contains("foyerd is ready"))?;
    let plain = strip_ansi(line);
    let rest = &plain[plain.find("startup_ms=")? + "startup_ms=".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colours() {
        assert_eq!(
            super::strip_ansi("a \u{1b}[3mstartup_ms\u{1b}[0m\u{1b}[2m=\u{1b}[0m112"),
            "a startup_ms=112"
        );
    }
}

#[derive(serde::Serialize, Default)]
struct Memory {
    vm_rss_kib: u64,
    rss_anon_kib: u64,
    rss_file_kib: u64,
    vm_hwm_kib: u64,
    threads: u64,
}

fn memory(pid: u32) -> Memory {
    Memory {
        vm_rss_kib: status_kib(pid, "VmRSS").unwrap_or(0),
        rss_anon_kib: status_kib(pid, "RssAnon").unwrap_or(0),
        rss_file_kib: status_kib(pid, "RssFile").unwrap_or(0),
        vm_hwm_kib: status_kib(pid, "VmHWM").unwrap_or(0),
        threads: std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().parse().ok()))
                    .flatten()
            })
            .unwrap_or(0),
    }
}

/// One authenticated request, so that the token path, a reader connection
/// and the doc-type registry have all been exercised before idling.
async fn touch(d: &Daemon) -> Result<()> {
    let r = d
        .client()?
        .post(d.url("/api/docs/bank.operation/_find"))
        .header("authorization", d.bearer()?)
        .json(&json!({"selector": {}, "limit": 1}))
        .send()
        .await?;
    expect(r, 200, "_find").await?;
    Ok(())
}

pub async fn run(ctx: &Ctx, o: &StartupOpts, report: &mut Report) -> Result<()> {
    let dir = ctx.work.join("startup");
    std::fs::create_dir_all(&dir)?;
    eprintln!(
        "[startup] {} starts on fresh data dirs (load {})",
        o.repeats,
        loadavg()
    );
    let mut fresh = Vec::new();
    let mut fresh_logged = Vec::new();
    let mut fresh_rss = Vec::new();
    let mut stops = Vec::new();
    for i in 0..o.repeats {
        let data = dir.join(format!("fresh-{i}"));
        let mut d = Daemon::new(
            &ctx.foyerd,
            data.clone(),
            dir.join(format!("fresh-{i}.log")),
        )?;
        fresh.push(ms(d.start().await?));
        fresh_rss.push(status_kib(d.pid()?, "VmRSS").unwrap_or(0) as f64);
        let (stop, _) = d.stop().await?;
        stops.push(ms(stop));
        if let Some(v) = logged_startup_ms(&d) {
            fresh_logged.push(v);
        }
        std::fs::remove_dir_all(&data).ok();
    }

    // Idle memory: fresh start + setup (claim, login, token) + one request.
    eprintln!(
        "[startup] idle memory after setup; {} restarts on the same data dir",
        o.repeats
    );
    let mut d = Daemon::new(&ctx.foyerd, dir.join("existing"), dir.join("existing.log"))?;
    d.start().await?;
    let pid = d.pid()?;
    let after_start = memory(pid);
    d.setup().await?;
    touch(&d).await?;
    tokio::time::sleep(Duration::from_secs(o.idle_secs)).await;
    let idle_after_setup = memory(pid);
    d.stop().await?;

    let mut existing = Vec::new();
    let mut existing_logged = Vec::new();
    let mut existing_rss = Vec::new();
    for _ in 0..o.repeats {
        existing.push(ms(d.start().await?));
        existing_rss.push(status_kib(d.pid()?, "VmRSS").unwrap_or(0) as f64);
        let (stop, _) = d.stop().await?;
        stops.push(ms(stop));
        if let Some(v) = logged_startup_ms(&d) {
            existing_logged.push(v);
        }
    }
    // Idle memory of a restarted box (no Argon2 run in this process).
    d.start().await?;
    let pid = d.pid()?;
    touch(&d).await?;
    tokio::time::sleep(Duration::from_secs(o.idle_secs)).await;
    let idle_restarted = memory(pid);
    d.stop().await?;

    let fs = summarize(&fresh);
    let es = summarize(&existing);
    let fl = summarize(&fresh_logged);
    let el = summarize(&existing_logged);
    let ss = summarize(&stops);
    let mut s = Section::new(
        "Startup and idle memory (release build)",
        &["Measure", "Result", "Aim", "Met"],
    );
    s.row_owned(vec![
        format!(
            "Exec → healthy `/api/health`, fresh data dir (median of {})",
            o.repeats
        ),
        format!(
            "{} (p95 {}, max {}; daemon-logged `startup_ms` median {})",
            fmt_ms(fs.median),
            fmt_ms(fs.p95),
            fmt_ms(fs.max),
            fmt_ms(fl.median)
        ),
        "< 300 ms".into(),
        yes_no(fs.median < HEALTHY_AIM_MS).into(),
    ]);
    s.row_owned(vec![
        format!(
            "Exec → healthy `/api/health`, existing data dir (median of {})",
            o.repeats
        ),
        format!(
            "{} (p95 {}, max {}; daemon-logged `startup_ms` median {})",
            fmt_ms(es.median),
            fmt_ms(es.p95),
            fmt_ms(es.max),
            fmt_ms(el.median)
        ),
        "< 300 ms".into(),
        yes_no(es.median < HEALTHY_AIM_MS).into(),
    ]);
    s.row_owned(vec![
        format!(
            "Idle VmRSS after start + setup + 1 request, idle {} s",
            o.idle_secs
        ),
        format!(
            "{} (anon {}, file {}; VmHWM {}; {} threads)",
            fmt_mib_kib(idle_after_setup.vm_rss_kib),
            fmt_mib_kib(idle_after_setup.rss_anon_kib),
            fmt_mib_kib(idle_after_setup.rss_file_kib),
            fmt_mib_kib(idle_after_setup.vm_hwm_kib),
            idle_after_setup.threads
        ),
        "< 20 MiB".into(),
        yes_no(idle_after_setup.vm_rss_kib < IDLE_AIM_KIB).into(),
    ]);
    s.row_owned(vec![
        format!(
            "  reference: idle VmRSS of a restarted (claimed) box + 1 request, idle {} s",
            o.idle_secs
        ),
        format!(
            "{} (anon {}, file {}; VmHWM {})",
            fmt_mib_kib(idle_restarted.vm_rss_kib),
            fmt_mib_kib(idle_restarted.rss_anon_kib),
            fmt_mib_kib(idle_restarted.rss_file_kib),
            fmt_mib_kib(idle_restarted.vm_hwm_kib),
        ),
        "< 20 MiB".into(),
        yes_no(idle_restarted.vm_rss_kib < IDLE_AIM_KIB).into(),
    ]);
    s.row_owned(vec![
        "  reference: VmRSS right when healthy (fresh / existing, median)".into(),
        format!(
            "{} / {} (first fresh start before setup: {})",
            fmt_mib_kib(summarize(&fresh_rss).median as u64),
            fmt_mib_kib(summarize(&existing_rss).median as u64),
            fmt_mib_kib(after_start.vm_rss_kib)
        ),
        "—".into(),
        "—".into(),
    ]);
    s.row_owned(vec![
        "  reference: stop (SIGTERM → exit), small vault".into(),
        format!("median {} (max {})", fmt_ms(ss.median), fmt_ms(ss.max)),
        "—".into(),
        "—".into(),
    ]);
    s.note("Exec → healthy: from just before spawning `foyerd serve` to the first 200 from `GET https://localhost:PORT/api/health`, polled every ~1 ms with a client that verifies the box CA. On a fresh data dir the CA only exists once the daemon has made it, so building the client (≈1 ms) is inside the figure. `startup_ms` is the daemon's own figure, from the top of `serve` to \"ready\" (it excludes exec, runtime start and the first request).");
    report.sections.push(s);
    report.record(
        "startup",
        json!({"fresh_ms": fresh, "existing_ms": existing, "fresh_logged_ms": fresh_logged,
               "existing_logged_ms": existing_logged, "fresh_rss_kib": fresh_rss,
               "existing_rss_kib": existing_rss, "stop_ms": stops,
               "after_start": after_start, "idle_after_setup": idle_after_setup,
               "idle_restarted": idle_restarted}),
    );
    Ok(())
}
