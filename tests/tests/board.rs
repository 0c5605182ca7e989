//! The hardware, through the real binary on the simulated board
//! (`--board sim --board-root <tempdir>`, or `board`/`board_root` in the
//! config file), whose "sysfs" is a fake tree like the board crate's tests':
//!
//! - `GET /api/system/status` has a `board` object: kind `simulated`, the
//!   model, `serial_known` without the serial itself, the temperature and
//!   throttling flags from the fake tree, the hardware watchdog, storage
//!   health, the key sealing (the file method, no key material); and a
//!   `memory` object from `/proc/meminfo`;
//! - the OpenAPI document describes them;
//! - the status LED (the simulated board's `sim/led` file, and the trigger
//!   of its `sys/class/leds/sim`): `unclaimed` once the box serves, `ok`
//!   once it is claimed, `error` when the start fails after the board was
//!   detected (here: a data directory that cannot be created);
//! - the button (the `sim/button` FIFO): a short press shows `attention` on
//!   the LED (the kernel `timer` trigger, 1000 ms on / 1000 ms off). The
//!   long hold (10 s, not configurable) is left to the board crate's tests.

use std::path::Path;

use std::ffi::OsString;
use std::time::Duration;

use foyer_e2e::{Daemon, Options, Via, run_foyerd, wait_until};

/// Writes `content` at `root/rel`, creating parent directories.
fn put(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, content).expect("write");
}

/// A simulated box: identity, one CPU thermal zone at 48.25 °C, a
/// hardware watchdog, and a throttled word with under-voltage now.
fn fake_tree(root: &Path) {
    put(root, "sim/model", "Foyer test board\n");
    put(root, "sim/serial", "5e41a1-not-shown\n");
    put(root, "sim/throttled", "0x50005\n");
    put(
        root,
        "sys/class/thermal/thermal_zone0/type",
        "cpu-thermal\n",
    );
    put(root, "sys/class/thermal/thermal_zone0/temp", "48250\n");
    put(
        root,
        "sys/class/watchdog/watchdog0/identity",
        "bcm2835-wdt\n",
    );
    put(root, "sys/class/watchdog/watchdog0/timeout", "15\n");
}

fn check_status(status: &serde_json::Value) {
    let board = &status["board"];
    assert_eq!(board["kind"], "simulated", "{status}");
    assert_eq!(board["model"], "Foyer test board", "{status}");
    assert_eq!(board["serial_known"], true, "{status}");
    assert!(
        !status.to_string().contains("5e41a1"),
        "the serial must not be shown: {status}"
    );
    assert_eq!(board["sensors"]["temperature_c"], 48.25, "{status}");
    let throttling = &board["sensors"]["throttling"];
    assert_eq!(throttling["source"], "simulated", "{status}");
    assert_eq!(throttling["raw"], 0x50005, "{status}");
    assert_eq!(throttling["under_voltage_now"], true, "{status}");
    assert_eq!(throttling["throttled_now"], true, "{status}");
    assert_eq!(throttling["freq_capped_now"], false, "{status}");
    assert_eq!(
        board["hardware_watchdog"]["identity"], "bcm2835-wdt",
        "{status}"
    );
    assert_eq!(board["hardware_watchdog"]["timeout_secs"], 15, "{status}");
    assert!(board["storage"].is_object(), "{status}");
    // No OTP key in the tree: the unattended key is the file's.
    assert_eq!(board["key_sealing"]["method"], "file", "{status}");
    assert_eq!(board["key_sealing"]["strength"], "file", "{status}");
    // The existing figures stay.
    assert!(status["storage"]["total_bytes"].is_u64(), "{status}");
    let total = status["memory"]["total_bytes"].as_u64().expect("memory");
    let available = status["memory"]["available_bytes"]
        .as_u64()
        .expect("available memory");
    assert!(total > 0 && available <= total, "{status}");
}

#[tokio::test]
async fn the_status_shows_the_simulated_board() {
    let tree = tempfile::tempdir().expect("temp dir");
    fake_tree(tree.path());
    let root = tree.path().to_str().expect("utf-8 path");
    let d = Daemon::start_args(&["--board", "sim", "--board-root", root]).await;
    let owner = d.owner().await;
    let status = owner.get("/api/system/status").await.ok(200);
    check_status(&status);

    let spec = owner.get("/api/openapi.json").await.ok(200);
    let schemas = &spec["components"]["schemas"];
    for name in ["BoardStatus", "MemoryStatus", "SensorsStatus", "KeySealing"] {
        assert!(schemas[name].is_object(), "{name} missing from the spec");
    }
    assert!(
        schemas["SystemStatus"]["properties"]["board"].is_object(),
        "{}",
        schemas["SystemStatus"]
    );
}

#[tokio::test]
async fn the_board_can_be_chosen_in_the_config_file() {
    let tree = tempfile::tempdir().expect("temp dir");
    fake_tree(tree.path());
    let d = Daemon::start_with(Options {
        via: Via::ConfigFile,
        config_extra: format!(
            "board = \"sim\"\nboard_root = {:?}\n",
            tree.path().to_str().expect("utf-8 path")
        ),
        ..Options::default()
    })
    .await;
    let owner = d.owner().await;
    let status = owner.get("/api/system/status").await.ok(200);
    check_status(&status);
}

/// The state the simulated board's LED shows (`sim/led`), if written yet.
fn led(root: &Path) -> Option<String> {
    std::fs::read_to_string(root.join("sim/led"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// What the simulated LED's kernel trigger was set to.
fn trigger(root: &Path) -> String {
    std::fs::read_to_string(root.join("sys/class/leds/sim/trigger"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_led_shows_unclaimed_then_ok() {
    let tree = tempfile::tempdir().expect("temp dir");
    fake_tree(tree.path());
    let root = tree.path().to_str().expect("utf-8 path");
    let d = Daemon::start_args(&["--board", "sim", "--board-root", root]).await;
    wait_until("the LED to show unclaimed", Duration::from_secs(10), || {
        led(tree.path()).as_deref() == Some("unclaimed")
    })
    .await;
    assert_eq!(trigger(tree.path()), "heartbeat");
    let _owner = d.owner().await;
    wait_until("the LED to show ok", Duration::from_secs(10), || {
        led(tree.path()).as_deref() == Some("ok")
    })
    .await;
    // Steady on: no trigger, full brightness.
    assert_eq!(trigger(tree.path()), "none");
}

#[tokio::test]
async fn a_failed_start_shows_error_on_the_led() {
    let tree = tempfile::tempdir().expect("temp dir");
    fake_tree(tree.path());
    let blocker = tree.path().join("not-a-dir");
    std::fs::write(&blocker, "a file").expect("write");
    let args: Vec<OsString> = [
        "serve",
        "--board",
        "sim",
        "--no-mdns",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
    ]
    .iter()
    .map(OsString::from)
    .chain([
        OsString::from("--board-root"),
        tree.path().as_os_str().to_owned(),
        OsString::from("--data-dir"),
        blocker.join("data").into_os_string(),
    ])
    .collect();
    let out = run_foyerd(&args, &[], tree.path()).await;
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(led(tree.path()).as_deref(), Some("error"), "{out:?}");
}

#[tokio::test]
async fn a_short_press_of_the_button_shows_attention() {
    let tree = tempfile::tempdir().expect("temp dir");
    fake_tree(tree.path());
    let root = tree.path().to_str().expect("utf-8 path");
    let d = Daemon::start_args(&["--board", "sim", "--board-root", root]).await;
    wait_until("the LED to show unclaimed", Duration::from_secs(10), || {
        led(tree.path()).as_deref() == Some("unclaimed")
    })
    .await;
    let fifo = tree.path().join("sim/button");
    assert!(fifo.exists(), "the button FIFO is created at start");
    // Opening a FIFO for writing waits for its reader: off the runtime.
    let tap = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .and_then(|mut w| w.write_all(b"down\nup\n"))
    });
    tokio::time::timeout(Duration::from_secs(10), tap)
        .await
        .expect("the daemon reads the button")
        .expect("tap task")
        .expect("tap");
    wait_until("the LED to show attention", Duration::from_secs(10), || {
        led(tree.path()).as_deref() == Some("attention")
    })
    .await;
    assert_eq!(trigger(tree.path()), "timer");
    let delay_on =
        std::fs::read_to_string(tree.path().join("sys/class/leds/sim/delay_on")).expect("delay_on");
    assert_eq!(delay_on.trim(), "1000");
    assert!(
        d.log().contains("pairing asked"),
        "the press is logged:\n{}",
        d.log()
    );
    assert!(!d.data_dir.join("factory-reset").exists());
}
