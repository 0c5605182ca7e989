//! Time from `exec foyerd` to the first mDNS answer for the box's host name,
//! seen from another host on the LAN.
//!
//! Two network namespaces joined by a veth pair that this part creates (the
//! box and a phone, with the e2e tests' `foyer_e2e::lan`), addresses in
//! 198.18.0.0/15 (reserved for network tests) with no route anywhere else:
//! no packet leaves the two namespaces. The
//! phone runs `bench/lan/mdns_first_answer.py` (dnspython, independent of
//! foyerd's mDNS code), which asks for `foyer-XXXX.local` every 10 ms; the
//! box's device id is written beforehand, as a factory would, so the name is
//! known before the first start. Needs root, `ip` and python3-dnspython.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use foyer_e2e::lan::{BOX_V4, Lan, PHONE_V4, Proc};
use sha2::{Digest, Sha256};

use crate::Ctx;
use crate::report::{Report, Section};
use crate::util::{fmt_ms, summarize};

pub struct LanOpts {
    pub repeats: usize,
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One start: returns exec → first answer, in ms.
fn one_start(ctx: &Ctx, lan: &Lan, data: &Path, hostname: &str) -> Result<f64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("lan/mdns_first_answer.py");
    let mut phone = Proc(
        lan.command(&lan.phone_ns, Path::new("/usr/bin/python3"))
            .arg(&script)
            .args([&format!("{hostname}.local"), "A", PHONE_V4, "30"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the mDNS client")?,
    );
    let out = phone.0.stdout.take().context("mDNS client stdout")?;
    let mut lines = BufReader::new(out).lines();
    match lines.next() {
        Some(Ok(l)) if l == "ready" => {}
        other => bail!("the mDNS client did not start: {other:?}"),
    }
    let log = std::fs::File::create(data.with_extension("log"))?;
    let started = SystemTime::now();
    let _foyerd = Proc(
        lan.command(&lan.box_ns, &ctx.foyerd)
            .arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(["--listen", "0.0.0.0:8443", "--http-listen", "0.0.0.0:8080"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting foyerd")?,
    );
    let answer = lines
        .next()
        .ok_or_else(|| anyhow!("no mDNS answer for {hostname}.local in 30 s"))??;
    let (at, addr) = answer
        .split_once(' ')
        .ok_or_else(|| anyhow!("unexpected client output {answer:?}"))?;
    if addr != BOX_V4 {
        bail!("{hostname}.local answered {addr}, expected {BOX_V4}");
    }
    let at: f64 = at.parse()?;
    Ok((at - epoch(started)) * 1000.0)
}

pub async fn run(ctx: &Ctx, o: &LanOpts, report: &mut Report) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("[lan] skipped: network namespaces need root");
        return Ok(());
    }
    let lan = Lan::create("b");
    let dir = ctx.work.join("lan");
    std::fs::create_dir_all(&dir)?;
    let (mut fresh, mut existing) = (Vec::new(), Vec::new());
    for i in 0..o.repeats {
        let data = dir.join(format!("box-{i}"));
        std::fs::create_dir_all(&data)?;
        let id = format!("{:032x}", rand::random::<u128>());
        std::fs::write(data.join("device-id"), format!("{id}\n"))?;
        let hostname = format!("foyer-{}", &hex::encode(Sha256::digest(id.as_bytes()))[..4]);
        eprintln!("[lan] start {} of {} ({hostname})", i + 1, o.repeats);
        fresh.push(one_start(ctx, &lan, &data, &hostname)?);
        // Let the goodbye packets go before the same name comes back.
        std::thread::sleep(Duration::from_millis(500));
        existing.push(one_start(ctx, &lan, &data, &hostname)?);
        std::fs::remove_dir_all(&data).ok();
    }
    let (f, e) = (summarize(&fresh), summarize(&existing));
    let mut s = Section::new(
        "On the LAN: exec → first mDNS answer for foyer-XXXX.local (release build)",
        &["Start", "Median", "p95", "Max"],
    );
    for (what, v) in [
        ("First start (CA made)", &f),
        ("Restart (existing data)", &e),
    ] {
        s.row_owned(vec![
            format!("{what}, {} starts", o.repeats),
            fmt_ms(v.median),
            fmt_ms(v.p95),
            fmt_ms(v.max),
        ]);
    }
    s.note(
        "Asked from a second network namespace over a veth pair, by a legacy-unicast A query every 10 ms \
         (dnspython); the figure includes mdns-sd's probing of the name (RFC 6762 §8.1) before it may answer.",
    );
    report.sections.push(s);
    report.record(
        "lan_first_mdns_answer_ms",
        serde_json::json!({"fresh": fresh, "existing": existing}),
    );
    Ok(())
}
