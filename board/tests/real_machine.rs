//! Against the real `/` of the machine running the tests (an x86_64 VM or
//! PC in CI): detection must choose the PC, and nothing may fail or panic.

#![cfg(target_arch = "x86_64")]

use std::path::Path;

use board::{BoardChoice, BoardKind, LedState, detect};

#[test]
fn the_real_machine_is_a_pc_and_every_fact_reads() {
    let board = detect(BoardChoice::Auto, Path::new("/"));
    assert_eq!(board.kind(), BoardKind::Pc);
    let id = board.identity();
    assert!(!id.model.is_empty());
    let _ = board.sensors();
    let _ = board.watchdog();
    let storage = board.storage_health(&std::env::temp_dir());
    assert!(storage.total_bytes.is_some(), "{storage:?}");
    assert!(!board.has_led());
    board.set_led(LedState::Ok).expect("no-op on a PC");
    assert!(board.button().expect("button").is_none());
    let json = serde_json::json!({
        "identity": id, "sensors": board.sensors(), "watchdog": board.watchdog(), "storage": storage,
    });
    println!("{json:#}");
}
