//! The systemd watchdog: when the unit sets `WatchdogSec=` (systemd passes
//! `WATCHDOG_USEC`, and `WATCHDOG_PID` naming the process it expects pings
//! from), a task sends `WATCHDOG=1` every half interval — but only after a
//! liveness check passed, so that a wedged daemon is restarted instead of
//! being vouched for by a timer that still ticks.
//!
//! The check proves what a request needs:
//! - the async runtime still schedules tasks (the check runs in one);
//! - the blocking thread pool still runs work, and the vault's database
//!   still answers through its connection pool (a schema read on a pooled
//!   reader), within [`deadline`] — shorter than the interval, so a slow
//!   answer is a missed ping, not a late one.
//!
//! A failed or hung check sends nothing and logs a warning; systemd kills
//! and restarts the daemon once a whole interval passes without a ping.

use std::sync::Arc;
use std::time::Duration;

use crate::system::notify;
use crate::system::shutdown::Shutdown;
use crate::vault::VaultError;
use crate::vault::db::Db;

/// Why a liveness check failed.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the database check failed: {0}")]
    Db(#[from] VaultError),
}

/// The watchdog interval systemd asked for, if any and if meant for this
/// process (`WATCHDOG_PID`, when set, must be ours).
pub fn interval_from_env() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// How often a ping is due: half the interval, as systemd recommends.
pub fn period(interval: Duration) -> Duration {
    interval / 2
}

/// How long the database may take to answer: a quarter of the interval, so
/// that even a check that takes all of it leaves the next ping due within
/// `period + deadline` = ¾ of the interval.
pub fn deadline(interval: Duration) -> Duration {
    interval / 4
}

/// One liveness check: a read on a pooled connection, on the blocking pool,
/// answered within `deadline` (waiting for a free connection included).
pub async fn check(db: &Arc<Db>, deadline: Duration) -> Result<(), LivenessError> {
    let probe = db.read_within(deadline, |conn| {
        conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))?;
        Ok(())
    });
    match tokio::time::timeout(deadline, probe).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(LivenessError::Timeout(deadline)),
    }
}

/// Runs one check and, only when it passes, calls `ping`.
pub async fn beat(db: &Arc<Db>, deadline: Duration, ping: impl FnOnce()) -> bool {
    match check(db, deadline).await {
        Ok(()) => {
            ping();
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "liveness check failed: no watchdog ping (systemd restarts the box if this goes on)");
            false
        }
    }
}

/// Pings systemd every half `interval` while the checks pass, until the box
/// stops.
pub async fn run(interval: Duration, db: Arc<Db>, mut stop: Shutdown) {
    let mut ticks = tokio::time::interval(period(interval));
    // After a stall (the process was stopped, the machine suspended), carry
    // on from now rather than firing a burst of catch-up ticks.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = deadline(interval);
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            _ = ticks.tick() => {}
        }
        beat(&db, deadline, notify::watchdog).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::vault::db::READERS;

    #[tokio::test]
    async fn no_ping_while_every_pool_connection_is_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("vault.db"), &[3u8; 32]).expect("open");
        let pings = AtomicUsize::new(0);
        let ping = || {
            pings.fetch_add(1, Ordering::SeqCst);
        };
        let deadline = Duration::from_millis(200);

        assert!(beat(&db, deadline, ping).await, "a healthy box pings");
        assert_eq!(pings.load(Ordering::SeqCst), 1);

        // Every reader taken (as by wedged requests): the check cannot
        // reach the database in time, so no ping.
        let held: Vec<_> = (0..READERS)
            .map(|_| db.reader(Duration::from_secs(5)).expect("reader"))
            .collect();
        assert!(!beat(&db, deadline, ping).await, "pinged while wedged");
        assert!(matches!(
            check(&db, deadline).await,
            Err(LivenessError::Db(_) | LivenessError::Timeout(_))
        ));
        assert_eq!(pings.load(Ordering::SeqCst), 1);

        drop(held);
        assert!(beat(&db, deadline, ping).await, "pings again once free");
        assert_eq!(pings.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn timings_leave_room_before_systemd_gives_up() {
        let interval = Duration::from_secs(30);
        assert_eq!(period(interval), Duration::from_secs(15));
        assert!(period(interval) + deadline(interval) < interval);
    }
}
