//! Phones holding live updates: the daemon's memory while N phones each keep
//! a long poll open on the change feed (what the web app does), and how fast
//! a new document reaches all of them.
//!
//! Each phone is its own HTTPS client (its own TCP and TLS connection), so the
//! figure includes the per-connection cost a real phone brings: TLS session,
//! hyper connection, the parked long-poll request.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use serde_json::json;
use tokio::sync::mpsc;

use crate::Ctx;
use crate::daemon::{Daemon, expect};
use crate::report::{Report, Section};
use crate::util::{fmt_mib_kib, fmt_ms, ms, status_kib, summarize};

pub struct PhonesOpts {
    /// Numbers of phones measured, one after the other on the same daemon.
    pub counts: Vec<usize>,
    /// Documents created while the phones listen (fan-out latency samples).
    pub rounds: usize,
    /// Seconds the phones idle in their long polls before memory is read.
    pub settle_secs: u64,
}

/// One phone: long polls the change feed forever, reporting each arrival.
async fn phone(
    client: reqwest::Client,
    url: String,
    bearer: String,
    mut since: i64,
    arrivals: mpsc::Sender<(usize, Instant)>,
    index: usize,
) -> Result<()> {
    loop {
        let r = client
            .get(&url)
            .query(&[
                ("feed", "longpoll".to_owned()),
                ("timeout", "60000".to_owned()),
                ("since", since.to_string()),
            ])
            .header(reqwest::header::AUTHORIZATION, &bearer)
            .send()
            .await?;
        let v = expect(r, 200, "GET /api/changes (long poll)").await?;
        let at = Instant::now();
        since = v["last_seq"]
            .as_i64()
            .ok_or_else(|| anyhow!("no last_seq in {v}"))?;
        if v["results"].as_array().is_some_and(|r| !r.is_empty())
            && arrivals.send((index, at)).await.is_err()
        {
            return Ok(());
        }
    }
}

#[derive(serde::Serialize)]
struct Measured {
    phones: usize,
    rss_idle_kib: u64,
    rss_holding_kib: u64,
    rss_after_rounds_kib: u64,
    fanout_ms_median: f64,
    fanout_ms_p95: f64,
    fanout_ms_max: f64,
}

pub async fn run(ctx: &Ctx, o: &PhonesOpts, report: &mut Report) -> Result<()> {
    let dir = ctx.work.join("phones");
    std::fs::create_dir_all(&dir)?;
    let mut d = Daemon::new(&ctx.foyerd, dir.join("data"), dir.join("foyerd.log"))?;
    d.start().await?;
    d.setup().await?;
    let pid = d.pid()?;
    let pem = std::fs::read_to_string(d.ca_path())?;
    let bearer = d.bearer()?;
    let owner = d.client()?.clone();
    let feed = d.url("/api/changes");
    let docs = d.url("/api/docs/note");

    let mut results = Vec::new();
    for &n in &o.counts {
        eprintln!("[phones] {n} phones holding a long poll");
        // A document so that `since` is not 0, then idle memory with no phone.
        let r = owner
            .post(&docs)
            .header(reqwest::header::AUTHORIZATION, &bearer)
            .json(&json!({"title": "warm-up", "content": "x"}))
            .send()
            .await?;
        expect(r, 201, "POST /api/docs/note").await?;
        // The feed's end, so that the phones wait for what comes next.
        let mut since = 0i64;
        loop {
            let v = expect(
                owner
                    .get(&feed)
                    .query(&[("since", since.to_string()), ("limit", "10000".to_owned())])
                    .header(reqwest::header::AUTHORIZATION, &bearer)
                    .send()
                    .await?,
                200,
                "GET /api/changes",
            )
            .await?;
            let next = v["last_seq"].as_i64().context("last_seq")?;
            if next == since {
                break;
            }
            since = next;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_idle = status_kib(pid, "VmRSS").unwrap_or(0);

        let (tx, mut rx) = mpsc::channel(n * 4);
        let mut tasks = Vec::new();
        for i in 0..n {
            let client = d.build_client(&pem, true)?;
            tasks.push(tokio::spawn(phone(
                client,
                feed.clone(),
                bearer.clone(),
                since,
                tx.clone(),
                i,
            )));
        }
        drop(tx);
        tokio::time::sleep(Duration::from_secs(o.settle_secs)).await;
        let rss_holding = status_kib(pid, "VmRSS").unwrap_or(0);

        let mut fanout = Vec::new();
        for round in 0..o.rounds {
            let t0 = Instant::now();
            let r = owner
                .post(&docs)
                .header(reqwest::header::AUTHORIZATION, &bearer)
                .json(&json!({"title": format!("round {round}"), "content": "live"}))
                .send()
                .await?;
            expect(r, 201, "POST /api/docs/note").await?;
            let mut seen = vec![false; n];
            let mut left = n;
            while left > 0 {
                let (i, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                    .await
                    .map_err(|_| anyhow!("round {round}: {left} phones heard nothing in 30 s"))?
                    .ok_or_else(|| anyhow!("a phone stopped; see {}", d.log_path.display()))?;
                if !seen[i] {
                    seen[i] = true;
                    left -= 1;
                    fanout.push(ms(at.saturating_duration_since(t0)));
                }
            }
            // Let every phone park its next long poll.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let rss_after = status_kib(pid, "VmRSS").unwrap_or(0);
        for t in tasks {
            t.abort();
        }
        let f = summarize(&fanout);
        results.push(Measured {
            phones: n,
            rss_idle_kib: rss_idle,
            rss_holding_kib: rss_holding,
            rss_after_rounds_kib: rss_after,
            fanout_ms_median: f.median,
            fanout_ms_p95: f.p95,
            fanout_ms_max: f.max,
        });
        // Connections close as the clients drop; give the daemon a moment.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    d.stop().await?;

    let mut s = Section::new(
        "Phones holding live updates (long poll on the change feed)",
        &[
            "Phones",
            "RSS, no phone",
            "RSS, phones waiting",
            "Per phone",
            "RSS after the rounds",
            "New document → all phones (median / p95 / max)",
        ],
    );
    for m in &results {
        let per = (m.rss_holding_kib.saturating_sub(m.rss_idle_kib)) as f64 / m.phones as f64;
        s.row_owned(vec![
            m.phones.to_string(),
            fmt_mib_kib(m.rss_idle_kib),
            fmt_mib_kib(m.rss_holding_kib),
            format!("{per:.0} KiB"),
            fmt_mib_kib(m.rss_after_rounds_kib),
            format!(
                "{} / {} / {}",
                fmt_ms(m.fanout_ms_median),
                fmt_ms(m.fanout_ms_p95),
                fmt_ms(m.fanout_ms_max)
            ),
        ]);
    }
    s.note(format!(
        "Each phone is its own HTTPS connection (TLS 1.3, HTTP/1.1) holding `GET /api/changes?feed=longpoll&timeout=60000`; \
         {} documents are created while they wait and every phone must see each one. RSS is `VmRSS` of foyerd after {} s of waiting.",
        o.rounds, o.settle_secs
    ));
    report.sections.push(s);
    report.record("phones", &results);
    Ok(())
}
