//! Shutdown: one small type that every long-running task can wait on.
//!
//! SIGTERM or SIGINT triggers it once; the servers then stop accepting,
//! let in-flight requests finish (bounded by a grace period) and the vault
//! closes its database cleanly.

use tokio::sync::watch;

/// A cloneable handle that resolves when the box is shutting down.
#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The side that triggers shutdown.
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }
}

impl Shutdown {
    /// Waits until shutdown has been triggered.
    pub async fn wait(&mut self) {
        let _ = self.rx.wait_for(|down| *down).await;
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }
}

/// Waits for SIGTERM or SIGINT and returns the signal's name.
pub async fn signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => Ok("SIGTERM"),
        _ = int.recv() => Ok("SIGINT"),
    }
}
