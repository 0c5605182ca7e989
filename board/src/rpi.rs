//! Raspberry Pi 4 and 5 (and their compute modules).
//!
//! - identity: device tree `model` and `serial-number`;
//! - LED: the green activity LED (`ACT`, `led0` on older kernels);
//! - button: a push button on a GPIO header pin through the GPIO character
//!   device, and optionally the Raspberry Pi 5's power button;
//! - sensors: `cpu-thermal` zone; throttling from the firmware mailbox, else
//!   the `rpi_volt` hwmon alarm;
//! - key sealing: the OTP device-unique private key, else a file.
//!
//! ## Button wiring
//!
//! A normally-open momentary push button between header **pin 11 (GPIO17)**
//! and **pin 9 (GND)** (any other ground pin works). No resistor is needed:
//! the line's internal pull-up is enabled, so the line reads high when idle
//! and low while pressed (active-low). The kernel debounces the contacts.
//! The line is found by its device-tree name (`GPIO17` on Raspberry Pi 4 and
//! 5, whatever the chip is called), so the same image works on both; another
//! line is chosen with [`RpiButton::gpio_line`].
//!
//! The Raspberry Pi 5's own power button (`pwr_button`, `KEY_POWER`) can be
//! used too ([`RpiButton::power_key`], off by default): the image must then
//! stop systemd-logind from powering off on it (`HandlePowerKey=ignore`),
//! and the power-management chip may force a hard power-off on a very long
//! hold, which would pre-empt a 10-second factory-reset hold.

use std::path::{Path, PathBuf};

use crate::identity::{HardwareIdentity, rpi_identity, rpi_serial};
use crate::led::SysfsLed;
use crate::mailbox::Mailbox;
use crate::seal::{KeySealer, OtpSource, otp_or_file};
use crate::sensors::{Sensors, Throttling, ThrottlingSource, cpu_temperature, hwmon_under_voltage};
use crate::source::ButtonSource;
use crate::sysfs::{numbered_entries, read_text, under};
use crate::{Board, BoardError, BoardKind, LedState};

/// LED names tried in order.
const LED_NAMES: [&str; 2] = ["ACT", "led0"];

/// Which inputs make the Raspberry Pi's button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpiButton {
    /// Device-tree name of the GPIO line wired to the button (default
    /// `GPIO17`, header pin 11); `None` for no GPIO button.
    pub gpio_line: Option<String>,
    /// Also use the Raspberry Pi 5 power button (`KEY_POWER` of the
    /// `pwr_button` input device). Off by default; see the module docs.
    pub power_key: bool,
}

impl Default for RpiButton {
    fn default() -> Self {
        RpiButton {
            gpio_line: Some("GPIO17".into()),
            power_key: false,
        }
    }
}

/// A Raspberry Pi whose system files are under `root`.
#[derive(Clone, Debug)]
pub struct RaspberryPi {
    root: PathBuf,
    button: RpiButton,
}

impl RaspberryPi {
    /// The Raspberry Pi board reading under `root` (`/` in production), with
    /// the default button wiring.
    pub fn new(root: &Path) -> RaspberryPi {
        RaspberryPi {
            root: root.to_owned(),
            button: RpiButton::default(),
        }
    }

    /// The same board with another button configuration.
    pub fn with_button(mut self, button: RpiButton) -> RaspberryPi {
        self.button = button;
        self
    }

    fn led(&self) -> Option<SysfsLed> {
        SysfsLed::find(&self.root, &LED_NAMES)
    }

    /// The GPIO chip (`<root>/dev/gpiochipN`) and offset of the line named
    /// `name`. Chips that cannot be opened are skipped.
    fn find_gpio_line(&self, name: &str) -> Option<(PathBuf, u32)> {
        let dev = under(&self.root, "/dev");
        for (_, chip_path) in numbered_entries(&dev, "gpiochip") {
            let chip = match gpiocdev::chip::Chip::from_path(&chip_path) {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(chip = %chip_path.display(), error = %e, "skipping GPIO chip");
                    continue;
                }
            };
            if let Some(info) = chip.find_line_info(name) {
                return Some((chip_path, info.offset));
            }
        }
        None
    }

    /// `<root>/dev/input/eventN` of the input device named `pwr_button`.
    fn find_power_button(&self) -> Option<PathBuf> {
        numbered_entries(&under(&self.root, "/sys/class/input"), "event")
            .into_iter()
            .find(|(_, dir)| read_text(&dir.join("device/name")).as_deref() == Some("pwr_button"))
            .map(|(n, _)| under(&self.root, "/dev/input").join(format!("event{n}")))
    }
}

impl Board for RaspberryPi {
    fn kind(&self) -> BoardKind {
        BoardKind::RaspberryPi
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn identity(&self) -> HardwareIdentity {
        rpi_identity(&self.root)
    }

    fn has_led(&self) -> bool {
        self.led().is_some()
    }

    fn set_led(&self, state: LedState) -> Result<(), BoardError> {
        match self.led() {
            Some(led) => led.show(state.pattern()),
            None => Ok(()),
        }
    }

    /// The GPIO button and/or the power key. `Ok(None)` when neither is
    /// configured or present; an error when a configured line exists but
    /// cannot be requested (e.g. another program holds it).
    fn button(&self) -> Result<Option<ButtonSource>, BoardError> {
        let mut sources = Vec::new();
        if let Some(name) = &self.button.gpio_line {
            match self.find_gpio_line(name) {
                Some((chip, offset)) => sources.push(ButtonSource::gpio(&chip, offset)?),
                None => tracing::info!(line = %name, "no GPIO line of that name: no GPIO button"),
            }
        }
        if self.button.power_key {
            match self.find_power_button() {
                Some(dev) => sources.push(ButtonSource::power_key(&dev)?),
                None => tracing::info!("no pwr_button input device: no power-key button"),
            }
        }
        Ok(ButtonSource::merge(sources))
    }

    fn sensors(&self) -> Sensors {
        let throttling = match Mailbox::open(&self.root).and_then(|m| m.get_throttled()) {
            Ok(raw) => Some(Throttling::from_raw(raw, ThrottlingSource::Mailbox)),
            Err(e) => {
                tracing::debug!(error = %e, "GET_THROTTLED unavailable, trying rpi_volt");
                hwmon_under_voltage(&self.root)
            }
        };
        Sensors {
            temperature_c: cpu_temperature(&self.root),
            throttling,
        }
    }

    fn key_sealer(&self, keys_dir: &Path) -> Box<dyn KeySealer> {
        otp_or_file(
            OtpSource::Mailbox(self.root.clone()),
            rpi_serial(&self.root),
            keys_dir,
        )
    }
}
