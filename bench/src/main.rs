//! `foyer-bench`: benchmarks of the real `foyerd` binary against baselines
//! measured in the same run (raw rusqlite/SQLCipher for documents, `cp` for
//! files), plus latency, memory and startup figures.
//!
//! It starts and stops the daemon itself, on loopback only (127.0.0.1, with
//! `https://localhost:PORT` pinned to it), in a temporary work directory on
//! the same disk as the `cp` baseline. Every loop is bounded by a count and
//! every request by a timeout. It asserts correctness (status codes, stored
//! counts, digests of round-tripped files) but never timing: figures are
//! reported, not judged, except for the "Met" column of the report.
//!
//! `foyer-bench run [--quick] [--only docs,find,files,startup] …` prints a
//! markdown report on stdout (progress on stderr); `--json FILE` keeps the raw
//! numbers. `foyer-bench hold` starts a claimed daemon and keeps it running,
//! for profiling by hand (`perf record -p PID`).

mod daemon;
mod datagen;
mod docs;
mod files;
mod find;
mod lan;
mod phones;
mod raw;
mod report;
mod startup;
mod util;
mod web;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::files::ClientKind;
use crate::report::Report;

#[derive(Parser)]
#[command(
    name = "foyer-bench",
    version,
    about = "Benchmarks of foyerd against same-run baselines"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benchmarks and print a markdown report.
    Run(Box<RunArgs>),
    /// Start a claimed foyerd, print how to reach it, keep it running.
    Hold(HoldArgs),
}

#[derive(Args)]
struct Common {
    /// The foyerd binary (default: `foyerd` next to this executable).
    #[arg(long, value_name = "PATH")]
    foyerd: Option<PathBuf>,
    /// Where the temporary work directory is made (default: $TMPDIR or /tmp).
    /// Data dirs, the `cp` baseline and downloads all live there: one disk.
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Keep the work directory (data dirs, logs) after the run.
    #[arg(long)]
    keep: bool,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 20_260_101)]
    seed: u64,
    /// The daemon's doctype schemas, for the index list of the raw baseline
    /// (default: ../daemon/schemas from this crate's source directory).
    #[arg(long, value_name = "DIR")]
    schemas_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Part {
    /// Create rate (single, bulk) vs raw SQLite; HTTP overhead.
    Docs,
    /// _find latency at growing vault sizes.
    Find,
    /// File upload/download vs cp; RSS during transfers.
    Files,
    /// Exec → healthy; idle RSS.
    Startup,
    /// Memory with phones holding live updates; fan-out latency.
    Phones,
    /// Exec → first mDNS answer from another network namespace (root).
    Lan,
    /// The web app's first load in headless Chromium: bytes and timings.
    Web,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Small sizes (the whole run in under two minutes); explicit size
    /// options still win.
    #[arg(long)]
    quick: bool,
    /// Parts to run (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    only: Vec<Part>,
    /// Documents created with one POST each [full 2000, quick 200].
    #[arg(long)]
    single: Option<usize>,
    /// Number of `_bulk_docs` requests [full 30, quick 5].
    #[arg(long)]
    bulk_batches: Option<usize>,
    /// Documents per `_bulk_docs` request for the create rate.
    #[arg(long, default_value_t = 1000)]
    bulk_size: usize,
    /// Pairs of (health, document) requests for the HTTP overhead [full 2000, quick 300].
    #[arg(long)]
    http_requests: Option<usize>,
    /// Vault sizes at which `_find` is measured, growing [full 100000,1000000, quick 10000,20000].
    #[arg(long = "find-docs", visible_alias = "docs", value_delimiter = ',')]
    find_docs: Vec<u64>,
    /// Documents per `_bulk_docs` request while loading the `_find` vault.
    #[arg(long, default_value_t = 10_000)]
    load_batch: usize,
    /// Queries of each kind per vault size [full 200, quick 50].
    #[arg(long)]
    queries: Option<usize>,
    /// Restarts timed on the loaded `_find` vault [full 5, quick 2].
    #[arg(long)]
    restarts: Option<usize>,
    /// Size of the transferred file in MiB [full 1024, quick 64].
    #[arg(long)]
    file_mib: Option<u64>,
    /// Repeats of each transfer (the median is reported) [full 3, quick 1].
    #[arg(long)]
    repeats: Option<usize>,
    /// Clients for the file transfers.
    #[arg(long, value_delimiter = ',', value_enum, default_values_t = [ClientKind::Curl, ClientKind::CurlH1, ClientKind::Reqwest])]
    clients: Vec<ClientKind>,
    /// Starts per startup measure [full 10, quick 3].
    #[arg(long)]
    startup_repeats: Option<usize>,
    /// Numbers of phones holding a long poll [full 5,50, quick 5].
    #[arg(long, value_delimiter = ',')]
    phones: Vec<usize>,
    /// Starts timed to the first mDNS answer [full 10, quick 3].
    #[arg(long)]
    lan_repeats: Option<usize>,
    /// Fresh browser profiles for the web app's first load [full 5, quick 2].
    #[arg(long)]
    web_samples: Option<usize>,
    /// Seconds idle before reading the idle RSS.
    #[arg(long, default_value_t = 2)]
    idle_secs: u64,
    /// Also write the raw numbers as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct HoldArgs {
    #[command(flatten)]
    common: Common,
    /// How long to keep the daemon running, in seconds (bounded).
    #[arg(long, default_value_t = 600)]
    hold_secs: u64,
}

/// What every part needs.
pub struct Ctx {
    pub foyerd: PathBuf,
    pub work: PathBuf,
    pub seed: u64,
    /// Fields the daemon creates an expression index for (all doctypes).
    pub index_fields: Vec<String>,
}

/// The indexed fields of the daemon's built-in doctypes, in the daemon's order
/// (doctypes sorted by name), each field once: the daemon creates one
/// `docs_ix_<field>` per field name on the shared `docs` table.
fn index_fields(dir: &Path) -> Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut fields: Vec<String> = Vec::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f)?)
            .with_context(|| format!("parse {}", f.display()))?;
        for x in v["x-foyer-indexes"].as_array().into_iter().flatten() {
            if let Some(s) = x.as_str()
                && !fields.iter().any(|f| f == s)
            {
                fields.push(s.to_owned());
            }
        }
    }
    if fields.is_empty() {
        bail!("no x-foyer-indexes in {}", dir.display());
    }
    Ok(fields)
}

/// The `foyerd` under test: `--foyerd`, else the one beside this executable.
fn foyerd_path(c: &Common) -> Result<PathBuf> {
    Ok(match &c.foyerd {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("foyerd"))
            .context("no directory for the current executable")?,
    })
}

fn make_ctx(c: &Common) -> Result<(Ctx, tempfile::TempDir)> {
    let foyerd = foyerd_path(c)?;
    if !foyerd.is_file() {
        bail!(
            "foyerd not found at {}; build it: cargo build --release -p foyerd",
            foyerd.display()
        );
    }
    let base = c.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let tmp = tempfile::Builder::new()
        .prefix("foyer-bench-")
        .tempdir_in(&base)?;
    let schemas = c
        .schemas_dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../daemon/schemas"));
    let fields = index_fields(&schemas)?;
    Ok((
        Ctx {
            foyerd,
            work: tmp.path().to_owned(),
            seed: c.seed,
            index_fields: fields,
        },
        tmp,
    ))
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

/// Machine, disk, build and date, for the report header.
fn environment(ctx: &Ctx) -> String {
    let cpu = sh("lscpu", &[])
        .lines()
        .find_map(|l| l.strip_prefix("Model name:").map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| "?".into());
    let work = ctx.work.to_string_lossy().into_owned();
    let disk = sh("df", &["-h", "--output=source,fstype,size", &work])
        .lines()
        .nth(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into());
    let dev = disk
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches("/dev/")
        .to_owned();
    let rotational = std::fs::read_to_string(format!("/sys/block/{dev}/queue/rotational"))
        .map(|s| format!("queue/rotational={}", s.trim()))
        .unwrap_or_else(|_| "?".into());
    let mem = sh("free", &["-g"])
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(1).map(|v| format!("{v} GiB")))
        .unwrap_or_else(|| "?".into());
    format!(
        "- Date: {}\n- CPU: {} × {} (`lscpu` model name), RAM {}\n- Kernel: {}\n- Disk of the work dir: {} ({})\n- foyerd: {} ({}); git {}\n- Load average (1 min) at start: {}\n",
        sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        sh("nproc", &[]),
        cpu,
        mem,
        sh("uname", &["-sr"]),
        disk,
        rotational,
        ctx.foyerd.display(),
        std::fs::metadata(&ctx.foyerd)
            .map(|m| format!("{:.1} MiB", m.len() as f64 / 1048576.0))
            .unwrap_or_default(),
        sh("git", &["describe", "--always", "--dirty"]),
        util::loadavg()
    )
}

async fn run(a: RunArgs) -> Result<()> {
    let (ctx, tmp) = make_ctx(&a.common)?;
    let q = a.quick;
    let pick =
        |v: Option<usize>, full: usize, quick: usize| v.unwrap_or(if q { quick } else { full });
    let parts: Vec<Part> = if a.only.is_empty() {
        vec![
            Part::Docs,
            Part::Find,
            Part::Files,
            Part::Startup,
            Part::Phones,
            Part::Lan,
            Part::Web,
        ]
    } else {
        a.only.clone()
    };
    let mut report = Report::default();
    let header = environment(&ctx);
    let started = Instant::now();
    eprintln!("[bench] work dir {}", ctx.work.display());

    for part in &parts {
        match part {
            Part::Docs => {
                let o = docs::DocsOpts {
                    single: pick(a.single, 2000, 200),
                    bulk_batches: pick(a.bulk_batches, 30, 5),
                    bulk_size: a.bulk_size,
                    http_requests: pick(a.http_requests, 2000, 300),
                };
                docs::run(&ctx, &o, &mut report).await?;
            }
            Part::Find => {
                let sizes = if !a.find_docs.is_empty() {
                    a.find_docs.clone()
                } else if q {
                    vec![10_000, 20_000]
                } else {
                    vec![100_000, 1_000_000]
                };
                let o = find::FindOpts {
                    sizes,
                    load_batch: a.load_batch,
                    queries: pick(a.queries, 200, 50),
                    restarts: pick(a.restarts, 5, 2),
                };
                find::run(&ctx, &o, &mut report).await?;
            }
            Part::Files => {
                let o = files::FilesOpts {
                    mib: a.file_mib.unwrap_or(if q { 64 } else { 1024 }),
                    repeats: pick(a.repeats, 3, 1),
                    clients: a.clients.clone(),
                };
                files::run(&ctx, &o, &mut report).await?;
            }
            Part::Startup => {
                let o = startup::StartupOpts {
                    repeats: pick(a.startup_repeats, 10, 3),
                    idle_secs: a.idle_secs,
                };
                startup::run(&ctx, &o, &mut report).await?;
            }
            Part::Phones => {
                let counts = if !a.phones.is_empty() {
                    a.phones.clone()
                } else if q {
                    vec![5]
                } else {
                    vec![5, 50]
                };
                let o = phones::PhonesOpts {
                    counts,
                    rounds: pick(None, 20, 5),
                    settle_secs: 3,
                };
                phones::run(&ctx, &o, &mut report).await?;
            }
            Part::Lan => {
                let o = lan::LanOpts {
                    repeats: pick(a.lan_repeats, 10, 3),
                };
                lan::run(&ctx, &o, &mut report).await?;
            }
            Part::Web => {
                let o = web::WebOpts {
                    samples: pick(a.web_samples, 5, 2),
                };
                web::run(&o, &mut report).await?;
            }
        }
    }

    let args: Vec<String> = std::env::args().collect();
    println!("## foyer-bench results\n");
    println!("{header}- Command: `{}`", args.join(" "));
    println!("- Duration: {:.0} s\n", started.elapsed().as_secs_f64());
    println!("{}", report.markdown());
    if let Some(path) = &a.json {
        report.record("environment", header);
        report.record("command", args);
        std::fs::write(path, serde_json::to_string_pretty(&report.raw)?)?;
        eprintln!("[bench] raw numbers in {}", path.display());
    }
    if a.common.keep {
        let kept = tmp.keep();
        eprintln!("[bench] kept {}", kept.display());
    }
    Ok(())
}

async fn hold(a: HoldArgs) -> Result<()> {
    let (ctx, tmp) = make_ctx(&a.common)?;
    let dir = ctx.work.join("hold");
    std::fs::create_dir_all(&dir)?;
    let mut d = daemon::Daemon::new(&ctx.foyerd, dir.join("data"), dir.join("foyerd.log"))?;
    let t = d.start().await?;
    d.setup().await?;
    println!("FOYER_PID={}", d.pid()?);
    println!("FOYER_URL={}", d.url(""));
    println!("FOYER_RESOLVE=localhost:{}:127.0.0.1", d.port);
    println!("FOYER_CA={}", d.ca_path().display());
    println!("FOYER_AUTH='{}'", d.bearer()?);
    println!("FOYER_LOG={}", d.log_path.display());
    eprintln!(
        "[hold] healthy in {:.0} ms; holding for {} s (Ctrl-C to stop)",
        util::ms(t),
        a.hold_secs
    );
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(a.hold_secs)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    d.stop().await?;
    if a.common.keep {
        let kept = tmp.keep();
        eprintln!("[hold] kept {}", kept.display());
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Cmd::Run(a) = &cli.command {
        // The browser harness of the e2e crate (used by the `web` part) runs
        // `$FOYERD_BIN`: point it at the binary under test.
        let foyerd = std::path::absolute(foyerd_path(&a.common)?)?;
        // SAFETY: no other thread exists yet (the runtime is built below), so
        // nothing can read the environment while it changes.
        unsafe { std::env::set_var("FOYERD_BIN", foyerd) };
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Cmd::Run(a) => rt.block_on(run(*a)),
        Cmd::Hold(a) => rt.block_on(hold(a)),
    }
}
