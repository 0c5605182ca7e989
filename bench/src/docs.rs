//! Documents: create rate (single POSTs and `_bulk_docs`) against raw
//! rusqlite in the same run, and the HTTP overhead of a document read.

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::Ctx;
use crate::daemon::{Daemon, expect};
use crate::datagen::OpGen;
use crate::raw::{self, Row, Statements};
use crate::report::{Report, Section};
use crate::util::{fmt_ms, fmt_rate, fmt_ratio, loadavg, ms, summarize, yes_no};

pub const DOCTYPE: &str = "bank.operation";
/// The aim for `_bulk_docs` against raw SQLCipher.
const BULK_AIM: f64 = 0.5;

pub struct DocsOpts {
    pub single: usize,
    pub bulk_batches: usize,
    pub bulk_size: usize,
    pub http_requests: usize,
}

/// Raw-baseline variants, each in its own database file.
struct Variant {
    name: &'static str,
    file: &'static str,
    encrypted: bool,
    statements: Statements,
    all_indexes: bool,
}

/// The first is the baseline of the ratios, the second the plain reference.
const VARIANTS: &[Variant] = &[
    Variant {
        name: "raw SQLCipher, INSERT only, the daemon's indexes (**baseline**)",
        file: "raw-sqlcipher.db",
        encrypted: true,
        statements: Statements::InsertOnly,
        all_indexes: true,
    },
    Variant {
        name: "plain SQLite (unencrypted), INSERT only, the daemon's indexes (reference)",
        file: "raw-plain.db",
        encrypted: false,
        statements: Statements::InsertOnly,
        all_indexes: true,
    },
    Variant {
        name: "raw SQLCipher + per doc: SELECT current rev, UPDATE meta seq (cached statements)",
        file: "raw-sqlcipher-lookup.db",
        encrypted: true,
        statements: Statements::LookupSeq,
        all_indexes: true,
    },
    Variant {
        name: "  … + SAVEPOINT/RELEASE per doc in a bulk (cached)",
        file: "raw-sqlcipher-savepoint.db",
        encrypted: true,
        statements: Statements::LookupSeqSavepoint,
        all_indexes: true,
    },
    Variant {
        name: "  … exactly as the daemon: lookup and seq prepared per doc, savepoints via execute_batch",
        file: "raw-sqlcipher-asdaemon.db",
        encrypted: true,
        statements: Statements::AsDaemon,
        all_indexes: true,
    },
    Variant {
        name: "raw SQLCipher, INSERT only, bank.operation's 4 indexes only",
        file: "raw-sqlcipher-4ix.db",
        encrypted: true,
        statements: Statements::InsertOnly,
        all_indexes: false,
    },
];

/// Documents per round of the interleaved single-insert measure.
const ROUND: usize = 50;

fn rows(seed: u64, n: usize) -> Vec<Row> {
    let mut g = OpGen::new(seed, 0);
    let mut ids = OpGen::new(seed ^ 0x5eed, 0);
    (0..n)
        .map(|i| Row {
            id: ids.doc_id(i as u64),
            rev: ids.rev(),
            body: g.op().to_string(),
        })
        .collect()
}

pub async fn run(ctx: &Ctx, o: &DocsOpts, report: &mut Report) -> Result<()> {
    let dir = ctx.work.join("docs");
    std::fs::create_dir_all(&dir)?;
    eprintln!("[docs] starting foyerd (load {})", loadavg());
    let mut d = Daemon::new(&ctx.foyerd, dir.join("data"), dir.join("foyerd.log"))?;
    d.start().await?;
    d.setup().await?;
    let client = d.client()?.clone();
    let auth = d.bearer()?;
    let create_url = d.url(&format!("/api/docs/{DOCTYPE}"));
    let bulk_url = d.url(&format!("/api/docs/{DOCTYPE}/_bulk_docs"));

    // --- raw baselines: open every variant now, so that the API and the
    // baselines can be measured interleaved (the machine is shared: drift
    // then hits every writer alike).
    let all: Vec<String> = ctx.index_fields.clone();
    let four = vec![
        "date".to_owned(),
        "account".to_owned(),
        "amount".to_owned(),
        "vendor_id".to_owned(),
    ];
    let mut conns = Vec::new();
    for v in VARIANTS {
        let path = dir.join(v.file);
        let key: [u8; 32] = rand::random();
        conns.push(raw::open(
            &path,
            v.encrypted.then_some(&key),
            if v.all_indexes { &all } else { &four },
        )?);
    }
    let single_rows = rows(ctx.seed, o.single);
    let bulk_rows = rows(ctx.seed ^ 2, o.bulk_batches * o.bulk_size);
    let mut raw_single_time = vec![0.0f64; VARIANTS.len()];
    let mut raw_bulk_time = vec![0.0f64; VARIANTS.len()];

    // A few warm-up requests (connection, statement caches), not counted.
    let mut warm = OpGen::new(ctx.seed ^ 1, 10_000_000_000);
    for _ in 0..5 {
        let r = client
            .post(&create_url)
            .header("authorization", &auth)
            .json(&warm.op())
            .send()
            .await?;
        expect(r, 201, "warm-up POST").await?;
    }

    // --- single inserts: API and baselines in rounds of ROUND documents -------
    let mut g = OpGen::new(ctx.seed, 0);
    let bodies: Vec<Vec<u8>> = (0..o.single)
        .map(|_| serde_json::to_vec(&g.op()).expect("JSON"))
        .collect();
    eprintln!(
        "[docs] {} single creates: API and {} baselines interleaved (load {})",
        o.single,
        VARIANTS.len(),
        loadavg()
    );
    let mut ids = Vec::with_capacity(o.single);
    let mut lat = Vec::with_capacity(o.single);
    let mut api_single_secs = 0.0f64;
    let writers = VARIANTS.len() + 1;
    for (round, chunk) in bodies.chunks(ROUND).enumerate() {
        let from = round * ROUND;
        let part = &single_rows[from..from + chunk.len()];
        // Rotate the order of the writers from round to round (writer 0 is
        // the API), so that none always follows the same neighbour.
        for k in 0..writers {
            let w = (k + round) % writers;
            if w == 0 {
                let t0 = Instant::now();
                for body in chunk {
                    let t = Instant::now();
                    let r = client
                        .post(&create_url)
                        .header("authorization", &auth)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    let v = expect(r, 201, "POST /api/docs").await?;
                    lat.push(ms(t.elapsed()));
                    ids.push(v["_id"].as_str().unwrap_or_default().to_owned());
                }
                api_single_secs += t0.elapsed().as_secs_f64();
            } else {
                let i = w - 1;
                let (t, _) = raw::insert(
                    &mut conns[i],
                    DOCTYPE,
                    part,
                    1,
                    VARIANTS[i].statements,
                    from as i64,
                )?;
                raw_single_time[i] += t.as_secs_f64();
            }
        }
    }
    let api_single = o.single as f64 / api_single_secs;
    let api_single_lat = summarize(&lat);

    // --- bulk: each API request followed by the same batch on each baseline ---
    eprintln!(
        "[docs] {} x _bulk_docs of {}: API and baselines interleaved (load {})",
        o.bulk_batches,
        o.bulk_size,
        loadavg()
    );
    let mut g = OpGen::new(ctx.seed ^ 2, o.single as u64);
    let batches: Vec<Vec<u8>> = (0..o.bulk_batches)
        .map(|_| g.bulk_body(o.bulk_size))
        .collect();
    let mut bulk_lat = Vec::with_capacity(o.bulk_batches);
    let mut api_bulk_secs = 0.0f64;
    let mut raw_bulk_tx: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
    for (j, body) in batches.into_iter().enumerate() {
        let part = &bulk_rows[j * o.bulk_size..(j + 1) * o.bulk_size];
        let mut body = Some(body);
        for k in 0..writers {
            let w = (k + j) % writers;
            if w == 0 {
                let t = Instant::now();
                let r = client
                    .post(&bulk_url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .body(body.take().unwrap_or_default())
                    .send()
                    .await?;
                let v = expect(r, 201, "POST _bulk_docs").await?;
                let took = t.elapsed();
                api_bulk_secs += took.as_secs_f64();
                bulk_lat.push(ms(took));
                let ok = v
                    .as_array()
                    .map(|a| a.iter().filter(|x| x["ok"] == Value::Bool(true)).count())
                    .unwrap_or(0);
                if ok != o.bulk_size {
                    bail!("_bulk_docs stored {ok} of {} documents", o.bulk_size);
                }
            } else {
                let i = w - 1;
                let first = (o.single + j * o.bulk_size) as i64;
                let (t, _) = raw::insert(
                    &mut conns[i],
                    DOCTYPE,
                    part,
                    o.bulk_size,
                    VARIANTS[i].statements,
                    first,
                )?;
                raw_bulk_time[i] += t.as_secs_f64();
                raw_bulk_tx[i].push(ms(t));
            }
        }
    }
    let api_bulk = (o.bulk_batches * o.bulk_size) as f64 / api_bulk_secs;
    let api_bulk_lat = summarize(&bulk_lat);
    let raw_single: Vec<f64> = raw_single_time
        .iter()
        .map(|t| o.single as f64 / t)
        .collect();
    let raw_bulk: Vec<f64> = raw_bulk_time
        .iter()
        .map(|t| bulk_rows.len() as f64 / t)
        .collect();
    for v in VARIANTS {
        if v.encrypted && raw::is_plaintext(&dir.join(v.file)) {
            bail!("{} is not encrypted", v.file);
        }
    }

    // --- HTTP overhead: bare handler vs authenticated read, interleaved -----
    eprintln!("[docs] HTTP: {} x (health, GET doc)", o.http_requests);
    let health_url = d.url("/api/health");
    let mut h_lat = Vec::with_capacity(o.http_requests);
    let mut g_lat = Vec::with_capacity(o.http_requests);
    let mut p_lat = Vec::with_capacity(o.http_requests);
    let mut pick = OpGen::new(ctx.seed ^ 3, 0);
    for i in 0..o.http_requests + 20 {
        let t = Instant::now();
        let r = client.get(&health_url).send().await?;
        expect(r, 200, "GET /api/health").await?;
        let h = ms(t.elapsed());
        let k = pick.random_below(ids.len() as u64) as usize;
        let t = Instant::now();
        let r = client
            .get(d.url(&format!("/api/docs/{DOCTYPE}/{}", ids[k])))
            .header("authorization", &auth)
            .send()
            .await?;
        expect(r, 200, "GET /api/docs/{id}").await?;
        let gd = ms(t.elapsed());
        // The same kind of row read on the baseline database, in process.
        let t = Instant::now();
        let (_rev, body) = raw::point_read(&conns[0], DOCTYPE, &single_rows[k].id)?;
        let _: Value = serde_json::from_str(&body)?;
        let pd = ms(t.elapsed());
        if i >= 20 {
            h_lat.push(h);
            g_lat.push(gd);
            p_lat.push(pd);
        }
    }
    let fresh = d.unpooled_client()?;
    let n_fresh = (o.http_requests / 10).max(20);
    let mut f_lat = Vec::with_capacity(n_fresh);
    for _ in 0..n_fresh {
        let t = Instant::now();
        let r = fresh.get(&health_url).send().await?;
        expect(r, 200, "GET /api/health (new connection)").await?;
        f_lat.push(ms(t.elapsed()));
    }
    let pid = d.pid()?;
    let rss_after = crate::util::status_kib(pid, "VmRSS").unwrap_or(0);
    d.stop().await?;
    drop(conns);

    // --- report ---------------------------------------------------------------
    let mut s = Section::new(
        "Documents: create rate",
        &[
            "Measure",
            "foyerd (HTTPS API)",
            "Baseline, same run",
            "Ratio",
            "Aim",
            "Met",
        ],
    );
    s.row_owned(vec![
        format!(
            "Create, one POST per doc (1 commit each), {} docs",
            o.single
        ),
        format!(
            "{} docs/s (latency median {}, p95 {})",
            fmt_rate(api_single),
            fmt_ms(api_single_lat.median),
            fmt_ms(api_single_lat.p95)
        ),
        format!(
            "raw SQLCipher, 1 tx/doc: {} docs/s",
            fmt_rate(raw_single[0])
        ),
        fmt_ratio(api_single / raw_single[0]),
        "—".into(),
        "—".into(),
    ]);
    s.row_owned(vec![
        "  reference: plain SQLite, 1 tx/doc".into(),
        "".into(),
        format!("{} docs/s", fmt_rate(raw_single[1])),
        fmt_ratio(api_single / raw_single[1]),
        "—".into(),
        "—".into(),
    ]);
    let bulk_ratio = api_bulk / raw_bulk[0];
    s.row_owned(vec![
        format!(
            "Create, `_bulk_docs` of {} ({} requests)",
            o.bulk_size, o.bulk_batches
        ),
        format!(
            "{} docs/s (request median {}, p95 {})",
            fmt_rate(api_bulk),
            fmt_ms(api_bulk_lat.median),
            fmt_ms(api_bulk_lat.p95)
        ),
        format!(
            "raw SQLCipher, 1 tx/{}: {} docs/s",
            o.bulk_size,
            fmt_rate(raw_bulk[0])
        ),
        fmt_ratio(bulk_ratio),
        "≥ 50%".into(),
        yes_no(bulk_ratio >= BULK_AIM).into(),
    ]);
    s.row_owned(vec![
        format!("  reference: plain SQLite, 1 tx/{}", o.bulk_size),
        "".into(),
        format!("{} docs/s", fmt_rate(raw_bulk[1])),
        fmt_ratio(api_bulk / raw_bulk[1]),
        "—".into(),
        "—".into(),
    ]);
    s.note(format!(
        "Measured interleaved: in each round, {ROUND} single creates through the API and the same {ROUND} rows on each raw database; each `_bulk_docs` request and the same batch on each raw database; the order of the writers rotates from round to round. Rates are documents over the summed time of each writer. Rows are identical in shape (same generator, ids shaped like the daemon's UUIDv7, same JSON body text); the raw baselines run `BEGIN IMMEDIATE … COMMIT` with the daemon's pragmas (SQLCipher raw key, WAL, synchronous=FULL, temp_store=MEMORY)."
    ));
    s.note(format!(
        "Indexes on `docs` (as the daemon creates them, one per field of every doctype): {} expression indexes ({}), plus `UNIQUE(doctype, id)` and `docs_by_seq`.",
        all.len(),
        all.join(", ")
    ));
    report.sections.push(s);

    let mut w = Section::new(
        "Documents: where the create time goes (same run, same rows)",
        &["Writer", "1 tx/doc (docs/s)", "1 tx/1000 docs (docs/s)"],
    );
    w.row_owned(vec![
        "foyerd over HTTPS".into(),
        fmt_rate(api_single),
        fmt_rate(api_bulk),
    ]);
    for (i, v) in VARIANTS.iter().enumerate() {
        w.row_owned(vec![
            v.name.into(),
            fmt_rate(raw_single[i]),
            fmt_rate(raw_bulk[i]),
        ]);
    }
    report.sections.push(w);

    let hs = summarize(&h_lat);
    let gs = summarize(&g_lat);
    let fs = summarize(&f_lat);
    let ps = summarize(&p_lat);
    let mut h = Section::new(
        "HTTP overhead (sequential requests, one client)",
        &["Request", "Median", "p95", "Ratio to bare handler (median)"],
    );
    h.row_owned(vec![
        "`GET /api/health` (bare handler, no auth, no DB), keep-alive".into(),
        fmt_ms(hs.median),
        fmt_ms(hs.p95),
        "1.00×".into(),
    ]);
    h.row_owned(vec![
        format!("`GET /api/docs/{DOCTYPE}/{{id}}`, bearer token, keep-alive"),
        fmt_ms(gs.median),
        fmt_ms(gs.p95),
        format!("{:.2}×", gs.median / hs.median),
    ]);
    h.row_owned(vec![
        "`GET /api/health`, new TCP + TLS connection per request".into(),
        fmt_ms(fs.median),
        fmt_ms(fs.p95),
        format!("{:.2}×", fs.median / hs.median),
    ]);
    h.row_owned(vec![
        "reference: the same point read on the raw SQLCipher database + JSON parse, in process"
            .into(),
        fmt_ms(ps.median),
        fmt_ms(ps.p95),
        format!("{:.2}×", ps.median / hs.median),
    ]);
    h.note(format!(
        "{} interleaved triples (health, document, in-process read) after 20 warm-up triples; {} requests on new connections. Client: reqwest 0.12 + rustls (HTTP/1.1).",
        o.http_requests, n_fresh
    ));
    report.sections.push(h);

    report.record(
        "docs",
        serde_json::json!({
            "single": {"n": o.single, "api_docs_per_s": api_single, "api_latency_ms": api_single_lat,
                        "seconds": api_single_secs},
            "bulk": {"batches": o.bulk_batches, "size": o.bulk_size, "api_docs_per_s": api_bulk,
                      "api_request_ms": api_bulk_lat, "api_requests_ms": bulk_lat, "seconds": api_bulk_secs},
            "raw_variants": VARIANTS.iter().enumerate().map(|(i, v)| serde_json::json!({
                "name": v.name, "single_docs_per_s": raw_single[i], "bulk_docs_per_s": raw_bulk[i],
                "bulk_tx_ms": raw_bulk_tx[i]})).collect::<Vec<_>>(),
            "index_fields": all,
            "http": {"health_ms": hs, "get_doc_ms": gs, "health_new_conn_ms": fs, "raw_point_read_ms": ps},
            "daemon_rss_kib_after": rss_after,
        }),
    );
    Ok(())
}
