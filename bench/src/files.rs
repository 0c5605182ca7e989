//! Files: upload and download of a large file over HTTPS against `cp` of the
//! same file on the same disk, with the daemon's memory during the transfer.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rand::{RngCore as _, SeedableRng as _};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Ctx;
use crate::daemon::{Daemon, expect};
use crate::report::{Report, Section};
use crate::util::{
    CpuSampler, RssSampler, cpu_seconds, fmt_mib_kib, fmt_ratio, loadavg, reset_hwm, status_kib,
    summarize, yes_no,
};

const TRANSFER_AIM: f64 = 0.7;
const RSS_AIM_KIB: u64 = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum ClientKind {
    /// curl, HTTP/2 negotiated by ALPN (OpenSSL).
    Curl,
    /// curl forced to HTTP/1.1.
    CurlH1,
    /// reqwest 0.12 + rustls, HTTP/1.1, streaming from/to disk.
    Reqwest,
}

impl ClientKind {
    fn label(self) -> &'static str {
        match self {
            ClientKind::Curl => "curl (HTTP/2)",
            ClientKind::CurlH1 => "curl --http1.1",
            ClientKind::Reqwest => "reqwest (HTTP/1.1)",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            ClientKind::Curl => "curl-h2",
            ClientKind::CurlH1 => "curl-h1",
            ClientKind::Reqwest => "reqwest",
        }
    }
}

pub struct FilesOpts {
    pub mib: u64,
    pub repeats: usize,
    pub clients: Vec<ClientKind>,
}

#[derive(serde::Serialize, Clone)]
struct Transfer {
    client: &'static str,
    direction: &'static str,
    repeat: usize,
    seconds: f64,
    mib_per_s: f64,
    daemon_cpu_s: f64,
    client_cpu_s: f64,
    hwm_kib: u64,
    max_sampled_rss_kib: u64,
    rss_samples: usize,
    http_version: String,
    /// Downloads: seconds of the final fsync (inside `seconds`).
    sync_s: f64,
}

/// Writes `mib` MiB of random bytes and syncs them; returns the SHA-256.
fn random_file(path: &Path, mib: u64, seed: u64) -> Result<[u8; 32]> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut f = std::fs::File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut h = Sha256::new();
    for _ in 0..mib {
        rng.fill_bytes(&mut buf);
        h.update(&buf);
        f.write_all(&buf)?;
    }
    f.sync_all()?;
    Ok(h.finalize().into())
}

fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finalize().into())
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("run {what} (is it installed?)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `cp SRC DST && sync DST` (fsync of the copy), timed; returns the total
/// and the part spent in `sync`.
fn cp_sync(src: &Path, dst: &Path) -> Result<(Duration, Duration)> {
    let t = Instant::now();
    run_checked(Command::new("cp").arg(src).arg(dst), "cp")?;
    let s = Instant::now();
    run_checked(Command::new("sync").arg(dst), "sync FILE")?;
    Ok((t.elapsed(), s.elapsed()))
}

struct Ctl<'a> {
    d: &'a Daemon,
    pid: u32,
    header_file: PathBuf,
}

impl Ctl<'_> {
    fn curl(&self, kind: ClientKind) -> Command {
        let mut c = Command::new("curl");
        c.args(["-sS", "--noproxy", "*", "--max-time", "900"])
            .arg("--cacert")
            .arg(self.d.ca_path())
            .arg("--resolve")
            .arg(format!("localhost:{}:127.0.0.1", self.d.port))
            .arg("-H")
            .arg(format!("@{}", self.header_file.display()));
        if kind == ClientKind::CurlH1 {
            c.arg("--http1.1");
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs a curl command, sampling its CPU time; returns (stdout, cpu seconds).
    fn run_curl(&self, mut cmd: Command) -> Result<(String, f64)> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().context("spawn curl")?;
        let sampler = CpuSampler::start(child.id(), Duration::from_millis(10));
        let out = child.wait_with_output()?;
        let cpu = sampler.finish();
        if !out.status.success() {
            bail!(
                "curl failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), cpu))
    }

    async fn upload(
        &self,
        kind: ClientKind,
        src: &Path,
        size: u64,
        path: &str,
    ) -> Result<(f64, String, String)> {
        let url = self.d.url(&format!("/api/files/{path}"));
        match kind {
            ClientKind::Curl | ClientKind::CurlH1 => {
                let mut c = self.curl(kind);
                c.arg("-T")
                    .arg(src)
                    .args(["-H", "Content-Type: application/octet-stream"])
                    .args(["-o", "-", "-w", "\n%{http_code} %{http_version}"])
                    .arg(&url);
                let (out, cpu) = self.run_curl(c)?;
                let (body, tail) = out.rsplit_once('\n').unwrap_or(("", &out));
                let mut parts = tail.split_whitespace();
                let code = parts.next().unwrap_or("");
                if code != "201" && code != "200" {
                    bail!("upload answered {code}: {body}");
                }
                Ok((
                    cpu,
                    format!("HTTP/{}", parts.next().unwrap_or("?")),
                    body.to_owned(),
                ))
            }
            ClientKind::Reqwest => {
                let cpu0 = cpu_seconds(std::process::id()).unwrap_or(0.0);
                let f = tokio::fs::File::open(src).await?;
                let stream = tokio_util::io::ReaderStream::with_capacity(f, 256 * 1024);
                let r = self
                    .d
                    .client()?
                    .put(&url)
                    .header("authorization", self.d.bearer()?)
                    .header("content-type", "application/octet-stream")
                    .header("content-length", size)
                    .body(reqwest::Body::wrap_stream(stream))
                    .send()
                    .await?;
                let version = format!("{:?}", r.version());
                let status = r.status().as_u16();
                let v = expect(r, status, "upload").await?;
                if status != 201 && status != 200 {
                    bail!("upload answered {status}: {v}");
                }
                let cpu = cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu0;
                Ok((cpu, version, v.to_string()))
            }
        }
    }

    /// Returns the client CPU seconds, the protocol and the seconds spent in
    /// the final fsync of the downloaded file.
    async fn download(
        &self,
        kind: ClientKind,
        path: &str,
        dst: &Path,
    ) -> Result<(f64, String, f64)> {
        let url = self.d.url(&format!("/api/files/{path}"));
        match kind {
            ClientKind::Curl | ClientKind::CurlH1 => {
                let mut c = self.curl(kind);
                c.arg("-o")
                    .arg(dst)
                    .args(["-w", "%{http_code} %{http_version}"])
                    .arg(&url);
                let (out, cpu) = self.run_curl(c)?;
                let mut parts = out.split_whitespace();
                let code = parts.next().unwrap_or("");
                if code != "200" {
                    bail!("download answered {code}");
                }
                let t = Instant::now();
                run_checked(Command::new("sync").arg(dst), "sync FILE")?;
                Ok((
                    cpu,
                    format!("HTTP/{}", parts.next().unwrap_or("?")),
                    t.elapsed().as_secs_f64(),
                ))
            }
            ClientKind::Reqwest => {
                let cpu0 = cpu_seconds(std::process::id()).unwrap_or(0.0);
                let mut r = self
                    .d
                    .client()?
                    .get(&url)
                    .header("authorization", self.d.bearer()?)
                    .send()
                    .await?;
                if r.status() != 200 {
                    bail!("download answered {}", r.status());
                }
                let version = format!("{:?}", r.version());
                let mut out =
                    std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dst)?);
                while let Some(chunk) = r.chunk().await? {
                    out.write_all(&chunk)?;
                }
                let f = out.into_inner().map_err(|e| anyhow!("flush: {e}"))?;
                let t = Instant::now();
                f.sync_all()?;
                let synced = t.elapsed().as_secs_f64();
                let cpu = cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu0;
                Ok((cpu, version, synced))
            }
        }
    }
}

/// One core's ChaCha20-Poly1305 (64 KiB chunks) + SHA-256 over `mib` MiB,
/// with the RustCrypto crates the daemon uses: the ceiling of its single
/// blob-writer thread.
fn crypto_ceiling(mib: u64) -> (f64, f64, f64) {
    use chacha20poly1305::aead::{AeadInPlace, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, Nonce};
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let mut buf = vec![3u8; 64 * 1024];
    let chunks = mib * 16;
    let t = Instant::now();
    for i in 0..chunks {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&i.to_be_bytes());
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut buf)
            .expect("encrypt");
        std::hint::black_box(tag);
    }
    let enc = mib as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut h = Sha256::new();
    for _ in 0..chunks {
        h.update(&buf);
    }
    std::hint::black_box(h.finalize());
    let sha = mib as f64 / t.elapsed().as_secs_f64();
    let both = 1.0 / (1.0 / enc + 1.0 / sha);
    (enc, sha, both)
}

pub async fn run(ctx: &Ctx, o: &FilesOpts, report: &mut Report) -> Result<()> {
    let dir = ctx.work.join("files");
    std::fs::create_dir_all(&dir)?;
    let size = o.mib * 1024 * 1024;
    eprintln!("[files] writing a {} MiB random file", o.mib);
    let src = dir.join("src.bin");
    let src_sha = random_file(&src, o.mib, ctx.seed)?;

    eprintln!("[files] starting foyerd (load {})", loadavg());
    let mut d = Daemon::new(&ctx.foyerd, dir.join("data"), dir.join("foyerd.log"))?;
    d.start().await?;
    d.setup().await?;
    let pid = d.pid()?;
    let header_file = dir.join("auth-header");
    std::fs::write(&header_file, format!("Authorization: {}\n", d.bearer()?))?;
    let ctl = Ctl {
        d: &d,
        pid,
        header_file,
    };

    let mut cp_times = Vec::new();
    let mut cp_sync_times = Vec::new();
    let mut transfers: Vec<Transfer> = Vec::new();
    for rep in 0..o.repeats {
        eprintln!("[files] repeat {}: cp + sync (load {})", rep + 1, loadavg());
        let dst = dir.join(format!("cp-{rep}.bin"));
        let (t, sync) = cp_sync(&src, &dst)?;
        cp_times.push(t.as_secs_f64());
        cp_sync_times.push(sync.as_secs_f64());
        std::fs::remove_file(&dst)?;

        for &kind in &o.clients {
            let path = format!("bench/{}-{rep}.bin", kind.slug());
            for direction in ["upload", "download"] {
                eprintln!(
                    "[files] repeat {}: {direction} with {}",
                    rep + 1,
                    kind.label()
                );
                let dl = dir.join(format!("dl-{}-{rep}.bin", kind.slug()));
                reset_hwm(ctl.pid)?;
                let sampler = RssSampler::start(ctl.pid, Duration::from_millis(10));
                let cpu0 = cpu_seconds(ctl.pid).unwrap_or(0.0);
                let t = Instant::now();
                let (client_cpu, version, sync_s) = if direction == "upload" {
                    let (cpu, version, body) = ctl.upload(kind, &src, size, &path).await?;
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    if let Some(sha) = v.get("sha256").and_then(|s| s.as_str())
                        && sha != hex::encode(src_sha)
                    {
                        bail!(
                            "the daemon stored sha256 {sha}, expected {}",
                            hex::encode(src_sha)
                        );
                    }
                    (cpu, version, 0.0)
                } else {
                    ctl.download(kind, &path, &dl).await?
                };
                let secs = t.elapsed().as_secs_f64();
                let daemon_cpu = cpu_seconds(ctl.pid).unwrap_or(0.0) - cpu0;
                let (max_rss, samples) = sampler.finish();
                let hwm = status_kib(ctl.pid, "VmHWM").unwrap_or(0);
                if direction == "download" {
                    if std::fs::metadata(&dl)?.len() != size || sha256_file(&dl)? != src_sha {
                        bail!("the downloaded file differs from the uploaded one");
                    }
                    std::fs::remove_file(&dl)?;
                }
                transfers.push(Transfer {
                    client: kind.label(),
                    direction,
                    repeat: rep,
                    seconds: secs,
                    mib_per_s: o.mib as f64 / secs,
                    daemon_cpu_s: daemon_cpu,
                    client_cpu_s: client_cpu,
                    hwm_kib: hwm,
                    max_sampled_rss_kib: max_rss,
                    rss_samples: samples,
                    http_version: version,
                    sync_s,
                });
            }
        }
    }
    let idle_rss = status_kib(pid, "VmRSS").unwrap_or(0);
    d.stop().await?;
    let crypto_mib = o.mib.min(512);
    let (enc, sha, both) = crypto_ceiling(crypto_mib);

    // --- report ---------------------------------------------------------------
    let cp = summarize(
        &cp_times
            .iter()
            .map(|s| o.mib as f64 / s)
            .collect::<Vec<_>>(),
    );
    let mut s = Section::new(
        &format!(
            "Files: {} MiB transfer over HTTPS (encryption + SHA-256 on)",
            o.mib
        ),
        &[
            "Measure",
            "foyerd",
            "Baseline: `cp` + `sync`, same disk, same run",
            "Ratio",
            "Aim",
            "Met",
        ],
    );
    let median_of = |client: &str, direction: &str, f: &dyn Fn(&Transfer) -> f64| {
        let v: Vec<f64> = transfers
            .iter()
            .filter(|t| t.client == client && t.direction == direction)
            .map(f)
            .collect();
        summarize(&v).median
    };
    for direction in ["upload", "download"] {
        for &kind in &o.clients {
            let rate = median_of(kind.label(), direction, &|t| t.mib_per_s);
            let r = rate / cp.median;
            s.row_owned(vec![
                format!("{} ({})", capitalize(direction), kind.label()),
                format!("{rate:.0} MiB/s"),
                format!("{:.0} MiB/s", cp.median),
                fmt_ratio(r),
                "≥ 70%".into(),
                yes_no(r >= TRANSFER_AIM).into(),
            ]);
        }
    }
    for direction in ["upload", "download"] {
        let peak = transfers
            .iter()
            .filter(|t| t.direction == direction)
            .map(|t| t.hwm_kib)
            .max()
            .unwrap_or(0);
        let sampled = transfers
            .iter()
            .filter(|t| t.direction == direction)
            .map(|t| t.max_sampled_rss_kib)
            .max()
            .unwrap_or(0);
        s.row_owned(vec![
            format!("Daemon peak RSS during {direction} (VmHWM, worst transfer)"),
            format!(
                "{} (sampled VmRSS max {})",
                fmt_mib_kib(peak),
                fmt_mib_kib(sampled)
            ),
            "—".into(),
            "—".into(),
            if direction == "upload" {
                "< 64 MiB".into()
            } else {
                "—".into()
            },
            if direction == "upload" {
                yes_no(peak < RSS_AIM_KIB).into()
            } else {
                "—".into()
            },
        ]);
    }
    s.note(format!(
        "Median of {} repeat(s); `cp` median {:.0} MiB/s (min {:.0}, max {:.0}; its `sync` took {:.2} s median). Upload = client reads the file from the page cache and PUTs it with Content-Length; the daemon encrypts, hashes, writes and fsyncs the blob and commits its entry before answering 201. Download = GET to a new file + fsync of it. VmHWM reset (`5` → `/proc/PID/clear_refs`) before each transfer; VmRSS sampled every 10 ms. Idle VmRSS after the transfers: {}.",
        o.repeats, cp.median, cp.min, cp.max, summarize(&cp_sync_times).median, fmt_mib_kib(idle_rss)
    ));
    s.note(format!(
        "Ceiling of one core on this machine (same RustCrypto crates as the daemon, {crypto_mib} MiB in 64 KiB chunks): ChaCha20-Poly1305 {enc:.0} MiB/s, SHA-256 {sha:.0} MiB/s, both in sequence on one thread {both:.0} MiB/s."
    ));
    report.sections.push(s);

    let mut t = Section::new(
        "Files: every transfer",
        &[
            "Client",
            "Direction",
            "Repeat",
            "MiB/s",
            "Seconds (of which fsync)",
            "Daemon CPU s",
            "Client CPU s",
            "VmHWM",
            "Protocol",
        ],
    );
    for x in &transfers {
        t.row_owned(vec![
            x.client.into(),
            x.direction.into(),
            (x.repeat + 1).to_string(),
            format!("{:.0}", x.mib_per_s),
            if x.direction == "download" {
                format!("{:.2} ({:.2})", x.seconds, x.sync_s)
            } else {
                format!("{:.2}", x.seconds)
            },
            format!("{:.2}", x.daemon_cpu_s),
            format!("{:.2}", x.client_cpu_s),
            fmt_mib_kib(x.hwm_kib),
            x.http_version.clone(),
        ]);
    }
    t.note("Daemon CPU = user + system seconds of foyerd during the transfer (/proc/PID/stat); ≈ wall time × cores busy. Client CPU of curl is sampled every 10 ms (may miss the last 10 ms).");
    report.sections.push(t);
    report.record(
        "files",
        json!({"mib": o.mib, "cp_seconds": cp_times, "cp_sync_seconds": cp_sync_times, "transfers": transfers,
               "crypto_ceiling_mib_s": {"chacha20poly1305": enc, "sha256": sha, "both": both}}),
    );
    std::fs::remove_file(&src)?;
    Ok(())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
