//! The status LED: which pattern each box state shows, and how it is driven
//! through the kernel's LED class (`/sys/class/leds/<name>/`).
//!
//! Blinking is delegated to kernel LED *triggers* (`timer`, `heartbeat`), so
//! a blinking LED costs the daemon no thread and no CPU wake-up: the daemon
//! writes a pattern once when the state changes and forgets about it.
//!
//! | state | pattern | kernel trigger | meaning for the owner |
//! | --- | --- | --- | --- |
//! | [`LedState::Booting`] | even blink, 2 per second | `timer`, 250 ms on / 250 ms off | starting up, wait |
//! | [`LedState::Unclaimed`] | double pulse ("heartbeat") | `heartbeat` (fallback `timer` 100/900) | ready, waiting to be claimed from a phone |
//! | [`LedState::Ok`] | steady on | `none`, then `brightness` = `max_brightness` | all good |
//! | [`LedState::Attention`] | slow blink, 1 per 2 seconds | `timer`, 1000 ms on / 1000 ms off | look at the app (pairing window open, button hold recognised, update waiting) |
//! | [`LedState::Error`] | rapid flicker | `timer`, 80 ms on / 80 ms off | something is wrong; see the app or the logs |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::BoardError;
use crate::sysfs::{read_text, under, write_attr};

/// What the box wants to tell the person looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedState {
    /// Starting up.
    Booting,
    /// Running, not yet claimed by an owner.
    Unclaimed,
    /// Running normally.
    Ok,
    /// Something needs the owner's attention (not a failure).
    Attention,
    /// Something is wrong.
    Error,
}

impl LedState {
    /// Every state, in the order of the table above.
    pub const ALL: [LedState; 5] = [
        LedState::Booting,
        LedState::Unclaimed,
        LedState::Ok,
        LedState::Attention,
        LedState::Error,
    ];

    /// The pattern this state shows (see the module table).
    pub fn pattern(self) -> LedPattern {
        match self {
            LedState::Booting => LedPattern::Blink {
                on_ms: 250,
                off_ms: 250,
            },
            LedState::Unclaimed => LedPattern::Heartbeat,
            LedState::Ok => LedPattern::On,
            LedState::Attention => LedPattern::Blink {
                on_ms: 1000,
                off_ms: 1000,
            },
            LedState::Error => LedPattern::Blink {
                on_ms: 80,
                off_ms: 80,
            },
        }
    }

    /// The snake_case name (`booting`, `unclaimed`, `ok`, `attention`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            LedState::Booting => "booting",
            LedState::Unclaimed => "unclaimed",
            LedState::Ok => "ok",
            LedState::Attention => "attention",
            LedState::Error => "error",
        }
    }
}

/// A way of lighting the LED that the kernel can run on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedPattern {
    /// Steady on at full brightness.
    On,
    /// Off.
    Off,
    /// The `timer` trigger with these on and off times.
    Blink {
        /// Milliseconds on.
        on_ms: u32,
        /// Milliseconds off.
        off_ms: u32,
    },
    /// The `heartbeat` trigger (double pulse whose rate follows the load).
    Heartbeat,
}

/// One LED of the kernel LED class, e.g. `<root>/sys/class/leds/ACT`.
#[derive(Clone, Debug)]
pub(crate) struct SysfsLed {
    dir: PathBuf,
    /// Create missing attribute files (simulated trees only).
    create: bool,
}

impl SysfsLed {
    /// The first LED among `names` that exists under `<root>/sys/class/leds`.
    pub(crate) fn find(root: &Path, names: &[&str]) -> Option<SysfsLed> {
        let leds = under(root, "/sys/class/leds");
        names
            .iter()
            .map(|n| leds.join(n))
            .find_map(|dir| dir.is_dir().then_some(SysfsLed { dir, create: false }))
    }

    /// An LED directory whose files are created on first write (simulation).
    pub(crate) fn simulated(dir: PathBuf) -> SysfsLed {
        SysfsLed { dir, create: true }
    }

    /// Shows `pattern`, falling back from `heartbeat` to an equivalent
    /// `timer` blink when the kernel lacks the heartbeat trigger.
    pub(crate) fn show(&self, pattern: LedPattern) -> Result<(), BoardError> {
        match pattern {
            LedPattern::Heartbeat => match self.attr("trigger", "heartbeat") {
                Ok(()) => Ok(()),
                Err(e) => {
                    tracing::debug!(error = %e, "heartbeat trigger unavailable, using timer");
                    self.show(LedPattern::Blink {
                        on_ms: 100,
                        off_ms: 900,
                    })
                }
            },
            LedPattern::Blink { on_ms, off_ms } => {
                // Writing `timer` makes the kernel create delay_on/delay_off.
                self.attr("trigger", "timer")?;
                self.attr("delay_on", &on_ms.to_string())?;
                self.attr("delay_off", &off_ms.to_string())
            }
            LedPattern::On => {
                self.attr("trigger", "none")?;
                let max = read_text(&self.dir.join("max_brightness"))
                    .and_then(|m| m.parse::<u32>().ok())
                    .filter(|m| *m > 0)
                    .unwrap_or(1);
                self.attr("brightness", &max.to_string())
            }
            LedPattern::Off => {
                self.attr("trigger", "none")?;
                self.attr("brightness", "0")
            }
        }
    }

    fn attr(&self, name: &str, value: &str) -> Result<(), BoardError> {
        write_attr(&self.dir.join(name), value, self.create)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fake_led(root: &Path, name: &str) -> PathBuf {
        let dir = root.join("sys/class/leds").join(name);
        fs::create_dir_all(&dir).expect("mkdir");
        for (f, v) in [
            ("trigger", "none [mmc0] timer heartbeat default-on\n"),
            ("brightness", "0\n"),
            ("max_brightness", "255\n"),
            ("delay_on", "500\n"),
            ("delay_off", "500\n"),
        ] {
            fs::write(dir.join(f), v).expect("write");
        }
        dir
    }

    #[test]
    fn find_prefers_the_first_name_present() {
        let root = tempfile::tempdir().expect("tempdir");
        fake_led(root.path(), "led0");
        let led = SysfsLed::find(root.path(), &["ACT", "led0"]).expect("found");
        assert!(led.dir.ends_with("led0"));
        assert!(SysfsLed::find(root.path(), &["PWR"]).is_none());
    }

    #[test]
    fn on_uses_max_brightness_and_off_clears() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = fake_led(root.path(), "ACT");
        let led = SysfsLed::find(root.path(), &["ACT"]).expect("found");
        led.show(LedPattern::On).expect("on");
        assert_eq!(fs::read_to_string(dir.join("trigger")).expect("r"), "none");
        assert_eq!(
            fs::read_to_string(dir.join("brightness")).expect("r"),
            "255"
        );
        led.show(LedPattern::Off).expect("off");
        assert_eq!(fs::read_to_string(dir.join("brightness")).expect("r"), "0");
    }

    #[test]
    fn missing_attribute_is_an_error_naming_the_file() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("sys/class/leds/ACT");
        fs::create_dir_all(&dir).expect("mkdir");
        let led = SysfsLed::find(root.path(), &["ACT"]).expect("found");
        let err = led.show(LedPattern::On).expect_err("no trigger file");
        assert!(err.to_string().contains("trigger"), "{err}");
    }

    #[test]
    fn serde_names_are_snake_case() {
        for s in LedState::ALL {
            let json = serde_json::to_string(&s).expect("json");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
