//! The text shown on the box's own screen and serial console, above the
//! login prompt (`console_issue`, e.g. `/run/foyer/issue`, which the OS
//! image links into agetty's `/etc/issue.d/`): the box's name, how to reach
//! it, its CA fingerprint and, while it is unclaimed, its claim code. For a
//! box without a printed label (a PC, a developer board) the console is
//! where the owner reads the code; the image's boot test reads it from the
//! serial console too.
//!
//! The format (lines end with `\n`; the port is shown only when it is not
//! 443; one address line per LAN address the box answers on):
//!
//! ```text
//! Foyer box foyer-ab12
//! Open it from a phone or a computer on the same network:
//!   https://foyer-ab12.local/
//!   https://192.168.1.20/
//! CA fingerprint (SHA-256):
//!   3F:A2:…:9C   (16 bytes a line, 2 lines)
//! Claim code: ABCD-EFGH-JKMN
//!
//! ```
//!
//! Once the box is claimed, the last line is `This box is claimed.` and no
//! code appears anywhere. The file is rewritten (atomically, mode 0644:
//! agetty may run as another user) when the box gets claimed, when its LAN
//! addresses or its mDNS name change, and only then. agetty interprets
//! backslash escapes in issue files; every backslash is doubled.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::api::BoxInfo;
use crate::auth::Auth;
use crate::net::{tls, trust, urls};
use crate::system::fsutil;
use crate::system::shutdown::Shutdown;

/// How often the machine's addresses are looked at (a cheap
/// `getifaddrs`); mDNS, when on, signals changes sooner.
const ADDRESS_POLL: Duration = Duration::from_secs(5);

/// What the console shows.
pub struct ConsoleFacts<'a> {
    /// The name the box answers to on the LAN, without `.local`.
    pub lan_hostname: &'a str,
    pub https_port: u16,
    /// The LAN addresses the box answers on.
    pub addresses: &'a [IpAddr],
    /// Lowercase hex SHA-256 of the CA certificate.
    pub ca_fingerprint: &'a str,
    /// The claim code while the box is unclaimed (grouped, `XXXX-XXXX-XXXX`).
    pub claim_code: Option<&'a str>,
}

/// The console text (see the module documentation), agetty-escaped.
pub fn text(f: &ConsoleFacts<'_>) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let mut line = |l: &str| {
        out.push_str(&escape(l));
        out.push('\n');
    };
    line(&format!("Foyer box {}", f.lan_hostname));
    line("Open it from a phone or a computer on the same network:");
    line(&format!(
        "  {}",
        urls::https_root(&urls::local_name(f.lan_hostname), f.https_port)
    ));
    for ip in f.addresses {
        line(&format!(
            "  {}",
            urls::https_root(&urls::url_host(*ip), f.https_port)
        ));
    }
    line("CA fingerprint (SHA-256):");
    let grouped = trust::grouped_fingerprint(f.ca_fingerprint);
    // 16 bytes ("AB:" × 16, less the last colon) per line: fits 80 columns.
    for chunk in grouped.as_bytes().chunks(16 * 3) {
        line(&format!(
            "  {}",
            String::from_utf8_lossy(chunk).trim_end_matches(':')
        ));
    }
    match f.claim_code {
        Some(code) => line(&format!("Claim code: {code}")),
        None => line("This box is claimed."),
    }
    out.push('\n');
    out
}

/// agetty reads `\x` sequences in issue files as escapes (`\n` is the host
/// name, `\4` an address…): a literal backslash must be doubled.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
}

/// The LAN addresses the box answers on: every LAN address of the machine
/// when it listens on a wildcard address, else the one it listens on.
pub fn reachable_addresses(listen: IpAddr) -> Vec<IpAddr> {
    if listen.is_unspecified() {
        tls::lan_addresses()
    } else {
        vec![listen]
    }
}

/// Keeps the console text at `path` current for the running box.
pub struct Console {
    path: PathBuf,
    info: Arc<BoxInfo>,
    auth: Arc<Auth>,
    listen: IpAddr,
    written: Option<Zeroizing<String>>,
}

impl Console {
    pub fn new(path: PathBuf, info: Arc<BoxInfo>, auth: Arc<Auth>, listen: IpAddr) -> Console {
        Console {
            path,
            info,
            auth,
            listen,
            written: None,
        }
    }

    /// Writes the text if it differs from what was last written. A failure
    /// is logged and retried at the next change or poll.
    pub fn refresh(&mut self) {
        let lan_hostname = self.info.lan_hostname();
        let addresses = reachable_addresses(self.listen);
        let code = self.auth.claim_code();
        let now = text(&ConsoleFacts {
            lan_hostname: &lan_hostname,
            https_port: self.info.https_port,
            addresses: &addresses,
            ca_fingerprint: &self.info.ca_fingerprint,
            claim_code: code.as_deref().map(String::as_str),
        });
        if self.written.as_ref() == Some(&now) {
            return;
        }
        match fsutil::write_atomic(&self.path, now.as_bytes(), 0o644) {
            Ok(()) => {
                tracing::info!(file = %self.path.display(), "console text written");
                self.written = Some(now);
            }
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot write the console text");
                self.written = None;
            }
        }
    }

    /// Follows the box until it stops: rewrites the text when it is
    /// claimed, when its mDNS name changes and when its addresses change.
    pub async fn follow(mut self, mut stop: Shutdown) {
        let mut claimed = self.auth.watch_claimed();
        let mut lan = self.info.lan.clone();
        loop {
            tokio::select! {
                _ = stop.wait() => return,
                changed = claimed.changed() => {
                    if changed.is_err() {
                        // The sender lives as long as `auth`, which we hold.
                        return;
                    }
                }
                alive = crate::net::mdns::lan_changed(&mut lan) => if !alive { lan = None; },
                _ = tokio::time::sleep(ADDRESS_POLL) => {}
            }
            self.refresh();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "3fa2000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c9c";

    #[test]
    fn the_text_of_an_unclaimed_box_on_443() {
        let ips: [IpAddr; 2] = [[192, 168, 1, 20].into(), "fd00::20".parse().expect("v6")];
        let t = text(&ConsoleFacts {
            lan_hostname: "foyer-ab12",
            https_port: 443,
            addresses: &ips,
            ca_fingerprint: FP,
            claim_code: Some("ABCD-EFGH-JKMN"),
        });
        assert_eq!(
            t.as_str(),
            "Foyer box foyer-ab12\n\
             Open it from a phone or a computer on the same network:\n\
             \x20 https://foyer-ab12.local/\n\
             \x20 https://192.168.1.20/\n\
             \x20 https://[fd00::20]/\n\
             CA fingerprint (SHA-256):\n\
             \x20 3F:A2:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D\n\
             \x20 0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:9C\n\
             Claim code: ABCD-EFGH-JKMN\n\
             \n"
        );
        assert!(t.lines().all(|l| l.len() <= 80));
        assert_eq!(
            t.lines().filter(|l| l.starts_with("Claim code: ")).count(),
            1
        );
    }

    #[test]
    fn a_claimed_box_shows_no_code_and_other_ports_are_shown() {
        let t = text(&ConsoleFacts {
            lan_hostname: "foyer-ab12",
            https_port: 8443,
            addresses: &[],
            ca_fingerprint: FP,
            claim_code: None,
        });
        assert!(
            t.contains("  https://foyer-ab12.local:8443/\n"),
            "{}",
            t.as_str()
        );
        assert!(t.contains("\nThis box is claimed.\n"));
        assert!(!t.contains("Claim code"));
    }

    #[test]
    fn backslashes_are_escaped_for_agetty() {
        assert_eq!(escape(r"a\nb\\"), r"a\\nb\\\\");
        let t = text(&ConsoleFacts {
            lan_hostname: r"foyer-\4",
            https_port: 443,
            addresses: &[],
            ca_fingerprint: FP,
            claim_code: None,
        });
        assert!(t.starts_with("Foyer box foyer-\\\\4\n"), "{}", t.as_str());
    }
}
