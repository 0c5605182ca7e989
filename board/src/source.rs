//! Where button edges come from: the GPIO character device (a push button
//! wired to the Raspberry Pi header), the Linux input device of the Raspberry
//! Pi 5 power button (`KEY_POWER`), or a FIFO under a simulated root that
//! tests write `down`/`up` lines to.
//!
//! A [`ButtonSource`] is one or more of these inputs, each with a pollable
//! file descriptor, merged into one logical button. It is consumed by
//! [`crate::ButtonWatcher`], which sleeps in `poll(2)` (no periodic wake-ups)
//! and runs the [`crate::ButtonClassifier`].

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::BoardError;
use crate::button::{ButtonEdge, Edge};

/// Debounce period asked of the GPIO driver for a mechanical push button.
pub const GPIO_DEBOUNCE: Duration = Duration::from_millis(20);

/// Linux input event type for keys (`EV_KEY`).
const EV_KEY: u16 = 0x01;
/// Linux key code of the power key (`KEY_POWER`).
const KEY_POWER: u16 = 116;

/// Now, on `CLOCK_MONOTONIC` (the clock GPIO edge timestamps use).
///
/// Never goes backwards and never panics: should the clock ever be unreadable
/// the last value read is returned again.
pub fn monotonic_now() -> Duration {
    static LAST_NS: AtomicU64 = AtomicU64::new(0);
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => {
            let now = Duration::new(
                u64::try_from(ts.tv_sec()).unwrap_or(0),
                u32::try_from(ts.tv_nsec()).unwrap_or(0),
            );
            let ns = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
            let prev = LAST_NS.fetch_max(ns, Ordering::Relaxed);
            Duration::from_nanos(prev.max(ns))
        }
        Err(_) => Duration::from_nanos(LAST_NS.load(Ordering::Relaxed)),
    }
}

/// Whether an input can still produce edges after a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// More edges may come.
    Open,
    /// End of input (a regular file replayed to its end, a device unplugged).
    Closed,
}

/// One pollable producer of edges.
pub(crate) trait EdgeInput: Send {
    /// For messages: what this input is.
    fn describe(&self) -> String;
    /// The descriptor to wait on for readability.
    fn fd(&self) -> BorrowedFd<'_>;
    /// Reads what is available now, without blocking, appending edges.
    fn read_edges(&mut self, out: &mut Vec<ButtonEdge>) -> Result<Flow, BoardError>;
}

/// One logical button fed by one or more inputs.
pub struct ButtonSource {
    inputs: Vec<Box<dyn EdgeInput>>,
}

impl std::fmt::Debug for ButtonSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ButtonSource")
            .field("inputs", &self.describe())
            .finish()
    }
}

impl ButtonSource {
    fn single(input: impl EdgeInput + 'static) -> ButtonSource {
        ButtonSource {
            inputs: vec![Box::new(input)],
        }
    }

    /// A text-line source at `path`, for simulation and tests: each line
    /// `down` (or `press`) / `up` (or `release`) is an edge stamped with the
    /// time it is read; blank lines and `#` comments are ignored.
    ///
    /// When `path` does not exist a FIFO (mode 0600) is created there. A FIFO
    /// is opened read-write so that writers may come and go without an
    /// end-of-file; a regular file is replayed once to its end.
    pub fn fifo(path: &Path) -> Result<ButtonSource, BoardError> {
        if fs::symlink_metadata(path).is_err() {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| BoardError::io("create", parent, e))?;
            }
            match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
                Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                Err(e) => return Err(BoardError::io("mkfifo", path, e.into())),
            }
        }
        let meta = fs::metadata(path).map_err(|e| BoardError::io("stat", path, e))?;
        let file = OpenOptions::new()
            .read(true)
            .write(meta.file_type().is_fifo())
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| BoardError::io("open", path, e))?;
        Ok(ButtonSource::single(LineInput {
            path: path.to_owned(),
            file,
            pending: Vec::new(),
        }))
    }

    /// The `KEY_POWER` key of a Linux input device (`/dev/input/eventN`),
    /// e.g. the Raspberry Pi 5 power button (`pwr_button`).
    ///
    /// The device is not grabbed: systemd-logind still sees the key, so an
    /// image that uses it as the Foyer button must set `HandlePowerKey=ignore`
    /// in `logind.conf`.
    pub fn power_key(path: &Path) -> Result<ButtonSource, BoardError> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| BoardError::io("open", path, e))?;
        Ok(ButtonSource::single(EvdevInput {
            path: path.to_owned(),
            file,
            pending: Vec::new(),
        }))
    }

    /// A push button on line `offset` of the GPIO chip `chip`
    /// (`/dev/gpiochipN`), wired active-low: the other leg of the button goes
    /// to ground and the line's internal pull-up is enabled. The kernel
    /// debounces ([`GPIO_DEBOUNCE`]) and timestamps edges.
    ///
    /// If the button is already held when the line is requested (held during
    /// power-on), a press is reported at once.
    pub fn gpio(chip: &Path, offset: u32) -> Result<ButtonSource, BoardError> {
        use gpiocdev::line::{Bias, EdgeDetection, EventClock, Value};
        let context = format!("{} line {offset}", chip.display());
        let request = gpiocdev::Request::builder()
            .on_chip(chip)
            .with_consumer("foyer-button")
            .with_line(offset)
            .as_input()
            .as_active_low()
            .with_bias(Bias::PullUp)
            .with_edge_detection(EdgeDetection::BothEdges)
            .with_debounce_period(GPIO_DEBOUNCE)
            .with_event_clock(EventClock::Monotonic)
            .request()
            .map_err(|source| BoardError::Gpio {
                context: context.clone(),
                source,
            })?;
        let held_at_start = matches!(request.value(offset), Ok(Value::Active));
        Ok(ButtonSource::single(GpioInput {
            context,
            request,
            held_at_start,
        }))
    }

    /// One button fed by all the inputs of `sources` (any of them pressed
    /// counts as the button pressed). `None` when there are none.
    pub fn merge(sources: impl IntoIterator<Item = ButtonSource>) -> Option<ButtonSource> {
        let inputs: Vec<Box<dyn EdgeInput>> = sources.into_iter().flat_map(|s| s.inputs).collect();
        (!inputs.is_empty()).then_some(ButtonSource { inputs })
    }

    /// What the inputs are, for logs: e.g. `gpio /dev/gpiochip0 line 17`.
    pub fn describe(&self) -> String {
        self.inputs
            .iter()
            .map(|i| i.describe())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn into_inputs(self) -> Vec<Box<dyn EdgeInput>> {
        self.inputs
    }
}

/// Reads everything available from a non-blocking file into `pending`.
fn drain(file: &mut File, path: &Path, pending: &mut Vec<u8>) -> Result<Flow, BoardError> {
    let mut buf = [0u8; 512];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(Flow::Closed),
            Ok(n) => pending.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Flow::Open),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // An unplugged input device reports ENODEV: the input is gone.
            Err(e) if e.raw_os_error() == Some(nix::libc::ENODEV) => return Ok(Flow::Closed),
            Err(e) => return Err(BoardError::io("read", path, e)),
        }
    }
}

/// `down`/`up` text lines (simulation).
struct LineInput {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
}

/// Parses one line of the simulated button protocol.
pub(crate) fn parse_line(line: &str) -> Option<Edge> {
    match line.trim().to_ascii_lowercase().as_str() {
        "down" | "press" | "pressed" => Some(Edge::Down),
        "up" | "release" | "released" => Some(Edge::Up),
        _ => None,
    }
}

impl EdgeInput for LineInput {
    fn describe(&self) -> String {
        format!("lines {}", self.path.display())
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn read_edges(&mut self, out: &mut Vec<ButtonEdge>) -> Result<Flow, BoardError> {
        let flow = drain(&mut self.file, &self.path, &mut self.pending)?;
        let at = monotonic_now();
        // A last line without its newline still counts once the input ends.
        let complete = match self.pending.iter().rposition(|b| *b == b'\n') {
            _ if flow == Flow::Closed => self.pending.len(),
            Some(i) => i + 1,
            None => 0,
        };
        let lines: Vec<u8> = self.pending.drain(..complete).collect();
        for line in String::from_utf8_lossy(&lines).lines() {
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            match parse_line(text) {
                Some(edge) => out.push(ButtonEdge { edge, at }),
                None => tracing::warn!(path = %self.path.display(), line = text,
                    "ignoring unknown simulated button line (expected down or up)"),
            }
        }
        Ok(flow)
    }
}

/// Size of `struct input_event` and offset of its `type` field.
fn input_event_layout() -> (usize, usize) {
    (
        std::mem::size_of::<nix::libc::input_event>(),
        std::mem::size_of::<nix::libc::timeval>(),
    )
}

/// Decodes `struct input_event` records (native layout) into power-key edges,
/// stamped `at`. Returns how many bytes were consumed (whole records only).
pub(crate) fn parse_input_events(bytes: &[u8], at: Duration, out: &mut Vec<ButtonEdge>) -> usize {
    let (size, type_off) = input_event_layout();
    let mut used = 0;
    for record in bytes.chunks_exact(size) {
        used += size;
        let field = |off: usize, len: usize| record.get(type_off + off..type_off + off + len);
        let (Some(ty), Some(code), Some(value)) = (field(0, 2), field(2, 2), field(4, 4)) else {
            continue;
        };
        let ty = u16::from_ne_bytes([ty[0], ty[1]]);
        let code = u16::from_ne_bytes([code[0], code[1]]);
        let value = i32::from_ne_bytes([value[0], value[1], value[2], value[3]]);
        if ty != EV_KEY || code != KEY_POWER {
            continue;
        }
        // 1 = press, 0 = release, 2 = autorepeat (ignored).
        match value {
            1 => out.push(ButtonEdge {
                edge: Edge::Down,
                at,
            }),
            0 => out.push(ButtonEdge { edge: Edge::Up, at }),
            _ => {}
        }
    }
    used
}

/// Encodes one `struct input_event` (zero timestamp), for tests and fixtures.
pub fn encode_input_event(ty: u16, code: u16, value: i32) -> Vec<u8> {
    let (size, type_off) = input_event_layout();
    let mut rec = vec![0u8; size];
    rec[type_off..type_off + 2].copy_from_slice(&ty.to_ne_bytes());
    rec[type_off + 2..type_off + 4].copy_from_slice(&code.to_ne_bytes());
    rec[type_off + 4..type_off + 8].copy_from_slice(&value.to_ne_bytes());
    rec
}

/// A Linux input device's power key.
struct EvdevInput {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
}

impl EdgeInput for EvdevInput {
    fn describe(&self) -> String {
        format!("input {} KEY_POWER", self.path.display())
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn read_edges(&mut self, out: &mut Vec<ButtonEdge>) -> Result<Flow, BoardError> {
        let flow = drain(&mut self.file, &self.path, &mut self.pending)?;
        let used = parse_input_events(&self.pending, monotonic_now(), out);
        self.pending.drain(..used);
        Ok(flow)
    }
}

/// A GPIO line through the character device.
struct GpioInput {
    context: String,
    request: gpiocdev::Request,
    held_at_start: bool,
}

impl EdgeInput for GpioInput {
    fn describe(&self) -> String {
        format!("gpio {}", self.context)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.request.as_fd()
    }

    fn read_edges(&mut self, out: &mut Vec<ButtonEdge>) -> Result<Flow, BoardError> {
        if std::mem::take(&mut self.held_at_start) {
            out.push(ButtonEdge {
                edge: Edge::Down,
                at: monotonic_now(),
            });
        }
        let err = |source| BoardError::Gpio {
            context: self.context.clone(),
            source,
        };
        while self.request.has_edge_event().map_err(err)? {
            let event = self.request.read_edge_event().map_err(err)?;
            let edge = match event.kind {
                gpiocdev::line::EdgeKind::Rising => Edge::Down,
                gpiocdev::line::EdgeKind::Falling => Edge::Up,
            };
            out.push(ButtonEdge {
                edge,
                at: Duration::from_nanos(event.timestamp_ns),
            });
        }
        Ok(Flow::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_protocol() {
        assert_eq!(parse_line("down"), Some(Edge::Down));
        assert_eq!(parse_line(" UP \r"), Some(Edge::Up));
        assert_eq!(parse_line("press"), Some(Edge::Down));
        assert_eq!(parse_line("sideways"), None);
    }

    #[test]
    fn input_events_keep_only_the_power_key() {
        let mut bytes = Vec::new();
        bytes.extend(encode_input_event(EV_KEY, KEY_POWER, 1));
        bytes.extend(encode_input_event(0, 0, 0)); // EV_SYN
        bytes.extend(encode_input_event(EV_KEY, 30, 1)); // KEY_A
        bytes.extend(encode_input_event(EV_KEY, KEY_POWER, 2)); // autorepeat
        bytes.extend(encode_input_event(EV_KEY, KEY_POWER, 0));
        bytes.extend([1, 2, 3]); // partial record stays pending
        let mut out = Vec::new();
        let used = parse_input_events(&bytes, Duration::from_secs(7), &mut out);
        assert_eq!(used, bytes.len() - 3);
        let edges: Vec<Edge> = out.iter().map(|e| e.edge).collect();
        assert_eq!(edges, vec![Edge::Down, Edge::Up]);
        assert!(out.iter().all(|e| e.at == Duration::from_secs(7)));
    }

    #[test]
    fn monotonic_now_does_not_go_backwards() {
        let a = monotonic_now();
        let b = monotonic_now();
        assert!(b >= a);
        assert!(a > Duration::ZERO);
    }
}
