//! Telling systemd how the daemon is doing (`sd_notify(3)`): `STATUS=`
//! lines at each start stage, `READY=1` once the listeners serve,
//! `STOPPING=1` when a stop signal arrives, `WATCHDOG=1` from
//! [`super::watchdog`], and `EXTEND_TIMEOUT_USEC=` before start work that
//! may take long (a database check after a power cut).
//!
//! The box runs as a `Type=notify` unit: systemd considers it started only
//! on `READY=1`, so units ordered after it (and the boot test) see a box
//! that answers. Outside systemd (`NOTIFY_SOCKET` unset) every call here
//! does nothing. Status texts are shown by `systemctl status`, which any
//! local user may run: they never carry a secret.

use std::time::Duration;

use sd_notify::NotifyState;

/// Sends `states`; a failure is logged (at debug level: systemd not
/// listening is not the daemon's problem) and otherwise ignored.
fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// A start stage or a state change, for `systemctl status`.
pub fn status(text: &str) {
    send(&[NotifyState::Status(text)]);
}

/// The daemon serves: `READY=1` with its status line.
pub fn ready(text: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(text)]);
}

/// A stop signal arrived; the daemon is finishing in-flight requests.
pub fn stopping(text: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(text)]);
}

/// The daemon is alive (sent only after a liveness check passed).
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Asks for more start time than `TimeoutStartSec=` allows, before work
/// whose length depends on the data (checking a large database).
pub fn extend_start_timeout(by: Duration, text: &str) {
    let usec = u32::try_from(by.as_micros()).unwrap_or(u32::MAX);
    send(&[
        NotifyState::ExtendTimeoutUsec(usec),
        NotifyState::Status(text),
    ]);
}
