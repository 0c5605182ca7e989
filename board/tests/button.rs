//! The button: classifier properties, and edge sources end to end (the
//! simulated FIFO, a fake Raspberry Pi 5 power-key input device).

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use board::{
    Board, BoardChoice, ButtonClassifier, ButtonEdge, ButtonEvent, ButtonSource, ButtonTiming,
    ButtonWatcher, Edge, RaspberryPi, RpiButton, detect, encode_input_event,
};
use proptest::prelude::*;

const TIMING: ButtonTiming = ButtonTiming {
    short_max: Duration::from_secs(2),
    long_min: Duration::from_secs(10),
};

/// One step of a random session: an edge or a clock tick, `gap_ms` after the
/// previous step.
#[derive(Clone, Debug)]
enum Step {
    Down(u64),
    Up(u64),
    Tick(u64),
}

fn step() -> impl Strategy<Value = Step> {
    // Gaps up to 15 s so that every threshold is crossed often.
    let gap = prop_oneof![0u64..50, 0u64..3_000, 0u64..15_000];
    prop_oneof![
        gap.clone().prop_map(Step::Down),
        gap.clone().prop_map(Step::Up),
        gap.prop_map(Step::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any sequence: a factory reset is only ever reported when the button
    /// has been continuously held for at least `long_min`, at most once per
    /// press; a pairing only on a release after less than `short_max`.
    #[test]
    fn factory_reset_only_after_a_real_long_hold(steps in prop::collection::vec(step(), 0..60)) {
        let mut c = ButtonClassifier::new(TIMING);
        let mut now = Duration::ZERO;
        // Model: when the current press started, and whether reset was reported.
        let mut pressed_since: Option<Duration> = None;
        let mut resets_this_press = 0;
        for s in steps {
            let (event, gap, edge) = match s {
                Step::Down(g) => (None, g, Some(Edge::Down)),
                Step::Up(g) => (None, g, Some(Edge::Up)),
                Step::Tick(g) => (Some(()), g, None),
            };
            now += Duration::from_millis(gap);
            let out = match (event, edge) {
                (_, Some(edge)) => c.edge(ButtonEdge { edge, at: now }),
                _ => c.tick(now),
            };
            let held = pressed_since.map(|t| now - t);
            match out {
                Some(ButtonEvent::FactoryReset) => {
                    let held = held.expect("reset reported while never pressed");
                    prop_assert!(held >= TIMING.long_min, "reset after only {held:?}");
                    resets_this_press += 1;
                    prop_assert_eq!(resets_this_press, 1, "reset reported twice for one press");
                }
                Some(ButtonEvent::Pairing) => {
                    prop_assert_eq!(edge, Some(Edge::Up));
                    let held = held.expect("pairing without a press");
                    prop_assert!(held < TIMING.short_max, "pairing after {held:?}");
                }
                None => {}
            }
            match edge {
                Some(Edge::Down) if pressed_since.is_none() => {
                    pressed_since = Some(now);
                    resets_this_press = 0;
                }
                Some(Edge::Up) if pressed_since.is_some() => {
                    let held = now - pressed_since.take().unwrap_or(now);
                    // Every completed long press was reported exactly once.
                    if held >= TIMING.long_min {
                        prop_assert_eq!(resets_this_press, 1, "long press never reported");
                    }
                }
                _ => {}
            }
        }
    }

    /// A short tap is a pairing, whatever the timing within the window.
    #[test]
    fn short_taps_give_pairing(start in 0u64..1_000_000, held in 0u64..2_000) {
        let mut c = ButtonClassifier::new(TIMING);
        let t0 = Duration::from_millis(start);
        prop_assert_eq!(c.edge(ButtonEdge { edge: Edge::Down, at: t0 }), None);
        prop_assert_eq!(c.tick(t0 + Duration::from_millis(held)), None);
        prop_assert_eq!(
            c.edge(ButtonEdge { edge: Edge::Up, at: t0 + Duration::from_millis(held) }),
            Some(ButtonEvent::Pairing)
        );
    }

    /// A long hold is reported once, while still held, at the deadline, and
    /// its release is silent.
    #[test]
    fn long_hold_reported_once_while_held(start in 0u64..1_000_000, extra in 0u64..60_000, ticks in 1usize..20) {
        let mut c = ButtonClassifier::new(TIMING);
        let t0 = Duration::from_millis(start);
        c.edge(ButtonEdge { edge: Edge::Down, at: t0 });
        let deadline = c.deadline().expect("deadline while held");
        prop_assert_eq!(deadline, t0 + TIMING.long_min);
        prop_assert_eq!(c.tick(deadline - Duration::from_millis(1)), None);
        let mut reports = 0;
        for i in 0..ticks {
            let at = deadline + Duration::from_millis(extra * i as u64 / ticks as u64);
            if c.tick(at) == Some(ButtonEvent::FactoryReset) {
                reports += 1;
                prop_assert!(c.is_pressed(), "reported while held");
            }
        }
        prop_assert_eq!(reports, 1);
        prop_assert_eq!(c.edge(ButtonEdge { edge: Edge::Up, at: deadline + Duration::from_millis(extra) }), None);
    }

    /// Between short_max and long_min nothing happens.
    #[test]
    fn hesitant_presses_are_ignored(held in 2_000u64..10_000) {
        let mut c = ButtonClassifier::new(TIMING);
        c.edge(ButtonEdge { edge: Edge::Down, at: Duration::ZERO });
        prop_assert_eq!(c.tick(Duration::from_millis(held)), None);
        prop_assert_eq!(c.edge(ButtonEdge { edge: Edge::Up, at: Duration::from_millis(held) }), None);
    }
}

/// Quick thresholds for real-time tests, with wide margins so that a busy
/// machine (delayed reads) does not change a gesture's meaning.
const FAST: ButtonTiming = ButtonTiming {
    short_max: Duration::from_millis(300),
    long_min: Duration::from_millis(1500),
};

fn writer(path: &std::path::Path) -> std::fs::File {
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open fifo for writing")
}

#[test]
fn simulated_button_end_to_end_through_the_fifo() {
    let root = tempfile::tempdir().expect("tempdir");
    let board = detect(BoardChoice::Simulated, root.path());
    let source = board.button().expect("button").expect("sim has a button");
    let fifo = root.path().join("sim/button");
    assert!(source.describe().contains("sim/button"));
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata(&fifo)
                .expect("fifo")
                .file_type()
                .is_fifo()
        );
    }
    let (watcher, events) = ButtonWatcher::with_channel(source, FAST, 4).expect("watch");

    // A short tap (written by a writer that then goes away: no EOF for us).
    writer(&fifo).write_all(b"down\nup\n").expect("tap");
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)),
        Ok(ButtonEvent::Pairing)
    );

    // A long hold: reported while the button is still down.
    let mut w = writer(&fifo);
    let pressed = Instant::now();
    w.write_all(b"down\n").expect("down");
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)),
        Ok(ButtonEvent::FactoryReset)
    );
    let waited = pressed.elapsed();
    assert!(waited >= FAST.long_min, "reported after {waited:?}");
    // Releasing afterwards reports nothing more.
    w.write_all(b"up\n").expect("up");
    assert_eq!(
        events.recv_timeout(Duration::from_millis(400)),
        Err(RecvTimeoutError::Timeout)
    );

    // A hesitant press (between the thresholds) is ignored; garbage too.
    w.write_all(b"sideways\ndown\n").expect("down");
    std::thread::sleep(Duration::from_millis(800));
    w.write_all(b"up\n").expect("up");
    assert_eq!(
        events.recv_timeout(Duration::from_millis(400)),
        Err(RecvTimeoutError::Timeout)
    );

    // Stop is prompt even while idle in poll.
    let t = Instant::now();
    watcher.stop().expect("clean stop");
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(
        events.recv_timeout(Duration::from_millis(50)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn watcher_callback_and_drop_stop() {
    let root = tempfile::tempdir().expect("tempdir");
    let fifo = root.path().join("b");
    let source = ButtonSource::fifo(&fifo).expect("fifo");
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = ButtonWatcher::spawn(source, FAST, move |e| {
        let _ = tx.send(e);
    })
    .expect("spawn");
    writer(&fifo).write_all(b"press\nrelease\n").expect("tap");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Ok(ButtonEvent::Pairing)
    );
    assert!(!watcher.is_finished());
    drop(watcher); // joins
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(50)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn a_regular_file_is_replayed_then_the_watcher_ends() {
    let root = tempfile::tempdir().expect("tempdir");
    let script = root.path().join("script");
    std::fs::write(&script, "# a tap\ndown\nup").expect("w");
    let source = ButtonSource::fifo(&script).expect("file");
    let (watcher, events) = ButtonWatcher::with_channel(source, FAST, 1).expect("watch");
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)),
        Ok(ButtonEvent::Pairing)
    );
    let t = Instant::now();
    while !watcher.is_finished() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(watcher.is_finished(), "all inputs closed: the thread ends");
    watcher.stop().expect("no error");
}

#[test]
fn rpi5_power_key_through_a_fake_input_device() {
    let f = common::fixture();
    common::rpi4(&f.root, &f.data);
    common::put(&f.root, "sys/class/input/event0/device/name", "gpio_keys\n");
    common::put(
        &f.root,
        "sys/class/input/event1/device/name",
        "pwr_button\n",
    );
    let mut records = Vec::new();
    records.extend(encode_input_event(1, 116, 1));
    records.extend(encode_input_event(0, 0, 0));
    records.extend(encode_input_event(1, 116, 0));
    common::put(&f.root, "dev/input/event1", &records);

    // Off by default; no gpiochip in the tree, so no button at all.
    let board = RaspberryPi::new(&f.root);
    assert!(board.button().expect("button").is_none());

    let board = RaspberryPi::new(&f.root).with_button(RpiButton {
        gpio_line: Some("GPIO17".into()),
        power_key: true,
    });
    let source = board.button().expect("button").expect("power key");
    assert!(
        source.describe().contains("dev/input/event1"),
        "{}",
        source.describe()
    );
    let (watcher, events) = ButtonWatcher::with_channel(source, FAST, 2).expect("watch");
    assert_eq!(
        events.recv_timeout(Duration::from_secs(5)),
        Ok(ButtonEvent::Pairing)
    );
    watcher.stop().expect("stop");
}

#[test]
fn a_gpio_chip_that_is_not_one_is_skipped() {
    let f = common::fixture();
    common::rpi4(&f.root, &f.data);
    common::put(&f.root, "dev/gpiochip0", "not a character device");
    let board = RaspberryPi::new(&f.root);
    assert!(board.button().expect("skipped, not an error").is_none());
    // Asking for the line directly reports the GPIO error.
    let err = ButtonSource::gpio(&f.root.join("dev/gpiochip0"), 17).expect_err("not a chip");
    assert!(err.to_string().contains("gpiochip0 line 17"), "{err}");
}
