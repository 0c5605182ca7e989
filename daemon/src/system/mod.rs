//! The box as a running system: device identity, its printed label, the owner's box settings,
//! durable file writes, signals and shutdown, and the `serve` entry point that ties the parts together.
//!
//! Supervision by systemd lives here too: [`notify`] (readiness and status),
//! [`watchdog`] (pings after a liveness check), [`logging`] (the journal),
//! [`integrity`] (unclean stops and database checks), [`status`] (what the
//! owner sees of it, with [`hardware`] from the `board` crate), [`console`] (the text on the box's own screen) and
//! [`factory_reset`] (the request the OS image acts on), [`led`] (the
//! status LED) and [`button`] (the box's button).

pub mod button;
pub mod console;
pub mod factory_reset;
pub mod fsutil;
pub mod hardware;
pub mod identity;
pub mod integrity;
pub mod label;
pub mod led;
pub mod logging;
pub mod notify;
pub mod serve;
pub mod settings;
pub mod shutdown;
pub mod status;
pub mod watchdog;

/// The current time in Unix seconds (what the vault stores).
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
