//! The box on the LAN: mDNS host name and DNS-SD services, with `mdns-sd`.
//!
//! A phone finds the box as `foyer-XXXX.local` and through the DNS-SD
//! services `_foyer._tcp` and `_https._tcp` on the HTTPS port, whose TXT
//! record carries `id`, `version`, `claimed` (`yes`/`no`), `ca` (the SHA-256
//! fingerprint of the box CA, so a client can pin what it talks to) and
//! `path=/`.
//!
//! `mdns-sd` does the protocol work: probing and conflict resolution (a host
//! name already taken on the link becomes `foyer-XXXX-2.local`), A and AAAA
//! answers including legacy unicast ones (Android's resolver), following
//! addresses and interfaces that come and go, and goodbye packets when a
//! service is unregistered. This module decides *what* is announced and *where*
//! (every non-loopback interface unless a list is configured), keeps the TXT
//! record current, and turns the daemon's events into log lines and into
//! [`LanEvent`]s that the certificate code follows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceInfo};
use tokio::sync::watch;

pub const SERVICE_TYPES: [&str; 2] = ["_foyer._tcp.local.", "_https._tcp.local."];

/// How long shutdown waits for the goodbye packets to be sent.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum MdnsError {
    #[error("mDNS: {0}")]
    Daemon(#[from] mdns_sd::Error),
}

/// What is announced.
#[derive(Debug, Clone)]
pub struct Announcement {
    /// `foyer-XXXX` (no `.local`).
    pub hostname: String,
    /// The DNS-SD instance name (what a browser lists).
    pub instance: String,
    pub https_port: u16,
    pub id: String,
    pub version: String,
    pub ca_fingerprint: String,
    pub claimed: bool,
    /// Interface names to announce on; empty: every non-loopback interface.
    pub interfaces: Vec<String>,
}

/// Something that changed on the LAN side that others may want to follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanState {
    /// The host name in use (changes after a conflict), without `.local`.
    pub hostname: String,
    /// Bumped each time an address of the machine appears or disappears.
    pub address_epoch: u64,
}

/// Waits for the next change of the LAN state, when the box announces itself
/// (forever otherwise). `false` when the announcer is gone: the caller stops
/// watching (sets its receiver to `None`).
pub async fn lan_changed(lan: &mut Option<watch::Receiver<LanState>>) -> bool {
    match lan.as_mut() {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// A running announcement; dropping it without [`Announcer::shutdown`] leaves
/// the records to expire by their TTL instead of saying goodbye.
pub struct Announcer {
    daemon: ServiceDaemon,
    /// The box's own host name, before any conflict.
    base_hostname: String,
    current: Mutex<Announcement>,
    state: watch::Sender<LanState>,
}

impl Announcer {
    /// Starts the mDNS responder and announces the box's services.
    pub fn start(announcement: Announcement) -> Result<Arc<Announcer>, MdnsError> {
        let daemon = ServiceDaemon::new()?;
        if announcement.interfaces.is_empty() {
            daemon.disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])?;
        } else {
            daemon.disable_interface(IfKind::All)?;
            let names: Vec<IfKind> = announcement
                .interfaces
                .iter()
                .map(|n| IfKind::Name(n.clone()))
                .collect();
            daemon.enable_interface(names)?;
        }
        let events = daemon.monitor()?;
        let (state, _) = watch::channel(LanState {
            hostname: announcement.hostname.clone(),
            address_epoch: 0,
        });
        let announcer = Arc::new(Announcer {
            daemon,
            base_hostname: announcement.hostname.clone(),
            current: Mutex::new(announcement.clone()),
            state,
        });
        announcer.register(&announcement)?;
        tracing::info!(
            name = %format!("{}.local", announcement.hostname),
            services = ?SERVICE_TYPES,
            interfaces = %if announcement.interfaces.is_empty() { "all but loopback".to_owned() } else { announcement.interfaces.join(",") },
            ca_fingerprint = %announcement.ca_fingerprint,
            "announcing the box with mDNS/DNS-SD"
        );
        let weak = Arc::downgrade(&announcer);
        std::thread::Builder::new()
            .name("foyer-mdns-events".into())
            .spawn(move || {
                // Ends when the daemon shuts down (its sender is dropped).
                while let Ok(event) = events.recv() {
                    let Some(a) = weak.upgrade() else { break };
                    a.on_event(event);
                }
            })
            .map_err(|e| MdnsError::Daemon(mdns_sd::Error::Msg(e.to_string())))?;
        Ok(announcer)
    }

    fn register(&self, a: &Announcement) -> Result<(), MdnsError> {
        let host = format!("{}.local.", a.hostname);
        let txt: HashMap<String, String> = [
            ("id", a.id.clone()),
            ("version", a.version.clone()),
            ("claimed", if a.claimed { "yes" } else { "no" }.to_owned()),
            ("ca", a.ca_fingerprint.clone()),
            ("path", "/".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for ty in SERVICE_TYPES {
            let info = ServiceInfo::new(ty, &a.instance, &host, (), a.https_port, txt.clone())?
                .enable_addr_auto();
            self.daemon.register(info)?;
        }
        Ok(())
    }

    /// Updates the `claimed` TXT key (re-announced at once).
    pub fn set_claimed(&self, claimed: bool) {
        let a = match self.current.lock() {
            Ok(mut cur) if cur.claimed != claimed => {
                cur.claimed = claimed;
                cur.clone()
            }
            _ => return,
        };
        if let Err(e) = self.register(&a) {
            tracing::warn!(error = %e, "cannot update the mDNS TXT record");
        }
    }

    /// Follows host name changes and address changes.
    pub fn subscribe(&self) -> watch::Receiver<LanState> {
        self.state.subscribe()
    }

    fn on_event(&self, event: DaemonEvent) {
        match event {
            DaemonEvent::NameChange(change) => self.on_name_change(&change),
            DaemonEvent::IpAdd(ip) => self.address_changed("appeared", ip),
            DaemonEvent::IpDel(ip) => self.address_changed("disappeared", ip),
            DaemonEvent::Error(e) => tracing::warn!(error = %e, "mDNS"),
            DaemonEvent::Announce(service, on) => {
                tracing::debug!(%service, %on, "mDNS announcement sent")
            }
            _ => {}
        }
    }

    /// mDNS found another device answering for one of our names (RFC 6762
    /// §9). For the host name, the box moves to `foyer-XXXX-2.local`,
    /// `-3`, … (names its CA may vouch for). `mdns-sd` would rename
    /// `foyer-1234` to `foyer-1235` — another box's name — when the hex
    /// happens to be all digits, so the box picks the name itself and
    /// re-announces under it.
    fn on_name_change(&self, change: &mdns_sd::DnsNameChange) {
        let is_host = matches!(change.rr_type, mdns_sd::RRType::A | mdns_sd::RRType::AAAA);
        if !is_host {
            tracing::warn!(original = %change.original, new = %change.new_name,
                "mDNS service name conflict on the LAN; answering under the new instance name");
            return;
        }
        let strip = |n: &str| {
            n.trim_end_matches('.')
                .trim_end_matches(".local")
                .to_owned()
        };
        let (original, offered) = (strip(&change.original), strip(&change.new_name));
        let next = {
            let Ok(mut cur) = self.current.lock() else {
                return;
            };
            if original != cur.hostname {
                return; // an echo about a name already left behind
            }
            let n = conflict_suffix(&self.base_hostname, &cur.hostname).unwrap_or(1) + 1;
            if n > MAX_CONFLICT_SUFFIX {
                tracing::error!(name = %cur.hostname, "mDNS: too many devices answer for the box's names; staying as is");
                return;
            }
            let chosen = format!("{}-{n}", self.base_hostname);
            let old = cur.clone();
            cur.hostname = chosen.clone();
            cur.instance = chosen.clone();
            tracing::warn!(
                original = %format!("{original}.local"),
                new = %format!("{chosen}.local"),
                "mDNS name conflict on the LAN: another device answers for this name; the box now answers as the new one"
            );
            tracing::debug!(%offered, "mdns-sd's own choice, not taken");
            self.unregister_all(&old);
            cur.clone()
        };
        if let Err(e) = self.register(&next) {
            tracing::error!(error = %e, "mDNS: cannot announce under the new name");
        }
        let host = self
            .current
            .lock()
            .map(|c| c.hostname.clone())
            .unwrap_or_default();
        self.state.send_modify(|s| s.hostname = host);
    }

    fn unregister_all(
        &self,
        a: &Announcement,
    ) -> Vec<mdns_sd::Receiver<mdns_sd::UnregisterStatus>> {
        let mut pending = Vec::new();
        for ty in SERVICE_TYPES {
            let fullname = format!("{}.{ty}", a.instance);
            match self.daemon.unregister(&fullname) {
                Ok(rx) => pending.push(rx),
                Err(e) => tracing::warn!(error = %e, "mDNS goodbye for {fullname}"),
            }
        }
        pending
    }

    fn address_changed(&self, what: &str, ip: IpAddr) {
        tracing::info!(%ip, "a network address {what}; mDNS answers follow it");
        self.state.send_modify(|s| s.address_epoch += 1);
    }

    /// Says goodbye (TTL 0 records) for every service and stops the responder.
    pub fn shutdown(&self) {
        let current = self.current.lock().map(|a| a.clone());
        let pending = match current {
            Ok(a) => self.unregister_all(&a),
            Err(_) => Vec::new(),
        };
        for rx in pending {
            let _ = rx.recv_timeout(GOODBYE_TIMEOUT);
        }
        if let Ok(rx) = self.daemon.shutdown() {
            let _ = rx.recv_timeout(GOODBYE_TIMEOUT);
        }
        tracing::info!("mDNS: said goodbye on the LAN");
    }
}

/// Highest `-N` the box takes after name conflicts (its CA permits up to it).
pub const MAX_CONFLICT_SUFFIX: u32 = 9;

/// `Some(n)` when `name` is `base-n`.
fn conflict_suffix(base: &str, name: &str) -> Option<u32> {
    name.strip_prefix(base)?.strip_prefix('-')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_suffixes() {
        assert_eq!(conflict_suffix("foyer-1234", "foyer-1234"), None);
        assert_eq!(conflict_suffix("foyer-1234", "foyer-1234-2"), Some(2));
        assert_eq!(conflict_suffix("foyer-1234", "foyer-1235"), None);
    }
}
