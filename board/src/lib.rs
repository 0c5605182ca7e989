//! # board: what differs between hardware
//!
//! `foyerd` runs on Raspberry Pi 4/5 boxes, on PCs and VMs, and in tests on
//! a simulated board. Everything hardware-specific is behind one trait,
//! [`Board`]: identity, the status LED, the button, the hardware watchdog,
//! health sensors, storage health and the sealing of the vault's
//! unattended-unlock key.
//!
//! Every implementation reads its system files relative to a `root`
//! directory (`/` in production), so the real Raspberry Pi and PC code paths
//! run in tests against a fake sysfs/procfs tree in a temporary directory.
//! Facts the system does not expose are `None` ("unknown"), not errors;
//! nothing panics on what the filesystem can make fail.
//!
//! | implementation | chosen by | notes |
//! | --- | --- | --- |
//! | [`RaspberryPi`] | `rpi`, or `auto` when the device-tree model says "Raspberry Pi" | ACT LED, GPIO button, VideoCore mailbox, OTP key |
//! | [`Pc`] | `pc`, or `auto` otherwise | DMI identity, no LED or button, file key |
//! | [`Simulated`] | `sim` only | scriptable through files under `<root>/sim/` |
//!
//! ## Example
//!
//! ```
//! use std::path::Path;
//! use board::{BoardChoice, ButtonTiming, ButtonWatcher, LedState, SealStrength};
//!
//! # fn main() -> Result<(), board::BoardError> {
//! // In production: the choice comes from the command line, the root is "/".
//! let choice: BoardChoice = "auto".parse()?;
//! let board = board::detect(choice, Path::new("/"));
//! println!("{:?} {}", board.kind(), board.identity().model);
//!
//! // Facts for the status page; every field is optional.
//! let sensors = board.sensors();
//! let storage = board.storage_health(Path::new("/"));
//! let watchdog = board.watchdog();
//! # let _ = (sensors, storage, watchdog);
//!
//! // The LED (a no-op on boards without one; the kernel does the blinking).
//! if board.has_led() {
//!     board.set_led(LedState::Booting)?;
//! }
//!
//! // The vault's unattended-unlock key-encryption key.
//! # let tmp = std::env::temp_dir().join(format!("board-doc-{}", std::process::id()));
//! # let keys_dir = tmp.join("keys");
//! let sealer = board.key_sealer(&keys_dir);
//! let kek = sealer.key(true)?; // create on first start; later starts pass false
//! assert_eq!(*kek, *sealer.key(false)?); // stable
//! if sealer.strength() == SealStrength::File {
//!     println!("unattended key: {}", sealer.describe().detail);
//! }
//!
//! // The button, delivered over a bounded channel.
//! if let Some(source) = board.button()? {
//!     let (watcher, events) = ButtonWatcher::with_channel(source, ButtonTiming::default(), 8)?;
//!     // ... for event in events { match event { Pairing => ..., FactoryReset => ... } }
//!     # drop(events);
//!     watcher.stop()?;
//! }
//! # std::fs::remove_dir_all(&tmp).ok();
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod button;
mod error;
mod identity;
mod led;
pub mod mailbox;
mod pc;
mod rpi;
mod seal;
mod sensors;
mod sim;
mod source;
mod storage;
mod sysfs;
mod watch;
mod watchdog;

pub use button::{ButtonClassifier, ButtonEdge, ButtonEvent, ButtonTiming, Edge};
pub use error::BoardError;
pub use identity::{HardwareIdentity, is_placeholder};
pub use led::{LedPattern, LedState};
pub use pc::Pc;
pub use rpi::{RaspberryPi, RpiButton};
pub use seal::{
    FileSealer, KeySealer, OTP_KDF_INFO, OtpSealer, SealInfo, SealStrength, UNATTENDED_KEY_FILE,
};
pub use sensors::{Sensors, Throttling, ThrottlingSource};
pub use sim::Simulated;
pub use source::{ButtonSource, GPIO_DEBOUNCE, encode_input_event, monotonic_now};
pub use storage::{EmmcWear, PreEol, StorageHealth, StorageKind};
pub use watch::ButtonWatcher;
pub use watchdog::WatchdogInfo;

/// Which kind of board this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardKind {
    /// A Raspberry Pi (4, 5 or their compute modules).
    RaspberryPi,
    /// A PC or virtual machine.
    Pc,
    /// The simulated board of tests.
    Simulated,
}

/// Everything hardware-specific the daemon needs, for one board.
///
/// Methods that report facts never fail: what cannot be read is `None`.
/// Methods that act (`set_led`, `button`) return errors.
pub trait Board: Send + Sync {
    /// Which kind of board this is.
    fn kind(&self) -> BoardKind;

    /// The directory system files are read under (`/` in production).
    fn root(&self) -> &Path;

    /// Model and serial number, as the hardware reports them.
    fn identity(&self) -> HardwareIdentity;

    /// Whether the board has a status LED that [`set_led`](Board::set_led)
    /// drives. Without one, `set_led` is a successful no-op.
    fn has_led(&self) -> bool;

    /// Shows `state` on the status LED (see [`LedState`] for the patterns).
    fn set_led(&self, state: LedState) -> Result<(), BoardError>;

    /// The button's edge source, or `None` if the board has no button. Run
    /// it with [`ButtonWatcher`].
    fn button(&self) -> Result<Option<ButtonSource>, BoardError>;

    /// The hardware watchdog (fed by systemd, reported here), if any.
    fn watchdog(&self) -> Option<WatchdogInfo> {
        watchdog::read(self.root())
    }

    /// Temperature and throttling.
    fn sensors(&self) -> Sensors;

    /// Health of the filesystem holding `path` (an existing path on this
    /// machine, e.g. the data directory).
    fn storage_health(&self, path: &Path) -> StorageHealth {
        storage::storage_health(self.root(), path)
    }

    /// The sealer of the vault's unattended-unlock key, whose file (when the
    /// method needs one) lives in `keys_dir`. Never fails: when the board's
    /// hardware method is unavailable, the file method is returned and
    /// [`KeySealer::describe`] says why.
    fn key_sealer(&self, keys_dir: &Path) -> Box<dyn KeySealer>;
}

/// Which board to use: from the command line or configuration.
///
/// Parsed from `auto`, `rpi`, `pc`, `sim` (also `raspberry-pi`,
/// `simulated`, any case); serialised as `auto`, `rpi`, `pc`, `sim`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum BoardChoice {
    /// Raspberry Pi if the device tree says so, else PC.
    #[default]
    Auto,
    /// Force the Raspberry Pi implementation.
    RaspberryPi,
    /// Force the PC implementation.
    Pc,
    /// The simulated board (never chosen by `Auto`).
    Simulated,
}

impl BoardChoice {
    /// The canonical name: `auto`, `rpi`, `pc` or `sim`.
    pub fn as_str(self) -> &'static str {
        match self {
            BoardChoice::Auto => "auto",
            BoardChoice::RaspberryPi => "rpi",
            BoardChoice::Pc => "pc",
            BoardChoice::Simulated => "sim",
        }
    }
}

impl FromStr for BoardChoice {
    type Err = BoardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(BoardChoice::Auto),
            "rpi" | "raspberry-pi" | "raspberry_pi" | "raspberrypi" => Ok(BoardChoice::RaspberryPi),
            "pc" => Ok(BoardChoice::Pc),
            "sim" | "simulated" => Ok(BoardChoice::Simulated),
            _ => Err(BoardError::UnknownChoice(s.to_owned())),
        }
    }
}

impl TryFrom<String> for BoardChoice {
    type Error = BoardError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<BoardChoice> for &'static str {
    fn from(c: BoardChoice) -> &'static str {
        c.as_str()
    }
}

impl fmt::Display for BoardChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `Auto` resolves to under `root`: [`BoardKind::RaspberryPi`] when the
/// device-tree model contains "Raspberry Pi", else [`BoardKind::Pc`].
pub fn detect_kind(root: &Path) -> BoardKind {
    match identity::device_tree_model(root) {
        Some(model) if model.contains("Raspberry Pi") => BoardKind::RaspberryPi,
        _ => BoardKind::Pc,
    }
}

/// The board for `choice`, reading its system files under `root`.
pub fn detect(choice: BoardChoice, root: &Path) -> Box<dyn Board> {
    let kind = match choice {
        BoardChoice::Auto => detect_kind(root),
        BoardChoice::RaspberryPi => BoardKind::RaspberryPi,
        BoardChoice::Pc => BoardKind::Pc,
        BoardChoice::Simulated => BoardKind::Simulated,
    };
    tracing::debug!(choice = %choice, ?kind, root = %root.display(), "board selected");
    match kind {
        BoardKind::RaspberryPi => Box::new(RaspberryPi::new(root)),
        BoardKind::Pc => Box::new(Pc::new(root)),
        BoardKind::Simulated => Box::new(Simulated::new(root)),
    }
}
