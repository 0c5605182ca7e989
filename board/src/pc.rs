//! Generic PC or virtual machine (amd64 images, development machines).
//!
//! Identity comes from DMI. PCs have no status LED Foyer may drive (the
//! keyboard LEDs are not ours) and no dedicated button (the power button
//! belongs to systemd-logind), so those are reported as absent. The
//! unattended key uses the file method: a TPM-based sealer would go here.

use std::path::{Path, PathBuf};

use crate::identity::{HardwareIdentity, dmi_identity};
use crate::seal::{FileSealer, KeySealer};
use crate::sensors::{Sensors, cpu_temperature};
use crate::source::ButtonSource;
use crate::{Board, BoardError, BoardKind, LedState};

/// A PC or VM whose system files are under `root`.
#[derive(Clone, Debug)]
pub struct Pc {
    root: PathBuf,
}

impl Pc {
    /// The PC board reading under `root` (`/` in production).
    pub fn new(root: &Path) -> Pc {
        Pc {
            root: root.to_owned(),
        }
    }
}

impl Board for Pc {
    fn kind(&self) -> BoardKind {
        BoardKind::Pc
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn identity(&self) -> HardwareIdentity {
        dmi_identity(&self.root)
    }

    fn has_led(&self) -> bool {
        false
    }

    fn set_led(&self, state: LedState) -> Result<(), BoardError> {
        tracing::trace!(state = state.as_str(), "no status LED on this PC");
        Ok(())
    }

    fn button(&self) -> Result<Option<ButtonSource>, BoardError> {
        Ok(None)
    }

    fn sensors(&self) -> Sensors {
        Sensors {
            temperature_c: cpu_temperature(&self.root),
            throttling: None,
        }
    }

    fn key_sealer(&self, keys_dir: &Path) -> Box<dyn KeySealer> {
        Box::new(FileSealer::new(keys_dir))
    }
}
