//! Small helpers: statistics, `/proc` readings, dates, formatting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

/// Order statistics of a sample (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub p95: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// Nearest-rank percentile `p` (0..=1) of a sorted, non-empty slice.
fn rank(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let idx = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted[idx]
}

pub fn summarize(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary {
            n: 0,
            median: f64::NAN,
            p95: f64::NAN,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Summary {
        n,
        median,
        p95: rank(&v, 0.95),
        mean: v.iter().sum::<f64>() / n as f64,
        min: v[0],
        max: v[n - 1],
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`, `RssAnon`, …), in KiB.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Resets the peak resident set size (`VmHWM`) of `pid` to its current RSS.
pub fn reset_hwm(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .with_context(|| format!("writing 5 to /proc/{pid}/clear_refs"))
}

/// User + system CPU time consumed so far by `pid`, in seconds
/// (`/proc/PID/stat` fields 14 and 15, clock ticks of 1/100 s on Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; fields restart after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Samples `VmRSS` of a process every `every` on a plain thread until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<(u64, usize)>>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut max = 0u64;
            let mut n = 0usize;
            while !flag.load(Ordering::Relaxed) {
                if let Some(v) = status_kib(pid, "VmRSS") {
                    max = max.max(v);
                    n += 1;
                }
                std::thread::sleep(every);
            }
            (max, n)
        });
        RssSampler {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops sampling; returns the largest `VmRSS` seen (KiB) and the sample count.
    pub fn finish(mut self) -> (u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or((0, 0))
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Samples the CPU time of a process every `every` until it exits; returns
/// the last reading (used for child processes such as curl, whose rusage the
/// standard library does not expose).
pub struct CpuSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<f64>>,
}

impl CpuSampler {
    pub fn start(pid: u32, every: Duration) -> CpuSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut last = 0.0f64;
            while !flag.load(Ordering::Relaxed) {
                match cpu_seconds(pid) {
                    Some(v) => last = v,
                    None => break,
                }
                std::thread::sleep(every);
            }
            last
        });
        CpuSampler {
            stop,
            handle: Some(handle),
        }
    }

    pub fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or(0.0)
    }
}

/// The 1-minute load average, for the record (the machine is shared).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------------------
// Dates (no date crate needed for the generator)
// ---------------------------------------------------------------------------

/// `YYYY-MM-DD` of a day number counted from 1970-01-01 (proleptic Gregorian;
/// H. Hinnant's `civil_from_days`).
pub fn date_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

pub fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub fn fmt_mib_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn fmt_ratio(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

pub fn yes_no(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_from_days(0), "1970-01-01");
        assert_eq!(date_from_days(16_436), "2015-01-01");
        assert_eq!(date_from_days(19_782), "2024-02-29");
    }

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = summarize(&v);
        assert_eq!(s.p95, 95.0);
        assert_eq!(s.median, 50.5);
        assert_eq!(summarize(&[3.0]).p95, 3.0);
    }
}
