//! Where the daemon's log goes and how it looks.
//!
//! On a terminal or into a file: `tracing`'s usual text lines (or JSON with
//! `log_format = "json"`). Under systemd, stderr is a stream to the journal,
//! which stamps each entry itself: there the text lines carry no timestamp
//! and no ANSI colours, and start with a syslog priority prefix (`<3>` error,
//! `<4>` warning, `<6>` info, `<7>` debug), which journald turns into the
//! entry's `PRIORITY`, so `journalctl -p warning -u foyer` works. Stderr is
//! known to be the journal when `JOURNAL_STREAM` (set by systemd) names its
//! device and inode, as `sd_journal_stream_fd(3)` prescribes; a redirected
//! stderr keeps the usual format.
//!
//! This is the stream protocol rather than journald's native one on
//! purpose: the native protocol puts each field in its own journal field,
//! and the default `journalctl` view would then show "cannot renew the
//! server certificate" without its `error=…`. Here every line reads whole.
//!
//! What must never be logged — claim codes, passphrases, recovery keys,
//! tokens, keys — is kept out at the call sites (see `auth`).

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::LogFormat;

/// Installs the global subscriber (`RUST_LOG` filters; `info` by default).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text if stderr_is_journal() => builder
            .with_ansi(false)
            .event_format(JournalLine(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false)
                    .with_ansi(false),
            ))
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Whether stderr is the journal stream systemd connected (`JOURNAL_STREAM`
/// = `<device>:<inode>` of that stream).
pub fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some(expected) = std::env::var("JOURNAL_STREAM")
        .ok()
        .and_then(|v| parse_journal_stream(&v))
    else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(meta) => (meta.dev(), meta.ino()) == expected,
        Err(_) => false,
    }
}

fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// The syslog priority journald reads from a line's `<N>` prefix.
fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Formats an event with `inner`, prefixing each of its lines with the
/// event's priority (a multi-line error stays one priority, not `info`).
struct JournalLine<F>(F);

impl<S, N, F> FormatEvent<S, N> for JournalLine<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let prefix = format!("<{}>", priority(event.metadata().level()));
        for part in line.trim_end_matches('\n').split('\n') {
            writer.write_str(&prefix)?;
            writer.write_str(part)?;
            writer.write_char('\n')?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_values() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8:"), None);
        assert_eq!(parse_journal_stream("x:1"), None);
        assert_eq!(parse_journal_stream(""), None);
    }

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(priority(&Level::ERROR), 3);
        assert_eq!(priority(&Level::WARN), 4);
        assert_eq!(priority(&Level::INFO), 6);
        assert_eq!(priority(&Level::DEBUG), 7);
    }
}
