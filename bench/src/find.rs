//! `_find` latency on indexed fields at growing vault sizes; the vault is
//! loaded with `_bulk_docs` (its rate is reported too).

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::Ctx;
use crate::daemon::{Daemon, expect};
use crate::datagen::OpGen;
use crate::docs::DOCTYPE;
use crate::report::{Report, Section};
use crate::util::{fmt_ms, fmt_rate, loadavg, ms, status_kib, summarize};

pub struct FindOpts {
    pub sizes: Vec<u64>,
    pub load_batch: usize,
    pub queries: usize,
    pub restarts: usize,
}

pub async fn run(ctx: &Ctx, o: &FindOpts, report: &mut Report) -> Result<()> {
    let dir = ctx.work.join("find");
    std::fs::create_dir_all(&dir)?;
    eprintln!("[find] starting foyerd (load {})", loadavg());
    let mut d = Daemon::new(&ctx.foyerd, dir.join("data"), dir.join("foyerd.log"))?;
    d.start().await?;
    d.setup().await?;
    let auth = d.bearer()?;
    let bulk_url = d.url(&format!("/api/docs/{DOCTYPE}/_bulk_docs"));
    let find_url = d.url(&format!("/api/docs/{DOCTYPE}/_find"));

    let mut g = OpGen::new(ctx.seed ^ 0xf1d, 0);
    let mut q = OpGen::new(ctx.seed ^ 0x9e7, 0);
    let mut loaded: u64 = 0;
    let mut s = Section::new(
        "Documents: `_find` latency (limit 25, sequential, one client)",
        &["Docs in vault", "Query", "Median", "p95", "Queries"],
    );
    let mut load = Section::new(
        "Documents: loading the `_find` vault with `_bulk_docs`",
        &["Phase", "Docs", "Rate", "Request median", "Request p95"],
    );
    let mut raw = Vec::new();
    for &size in &o.sizes {
        if size < loaded {
            bail!("--find-docs sizes must grow");
        }
        let todo = size - loaded;
        eprintln!(
            "[find] loading {todo} docs to reach {size} (load {})",
            loadavg()
        );
        let mut lat = Vec::new();
        let t0 = Instant::now();
        let mut posted = 0u64;
        while posted < todo {
            let n = (todo - posted).min(o.load_batch as u64) as usize;
            let body = g.bulk_body(n);
            let t = Instant::now();
            let client = d.client()?;
            let r = client
                .post(&bulk_url)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let v = expect(r, 201, "_bulk_docs").await?;
            lat.push(ms(t.elapsed()));
            let ok = v
                .as_array()
                .map(|a| a.iter().filter(|x| x["ok"] == Value::Bool(true)).count())
                .unwrap_or(0);
            if ok != n {
                bail!("_bulk_docs stored {ok} of {n}");
            }
            posted += n as u64;
        }
        let secs = t0.elapsed().as_secs_f64();
        loaded = size;
        let ls = summarize(&lat);
        load.row_owned(vec![
            format!("{} → {}", size - todo, size),
            todo.to_string(),
            format!("{} docs/s", fmt_rate(todo as f64 / secs)),
            fmt_ms(ls.median),
            fmt_ms(ls.p95),
        ]);

        // Warm-up, then the measured queries.
        let date_query = |date: String| json!({"selector": {"date": {"$gte": date}}, "sort": ["date"], "limit": 25});
        let client = d.client()?.clone();
        for _ in 0..10 {
            let r = client
                .post(&find_url)
                .header("authorization", &auth)
                .json(&date_query(q.random_date()))
                .send()
                .await?;
            expect(r, 200, "_find warm-up").await?;
        }
        eprintln!("[find] {} queries at {size} docs", o.queries);
        let mut date_lat = Vec::with_capacity(o.queries);
        let mut eq_lat = Vec::with_capacity(o.queries);
        let mut short_pages = 0usize;
        for _ in 0..o.queries {
            let body = date_query(q.random_date());
            let t = Instant::now();
            let r = client
                .post(&find_url)
                .header("authorization", &auth)
                .json(&body)
                .send()
                .await?;
            let v = expect(r, 200, "_find date").await?;
            date_lat.push(ms(t.elapsed()));
            check_no_warning(&v)?;
            if v["docs"].as_array().map_or(0, Vec::len) < 25 {
                short_pages += 1;
            }

            let vendor = format!("v{}", q.random_below(size));
            let body = json!({"selector": {"vendor_id": vendor}, "limit": 25});
            let t = Instant::now();
            let r = client
                .post(&find_url)
                .header("authorization", &auth)
                .json(&body)
                .send()
                .await?;
            let v = expect(r, 200, "_find vendor_id").await?;
            eq_lat.push(ms(t.elapsed()));
            check_no_warning(&v)?;
            let n = v["docs"].as_array().map_or(0, Vec::len);
            if n != 1 {
                bail!("_find on vendor_id {vendor} returned {n} documents, expected 1");
            }
        }
        let ds = summarize(&date_lat);
        let es = summarize(&eq_lat);
        s.row_owned(vec![
            size.to_string(),
            "`{\"date\":{\"$gte\":<random date>}}`, sort date".into(),
            fmt_ms(ds.median),
            fmt_ms(ds.p95),
            o.queries.to_string(),
        ]);
        s.row_owned(vec![
            size.to_string(),
            "`{\"vendor_id\":<random existing>}` (1 match)".into(),
            fmt_ms(es.median),
            fmt_ms(es.p95),
            o.queries.to_string(),
        ]);
        let pid = d.pid()?;
        raw.push(json!({
            "size": size, "load_docs_per_s": todo as f64 / secs, "load_request_ms": ls,
            "date_ms": ds, "vendor_ms": es, "date_short_pages": short_pages,
            "rss_kib": status_kib(pid, "VmRSS"), "hwm_kib": status_kib(pid, "VmHWM"),
        }));
    }
    s.note("Queries alternate (date range, vendor equality); both are planned on the expression indexes (the response carries no `warning`). Latency is client-side, TLS keep-alive included.");
    let vault_bytes = dir_size(&d.data_dir);
    let (stop_time, _) = d.stop().await?;

    // Restarting on the big vault.
    let mut restart = Vec::new();
    for _ in 0..o.restarts {
        let t = d.start().await?;
        restart.push(ms(t));
        d.stop().await?;
    }
    let rs = summarize(&restart);
    load.note(format!(
        "Data directory after loading: {:.0} MiB. Stop (SIGTERM → exit, WAL checkpoint included) after the load: {}. Exec → healthy on this vault: median {} over {} restarts.",
        vault_bytes as f64 / 1048576.0,
        fmt_ms(ms(stop_time)),
        fmt_ms(rs.median),
        o.restarts
    ));
    report.sections.push(load);
    report.sections.push(s);
    report.record(
        "find",
        json!({"sizes": raw, "vault_bytes": vault_bytes, "stop_ms": ms(stop_time), "restart_ms": rs}),
    );
    Ok(())
}

fn check_no_warning(v: &Value) -> Result<()> {
    if let Some(w) = v.get("warning") {
        bail!("_find was not planned on an index: {w}");
    }
    Ok(())
}

pub fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
