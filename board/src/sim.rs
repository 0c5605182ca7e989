//! A simulated board whose "hardware" is a directory, for tests and for
//! running the daemon on a development machine with a scriptable box.
//!
//! Everything a real board reads from sysfs is read from the same paths
//! under the root (thermal zones, watchdog, block devices, mountinfo), and the
//! things only firmware or wires provide are plain files under `<root>/sim/`:
//!
//! | file | meaning |
//! | --- | --- |
//! | `sim/model`, `sim/serial` | identity (defaults: `Foyer simulated board`, no serial) |
//! | `sim/led` | written by `set_led`: the state's snake_case name (`ok`, `error`...) |
//! | `sys/class/leds/sim/*` | written by `set_led`: the trigger, delays and brightness a real LED would get |
//! | `sim/button` | FIFO (created on demand): write `down` / `up` lines to press the button |
//! | `sim/throttled` | firmware throttled word in hex, e.g. `0x50005` |
//! | `sim/otp-private-key` | the "OTP" private key, 64 hex digits (absent or zeros: not programmed) |

use std::path::{Path, PathBuf};

use crate::identity::HardwareIdentity;
use crate::led::SysfsLed;
use crate::seal::{KeySealer, OtpSource, otp_or_file};
use crate::sensors::{Sensors, Throttling, ThrottlingSource, cpu_temperature};
use crate::source::ButtonSource;
use crate::sysfs::{parse_int, read_text, write_attr};
use crate::{Board, BoardError, BoardKind, LedState};

/// A simulated board rooted at a directory.
#[derive(Clone, Debug)]
pub struct Simulated {
    root: PathBuf,
}

impl Simulated {
    /// The simulated board whose tree is `root`.
    pub fn new(root: &Path) -> Simulated {
        Simulated {
            root: root.to_owned(),
        }
    }

    /// `<root>/sim/<name>`.
    pub fn sim_path(&self, name: &str) -> PathBuf {
        self.root.join("sim").join(name)
    }

    fn serial(&self) -> Option<String> {
        read_text(&self.sim_path("serial"))
    }
}

impl Board for Simulated {
    fn kind(&self) -> BoardKind {
        BoardKind::Simulated
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn identity(&self) -> HardwareIdentity {
        HardwareIdentity {
            model: read_text(&self.sim_path("model"))
                .unwrap_or_else(|| "Foyer simulated board".into()),
            serial: self.serial(),
        }
    }

    fn has_led(&self) -> bool {
        true
    }

    fn set_led(&self, state: LedState) -> Result<(), BoardError> {
        SysfsLed::simulated(self.root.join("sys/class/leds/sim")).show(state.pattern())?;
        write_attr(&self.sim_path("led"), state.as_str(), true)
    }

    fn button(&self) -> Result<Option<ButtonSource>, BoardError> {
        ButtonSource::fifo(&self.sim_path("button")).map(Some)
    }

    fn sensors(&self) -> Sensors {
        let path = self.sim_path("throttled");
        let throttling = read_text(&path).and_then(|t| {
            let digits = t.trim_start_matches("throttled=");
            let value = if digits.starts_with("0x") || digits.starts_with("0X") {
                parse_int(digits)
            } else {
                i64::from_str_radix(digits, 16).ok()
            };
            match value.and_then(|v| u32::try_from(v).ok()) {
                Some(raw) => Some(Throttling::from_raw(raw, ThrottlingSource::Simulated)),
                None => {
                    tracing::warn!(path = %path.display(), "simulated throttled word is not hex");
                    None
                }
            }
        });
        Sensors {
            temperature_c: cpu_temperature(&self.root),
            throttling,
        }
    }

    fn key_sealer(&self, keys_dir: &Path) -> Box<dyn KeySealer> {
        otp_or_file(
            OtpSource::HexFile(self.sim_path("otp-private-key")),
            self.serial(),
            keys_dir,
        )
    }
}
