//! Detection, identity, LED, watchdog and sensors of each board against fake
//! trees of a Raspberry Pi 4 and of a PC VM.

mod common;

use std::path::Path;

use board::{
    BoardChoice, BoardKind, LedState, RaspberryPi, Simulated, ThrottlingSource, detect, detect_kind,
};
use common::{fixture, put, read};

#[test]
fn auto_detects_a_raspberry_pi_from_its_device_tree() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    assert_eq!(detect_kind(&f.root), BoardKind::RaspberryPi);
    assert_eq!(
        detect(BoardChoice::Auto, &f.root).kind(),
        BoardKind::RaspberryPi
    );
}

#[test]
fn auto_detects_via_sys_firmware_devicetree_too() {
    let f = fixture();
    put(
        &f.root,
        "sys/firmware/devicetree/base/model",
        b"Raspberry Pi 5 Model B Rev 1.0\0",
    );
    assert_eq!(detect_kind(&f.root), BoardKind::RaspberryPi);
    let board = detect(BoardChoice::Auto, &f.root);
    assert_eq!(board.identity().model, "Raspberry Pi 5 Model B Rev 1.0");
}

#[test]
fn auto_detects_a_pc_otherwise() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    assert_eq!(detect(BoardChoice::Auto, &f.root).kind(), BoardKind::Pc);
    // Another ARM board with a device tree is not a Raspberry Pi.
    put(&f.root, "proc/device-tree/model", b"Radxa ROCK 5B\0");
    assert_eq!(detect_kind(&f.root), BoardKind::Pc);
    // An empty root: PC.
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(detect_kind(empty.path()), BoardKind::Pc);
}

#[test]
fn explicit_choices_are_obeyed() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    assert_eq!(
        detect(BoardChoice::RaspberryPi, &f.root).kind(),
        BoardKind::RaspberryPi
    );
    assert_eq!(
        detect(BoardChoice::Simulated, &f.root).kind(),
        BoardKind::Simulated
    );
    assert_eq!(detect(BoardChoice::Pc, &f.root).kind(), BoardKind::Pc);
}

#[test]
fn choices_parse_and_serialise() {
    for (text, choice) in [
        ("auto", BoardChoice::Auto),
        ("rpi", BoardChoice::RaspberryPi),
        ("RPi", BoardChoice::RaspberryPi),
        ("raspberry-pi", BoardChoice::RaspberryPi),
        ("pc", BoardChoice::Pc),
        ("sim", BoardChoice::Simulated),
        ("simulated", BoardChoice::Simulated),
    ] {
        assert_eq!(text.parse::<BoardChoice>().expect(text), choice);
    }
    let err = "arduino".parse::<BoardChoice>().expect_err("unknown");
    assert!(err.to_string().contains("auto, rpi, pc or sim"), "{err}");
    assert_eq!(
        serde_json::to_string(&BoardChoice::RaspberryPi).expect("json"),
        "\"rpi\""
    );
    assert_eq!(
        serde_json::from_str::<BoardChoice>("\"sim\"").expect("json"),
        BoardChoice::Simulated
    );
    assert!(serde_json::from_str::<BoardChoice>("\"nope\"").is_err());
    assert_eq!(BoardChoice::default(), BoardChoice::Auto);
    assert_eq!(BoardChoice::Pc.to_string(), "pc");
    assert_eq!(
        serde_json::to_string(&BoardKind::RaspberryPi).expect("json"),
        "\"raspberry_pi\""
    );
}

#[test]
fn rpi4_identity_from_device_tree() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let id = detect(BoardChoice::Auto, &f.root).identity();
    assert_eq!(id.model, "Raspberry Pi 4 Model B Rev 1.4");
    assert_eq!(id.serial.as_deref(), Some("10000000abcdef01"));
}

#[test]
fn rpi_serial_falls_back_to_cpuinfo_and_rejects_zeros() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    std::fs::remove_file(f.root.join("proc/device-tree/serial-number")).expect("rm");
    let board = RaspberryPi::new(&f.root);
    use board::Board;
    assert_eq!(board.identity().serial.as_deref(), Some("10000000abcdef01"));
    put(&f.root, "proc/cpuinfo", "Serial\t\t: 0000000000000000\n");
    assert_eq!(board.identity().serial, None);
}

#[test]
fn pc_identity_treats_placeholders_as_unknown() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    let board = detect(BoardChoice::Pc, &f.root);
    let id = board.identity();
    assert_eq!(id.model, "QEMU Standard PC (Q35 + ICH9, 2009)");
    assert_eq!(
        id.serial, None,
        "O.E.M. filler and all-zero UUID are not serials"
    );

    // A real UUID is used when the serial is a placeholder.
    put(
        &f.root,
        "sys/class/dmi/id/product_uuid",
        "4c4c4544-0042-3510-8051-b4c04f564433\n",
    );
    assert_eq!(
        board.identity().serial.as_deref(),
        Some("4c4c4544-0042-3510-8051-b4c04f564433")
    );
    // A real serial wins.
    put(&f.root, "sys/class/dmi/id/product_serial", "PF3ABCDE\n");
    assert_eq!(board.identity().serial.as_deref(), Some("PF3ABCDE"));
    // The vendor is not repeated when the product name already has it.
    put(&f.root, "sys/class/dmi/id/sys_vendor", "LENOVO\n");
    put(
        &f.root,
        "sys/class/dmi/id/product_name",
        "Lenovo ThinkCentre M720q\n",
    );
    assert_eq!(board.identity().model, "Lenovo ThinkCentre M720q");
    // Placeholder vendor and product: a generic model.
    put(
        &f.root,
        "sys/class/dmi/id/sys_vendor",
        "System manufacturer\n",
    );
    put(
        &f.root,
        "sys/class/dmi/id/product_name",
        "System Product Name\n",
    );
    assert_eq!(board.identity().model, "PC (unknown model)");
}

#[test]
fn pc_identity_without_dmi_at_all() {
    let empty = tempfile::tempdir().expect("tempdir");
    let id = detect(BoardChoice::Pc, empty.path()).identity();
    assert_eq!(id.model, "PC (unknown model)");
    assert_eq!(id.serial, None);
}

/// What the ACT LED's files say after `set_led(state)`.
fn led_files(root: &Path, name: &str) -> (String, String, String, String) {
    let dir = format!("sys/class/leds/{name}");
    (
        read(root, &format!("{dir}/trigger")),
        read(root, &format!("{dir}/delay_on")),
        read(root, &format!("{dir}/delay_off")),
        read(root, &format!("{dir}/brightness")),
    )
}

#[test]
fn rpi_led_states_write_the_right_triggers() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let board = detect(BoardChoice::Auto, &f.root);
    assert!(board.has_led());

    board.set_led(LedState::Booting).expect("booting");
    assert_eq!(
        led_files(&f.root, "ACT"),
        ("timer".into(), "250".into(), "250".into(), "0\n".into())
    );

    board.set_led(LedState::Attention).expect("attention");
    let (trigger, on, off, _) = led_files(&f.root, "ACT");
    assert_eq!(
        (trigger.as_str(), on.as_str(), off.as_str()),
        ("timer", "1000", "1000")
    );

    board.set_led(LedState::Error).expect("error");
    let (trigger, on, off, _) = led_files(&f.root, "ACT");
    assert_eq!(
        (trigger.as_str(), on.as_str(), off.as_str()),
        ("timer", "80", "80")
    );

    board.set_led(LedState::Unclaimed).expect("unclaimed");
    assert_eq!(read(&f.root, "sys/class/leds/ACT/trigger"), "heartbeat");

    board.set_led(LedState::Ok).expect("ok");
    let (trigger, _, _, brightness) = led_files(&f.root, "ACT");
    assert_eq!((trigger.as_str(), brightness.as_str()), ("none", "255"));

    // The power LED is never touched.
    assert!(read(&f.root, "sys/class/leds/PWR/trigger").contains("[mmc0]"));
}

#[test]
fn rpi_led_falls_back_to_led0_and_to_nothing() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    std::fs::rename(
        f.root.join("sys/class/leds/ACT"),
        f.root.join("sys/class/leds/led0"),
    )
    .expect("mv");
    let board = detect(BoardChoice::RaspberryPi, &f.root);
    board.set_led(LedState::Booting).expect("led0");
    assert_eq!(read(&f.root, "sys/class/leds/led0/trigger"), "timer");

    std::fs::remove_dir_all(f.root.join("sys/class/leds/led0")).expect("rm");
    assert!(!board.has_led());
    board.set_led(LedState::Error).expect("no LED is a no-op");
}

#[test]
fn rpi_led_reports_a_write_failure() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    // The kernel creates delay_on only once `timer` is set; a kernel whose
    // timer trigger failed leaves no such file.
    std::fs::remove_file(f.root.join("sys/class/leds/ACT/delay_on")).expect("rm");
    let board = detect(BoardChoice::RaspberryPi, &f.root);
    let err = board.set_led(LedState::Booting).expect_err("no delay_on");
    assert!(err.to_string().contains("delay_on"), "{err}");
}

#[test]
fn pc_has_no_led_and_set_led_is_a_no_op() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    let board = detect(BoardChoice::Pc, &f.root);
    assert!(!board.has_led());
    for state in LedState::ALL {
        board.set_led(state).expect("no-op");
    }
    // Keyboard LEDs are not ours.
    assert!(read(&f.root, "sys/class/leds/input3::capslock/trigger").contains("[mmc0]"));
    assert!(board.button().expect("button").is_none());
}

#[test]
fn simulated_led_is_observable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let board = detect(BoardChoice::Simulated, dir.path());
    assert!(board.has_led());
    board.set_led(LedState::Attention).expect("led");
    assert_eq!(read(dir.path(), "sim/led"), "attention");
    assert_eq!(read(dir.path(), "sys/class/leds/sim/trigger"), "timer");
    assert_eq!(read(dir.path(), "sys/class/leds/sim/delay_on"), "1000");
    board.set_led(LedState::Ok).expect("led");
    assert_eq!(read(dir.path(), "sim/led"), "ok");
    assert_eq!(read(dir.path(), "sys/class/leds/sim/brightness"), "1");
}

#[test]
fn watchdog_facts() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let wd = detect(BoardChoice::Auto, &f.root)
        .watchdog()
        .expect("watchdog");
    assert_eq!(wd.identity, "bcm2835-wdt");
    assert_eq!(wd.timeout_secs, Some(15));
    assert_eq!(wd.device, Path::new("/dev/watchdog0"));

    let g = fixture();
    common::pc_vm(&g.root, &g.data);
    let wd = detect(BoardChoice::Auto, &g.root)
        .watchdog()
        .expect("watchdog");
    assert_eq!(wd.identity, "i6300ESB timer");
    assert_eq!(wd.timeout_secs, Some(30));

    let empty = tempfile::tempdir().expect("tempdir");
    assert!(detect(BoardChoice::Pc, empty.path()).watchdog().is_none());
}

#[test]
fn rpi_sensors_from_thermal_zone_and_hwmon_fallback() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let s = detect(BoardChoice::Auto, &f.root).sensors();
    assert_eq!(s.temperature_c, Some(48.312));
    // No /dev/vcio in the fake tree: the rpi_volt alarm is the fallback.
    let t = s.throttling.expect("hwmon throttling");
    assert_eq!(t.source, ThrottlingSource::Hwmon);
    assert_eq!(t.under_voltage_now, Some(false));
    assert_eq!(t.throttled_now, None);
    assert_eq!(t.raw, None);

    put(&f.root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "1\n");
    let t = detect(BoardChoice::Auto, &f.root)
        .sensors()
        .throttling
        .expect("t");
    assert_eq!(t.under_voltage_now, Some(true));

    let json = serde_json::to_value(detect(BoardChoice::Auto, &f.root).sensors()).expect("json");
    assert_eq!(json["throttling"]["source"], "hwmon");
    assert!((json["temperature_c"].as_f64().expect("temp") - 48.312).abs() < 1e-3);
}

#[test]
fn pc_vm_sensors_are_unknown() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    let s = detect(BoardChoice::Auto, &f.root).sensors();
    assert_eq!(s.temperature_c, None);
    assert_eq!(s.throttling, None);
}

#[test]
fn simulated_throttling_word() {
    let dir = tempfile::tempdir().expect("tempdir");
    let board = Simulated::new(dir.path());
    use board::Board;
    assert_eq!(board.sensors().throttling, None);
    put(dir.path(), "sim/throttled", "0x50005\n");
    let t = board.sensors().throttling.expect("throttling");
    assert_eq!(t.source, ThrottlingSource::Simulated);
    assert_eq!(t.raw, Some(0x50005));
    assert_eq!(t.under_voltage_now, Some(true));
    assert_eq!(t.throttled_now, Some(true));
    assert_eq!(t.freq_capped_now, Some(false));
    assert_eq!(t.under_voltage_occurred, Some(true));
    assert_eq!(t.throttled_occurred, Some(true));
    assert_eq!(t.soft_temp_limit_occurred, Some(false));
    // vcgencmd's own output format, without 0x.
    put(dir.path(), "sim/throttled", "throttled=0x80008\n");
    let t = board.sensors().throttling.expect("throttling");
    assert_eq!(t.soft_temp_limit_now, Some(true));
    put(dir.path(), "sim/throttled", "80000");
    assert_eq!(board.sensors().throttling.expect("hex").raw, Some(0x80000));
    put(dir.path(), "sim/throttled", "hot");
    assert_eq!(board.sensors().throttling, None);
}

#[test]
fn simulated_identity_from_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let board = detect(BoardChoice::Simulated, dir.path());
    assert_eq!(board.identity().model, "Foyer simulated board");
    assert_eq!(board.identity().serial, None);
    put(dir.path(), "sim/model", "Test box\n");
    put(dir.path(), "sim/serial", "SIM-0001\n");
    assert_eq!(board.identity().model, "Test box");
    assert_eq!(board.identity().serial.as_deref(), Some("SIM-0001"));
}
