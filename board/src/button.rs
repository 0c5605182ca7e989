//! The button's meaning: turning press and release edges into the two
//! gestures the box understands.
//!
//! - a **short press** (released before [`ButtonTiming::short_max`], 2 s by
//!   default) opens the pairing window: [`ButtonEvent::Pairing`];
//! - a **long hold** (still held at [`ButtonTiming::long_min`], 10 s by
//!   default) asks for a factory reset: [`ButtonEvent::FactoryReset`].
//!
//! A press released between the two is ignored, so a hesitant press does
//! nothing rather than the wrong thing. The long hold is reported *while the
//! button is still down*, as soon as it has been held long enough: the person
//! holds the button until the LED reacts, and must not have to guess when to
//! let go. It is reported once per press.
//!
//! [`ButtonClassifier`] is pure (no clock, no I/O): feed it [`ButtonEdge`]s
//! with monotonic timestamps and call [`ButtonClassifier::tick`] at
//! [`ButtonClassifier::deadline`]. [`crate::ButtonWatcher`] does that over a
//! real [`crate::ButtonSource`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a gesture on the button means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonEvent {
    /// Short press: open the pairing window.
    Pairing,
    /// Held for at least `long_min`: the owner asks for a factory reset.
    FactoryReset,
}

/// Which way the button moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Pressed.
    Down,
    /// Released.
    Up,
}

/// One press or release, with a monotonic timestamp (any fixed origin, e.g.
/// `CLOCK_MONOTONIC`; only differences matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ButtonEdge {
    /// Pressed or released.
    pub edge: Edge,
    /// When, on a monotonic clock.
    pub at: Duration,
}

/// The thresholds that separate a short press from a long hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ButtonTiming {
    /// A press released strictly before this long is a short press.
    pub short_max: Duration,
    /// A press held this long (or longer) is a long hold.
    pub long_min: Duration,
}

impl Default for ButtonTiming {
    /// Short press < 2 s, long hold >= 10 s.
    fn default() -> Self {
        ButtonTiming {
            short_max: Duration::from_secs(2),
            long_min: Duration::from_secs(10),
        }
    }
}

/// Turns edges into [`ButtonEvent`]s. See the module documentation.
///
/// Robust to what real buttons and drivers produce: a second `Down` while
/// already down (a lost release, or two inputs merged) keeps the first press
/// time; an `Up` while already up is ignored; a timestamp earlier than the
/// press counts as a zero-length press.
#[derive(Clone, Debug)]
pub struct ButtonClassifier {
    timing: ButtonTiming,
    pressed_at: Option<Duration>,
    long_reported: bool,
}

impl ButtonClassifier {
    /// A classifier with the given thresholds, button released.
    pub fn new(timing: ButtonTiming) -> Self {
        ButtonClassifier {
            timing,
            pressed_at: None,
            long_reported: false,
        }
    }

    /// The thresholds in use.
    pub fn timing(&self) -> ButtonTiming {
        self.timing
    }

    /// Whether the button is currently held.
    pub fn is_pressed(&self) -> bool {
        self.pressed_at.is_some()
    }

    /// Feeds one edge; returns the gesture it completes, if any.
    pub fn edge(&mut self, edge: ButtonEdge) -> Option<ButtonEvent> {
        match edge.edge {
            Edge::Down => {
                if self.pressed_at.is_none() {
                    self.pressed_at = Some(edge.at);
                    self.long_reported = false;
                }
                // A Down at or past the deadline cannot itself complete a hold
                // of a *new* press; for an ongoing one, tick reports it.
                self.tick(edge.at)
            }
            Edge::Up => {
                let pressed_at = self.pressed_at.take()?;
                let already = std::mem::replace(&mut self.long_reported, false);
                let held = edge.at.saturating_sub(pressed_at);
                if already {
                    None
                } else if held >= self.timing.long_min {
                    // Nobody called tick in time: still a long hold.
                    Some(ButtonEvent::FactoryReset)
                } else if held < self.timing.short_max {
                    Some(ButtonEvent::Pairing)
                } else {
                    None
                }
            }
        }
    }

    /// Tells the classifier the time is `now`; reports the long hold once
    /// when the button has been held for `long_min`.
    pub fn tick(&mut self, now: Duration) -> Option<ButtonEvent> {
        let pressed_at = self.pressed_at?;
        if !self.long_reported && now.saturating_sub(pressed_at) >= self.timing.long_min {
            self.long_reported = true;
            Some(ButtonEvent::FactoryReset)
        } else {
            None
        }
    }

    /// When [`tick`](Self::tick) should next be called: the moment the current
    /// press becomes a long hold. `None` when released or already reported.
    pub fn deadline(&self) -> Option<Duration> {
        match self.pressed_at {
            Some(at) if !self.long_reported => Some(at.saturating_add(self.timing.long_min)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
    fn down(at: u64) -> ButtonEdge {
        ButtonEdge {
            edge: Edge::Down,
            at: ms(at),
        }
    }
    fn up(at: u64) -> ButtonEdge {
        ButtonEdge {
            edge: Edge::Up,
            at: ms(at),
        }
    }

    #[test]
    fn short_tap_is_pairing() {
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        assert_eq!(c.edge(down(1_000)), None);
        assert_eq!(c.edge(up(1_150)), Some(ButtonEvent::Pairing));
        assert!(!c.is_pressed());
    }

    #[test]
    fn boundaries() {
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        c.edge(down(0));
        assert_eq!(c.edge(up(1_999)), Some(ButtonEvent::Pairing));
        c.edge(down(10_000));
        assert_eq!(c.edge(up(12_000)), None, "2 s exactly is not short");
        c.edge(down(20_000));
        assert_eq!(c.edge(up(29_999)), None, "just under 10 s is ignored");
    }

    #[test]
    fn long_hold_reported_while_held_then_silence_on_release() {
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        c.edge(down(5_000));
        assert_eq!(c.deadline(), Some(ms(15_000)));
        assert_eq!(c.tick(ms(14_999)), None);
        assert_eq!(c.tick(ms(15_000)), Some(ButtonEvent::FactoryReset));
        assert_eq!(c.deadline(), None);
        assert_eq!(c.tick(ms(20_000)), None, "once per press");
        assert_eq!(c.edge(up(30_000)), None);
        // The next press starts afresh.
        c.edge(down(31_000));
        assert_eq!(c.edge(up(31_100)), Some(ButtonEvent::Pairing));
    }

    #[test]
    fn long_hold_without_ticks_is_reported_on_release() {
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        c.edge(down(0));
        assert_eq!(c.edge(up(12_000)), Some(ButtonEvent::FactoryReset));
    }

    #[test]
    fn stray_edges_are_harmless() {
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        assert_eq!(c.edge(up(10)), None);
        c.edge(down(100));
        c.edge(down(9_000)); // duplicate down keeps the first press time
        assert_eq!(c.tick(ms(10_100)), Some(ButtonEvent::FactoryReset));
        // Time going backwards counts as a zero-length press.
        let mut c = ButtonClassifier::new(ButtonTiming::default());
        c.edge(down(5_000));
        assert_eq!(c.edge(up(4_000)), Some(ButtonEvent::Pairing));
    }
}
