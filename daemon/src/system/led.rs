//! The status LED: what the box shows the person looking at it, through
//! the `board` crate ([`board::LedState`]; a no-op on boards without an
//! LED, e.g. a PC).
//!
//! `serve` shows `Booting` from the start, `Error` when the start fails, and
//! once the box serves hands the LED to [`StatusLed::follow`]: `Unclaimed`
//! until the box is claimed, then `Ok`, with `Attention` for a while when
//! asked (a short press of the button). Failing to drive the LED never stops
//! the daemon: the first failure is a warning, the next ones debug lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use board::{Board, LedState};
use tokio::sync::{mpsc, watch};

use crate::system::shutdown;

/// The board's LED, with the warning about its failures given once.
pub struct StatusLed {
    board: Arc<dyn Board>,
    warned: AtomicBool,
}

impl StatusLed {
    pub fn new(board: Arc<dyn Board>) -> StatusLed {
        StatusLed {
            board,
            warned: AtomicBool::new(false),
        }
    }

    /// Shows `state` (a few small sysfs writes); failures are logged only.
    pub fn set(&self, state: LedState) {
        if !self.board.has_led() {
            return;
        }
        match self.board.set_led(state) {
            Ok(()) => tracing::debug!(state = state.as_str(), "status LED"),
            Err(e) if !self.warned.swap(true, Ordering::Relaxed) => {
                tracing::warn!(error = %e, state = state.as_str(), "cannot drive the status LED (further failures are logged at debug level)")
            }
            Err(e) => {
                tracing::debug!(error = %e, state = state.as_str(), "cannot drive the status LED")
            }
        }
    }

    /// Keeps the LED in step with the box until `stop`: `Unclaimed` or `Ok`
    /// from the claimed state, and `Attention` for the duration each message
    /// of `attention` asks (the latest request wins).
    pub async fn follow(
        self: Arc<Self>,
        mut claimed: watch::Receiver<bool>,
        mut attention: mpsc::Receiver<Duration>,
        mut stop: shutdown::Shutdown,
    ) {
        let base = |claimed: bool| {
            if claimed {
                LedState::Ok
            } else {
                LedState::Unclaimed
            }
        };
        let mut is_claimed = *claimed.borrow_and_update();
        self.set(base(is_claimed));
        let mut until: Option<tokio::time::Instant> = None;
        loop {
            let expiry = async {
                match until {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = stop.wait() => return,
                changed = claimed.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    is_claimed = *claimed.borrow_and_update();
                    if until.is_none() {
                        self.set(base(is_claimed));
                    }
                }
                Some(how_long) = attention.recv() => {
                    until = Some(tokio::time::Instant::now() + how_long);
                    self.set(LedState::Attention);
                }
                _ = expiry => {
                    until = None;
                    self.set(base(is_claimed));
                }
            }
        }
    }
}
