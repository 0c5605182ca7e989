//! The box as a running system: device identity, its printed label, the owner's box settings,
//! durable file writes, signals and shutdown, and the `serve` entry point that ties the parts together.

pub mod fsutil;
pub mod identity;
pub mod label;
pub mod serve;
pub mod settings;
pub mod shutdown;

/// The current time in Unix seconds (what the vault stores).
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
