//! The box's button, through the `board` crate's [`ButtonWatcher`] (boards
//! without a button, e.g. a PC, have none and nothing runs).
//!
//! - A long hold ([`ButtonEvent::FactoryReset`]) writes the same factory
//!   reset request as `POST /api/system/factory-reset`
//!   ([`factory_reset::request`]), without a passphrase: holding the button
//!   of the box is the proof of physical presence. It is logged at warn.
//! - A short press ([`ButtonEvent::Pairing`]) shows `Attention` on the LED
//!   for [`PAIRING_WINDOW`] and is logged. Opening a real pairing window
//!   (letting a phone pair without the owner's session) is future work.
//!
//! Gestures arrive on the watcher's own thread; they are handled on another
//! plain thread (a file write and a channel send), never on the runtime.

use std::path::PathBuf;
use std::time::Duration;

use board::{Board, ButtonEvent, ButtonTiming, ButtonWatcher};
use tokio::sync::mpsc;

use crate::system::factory_reset;

/// How long the LED shows `Attention` after a short press.
pub const PAIRING_WINDOW: Duration = Duration::from_secs(120);

/// Why the button could not be watched (the box runs without it).
#[derive(Debug, thiserror::Error)]
pub enum ButtonError {
    #[error("button: {0}")]
    Board(#[from] board::BoardError),
    #[error("cannot start the button thread: {0}")]
    Thread(std::io::Error),
}

/// Starts watching the board's button, if it has one. `attention` asks the
/// LED for `Attention` (see [`crate::system::led::StatusLed::follow`]).
/// Stop the returned watcher at shutdown.
pub fn start(
    board: &dyn Board,
    data_dir: PathBuf,
    attention: mpsc::Sender<Duration>,
) -> Result<Option<ButtonWatcher>, ButtonError> {
    let Some(source) = board.button()? else {
        return Ok(None);
    };
    tracing::info!(source = %source.describe(), "watching the button");
    let (watcher, events) = ButtonWatcher::with_channel(source, ButtonTiming::default(), 8)?;
    std::thread::Builder::new()
        .name("foyerd-button".into())
        .spawn(move || {
            // Ends when the watcher stops (its sender goes).
            for event in events {
                handle(event, &data_dir, &attention);
            }
        })
        .map_err(ButtonError::Thread)?;
    Ok(Some(watcher))
}

fn handle(event: ButtonEvent, data_dir: &std::path::Path, attention: &mpsc::Sender<Duration>) {
    match event {
        ButtonEvent::FactoryReset => {
            tracing::warn!("the button was held: factory reset requested by someone at the box");
            if let Err(e) = factory_reset::request(data_dir) {
                tracing::error!(error = %e, "cannot write the factory reset request");
            }
        }
        ButtonEvent::Pairing => {
            // A real pairing window is future work: for now the press is
            // acknowledged on the LED and in the log.
            tracing::info!(
                window_s = PAIRING_WINDOW.as_secs(),
                "the button was pressed: pairing asked (shown on the LED)"
            );
            if attention.try_send(PAIRING_WINDOW).is_err() {
                tracing::debug!("the LED is not following the box; pairing not shown");
            }
        }
    }
}
