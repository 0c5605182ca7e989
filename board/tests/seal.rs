//! Key sealing: the file method (compatible with existing boxes) and the OTP
//! method, exercised through the simulated board's "OTP" file.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use board::{BoardChoice, BoardError, FileSealer, KeySealer, SealStrength, detect};
use common::put;

#[test]
fn file_sealer_creates_a_private_32_byte_key_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys");
    let sealer = FileSealer::new(&keys);
    assert_eq!(sealer.method(), "file");
    assert_eq!(sealer.strength(), SealStrength::File);

    let key = sealer.key(true).expect("create");
    let path = keys.join("unattended.key");
    assert_eq!(sealer.path(), path);
    let meta = fs::metadata(&path).expect("file");
    assert_eq!(meta.len(), 32);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        fs::read(&path).expect("read"),
        key.to_vec(),
        "raw bytes, as existing boxes have"
    );
    assert_ne!(*key, [0u8; 32]);

    // Stable across calls, with or without `create`, and across instances.
    assert_eq!(*sealer.key(false).expect("again"), *key);
    assert_eq!(*sealer.key(true).expect("again"), *key);
    assert_eq!(*FileSealer::new(&keys).key(false).expect("other"), *key);
    // No temporary files left behind.
    let names: Vec<_> = fs::read_dir(&keys)
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("unattended.key")]);
}

#[test]
fn file_sealer_reads_a_key_written_by_an_existing_box() {
    let dir = tempfile::tempdir().expect("tempdir");
    let existing: Vec<u8> = (0u8..32).collect();
    fs::write(dir.path().join("unattended.key"), &existing).expect("w");
    fs::set_permissions(
        dir.path().join("unattended.key"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    let key = FileSealer::new(dir.path()).key(false).expect("read");
    assert_eq!(key.to_vec(), existing);
}

#[test]
fn file_sealer_refuses_to_create_when_not_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = FileSealer::new(dir.path()).key(false).expect_err("missing");
    assert!(matches!(err, BoardError::KeyMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("unattended.key"), "{err}");
    assert!(!dir.path().join("unattended.key").exists());
}

#[test]
fn file_sealer_rejects_a_wrong_size_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("unattended.key"), [1u8; 31]).expect("w");
    let err = FileSealer::new(dir.path()).key(true).expect_err("31 bytes");
    assert!(
        matches!(err, BoardError::KeyWrongSize { len: 31, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("31 bytes long, expected exactly 32"),
        "{err}"
    );
    // And never overwrites it.
    assert_eq!(
        fs::read(dir.path().join("unattended.key")).expect("r"),
        vec![1u8; 31]
    );

    fs::write(dir.path().join("unattended.key"), [1u8; 64]).expect("w");
    assert!(FileSealer::new(dir.path()).key(false).is_err());
}

#[test]
fn key_debug_output_never_shows_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sealer = FileSealer::new(dir.path());
    let key = sealer.key(true).expect("create");
    let shown = format!("{sealer:?} {:?}", sealer.describe());
    assert!(!shown.contains(&hex::encode(*key)));
}

const OTP: &str = "00112233445566778899aabbccddeeff0102030405060708090a0b0c0d0e0f10";

#[test]
fn otp_sealer_derives_a_stable_hardware_key() {
    let root = tempfile::tempdir().expect("tempdir");
    put(root.path(), "sim/otp-private-key", format!("{OTP}\n"));
    put(root.path(), "sim/serial", "10000000abcdef01\n");
    let keys = root.path().join("keys");
    let board = detect(BoardChoice::Simulated, root.path());
    let sealer = board.key_sealer(&keys);
    assert_eq!(sealer.method(), "rpi-otp");
    assert_eq!(sealer.strength(), SealStrength::Hardware);
    let info = sealer.describe();
    assert_eq!(info.method, "rpi-otp");
    assert_eq!(info.fallback, None);

    let key = sealer.key(false).expect("derive");
    assert_eq!(*sealer.key(true).expect("again"), *key);
    assert_eq!(
        *board.key_sealer(&keys).key(false).expect("new instance"),
        *key
    );
    assert!(
        !keys.join("unattended.key").exists(),
        "nothing written to disk"
    );
    assert_ne!(
        key.to_vec(),
        hex::decode(OTP).expect("hex"),
        "derived, not the raw OTP key"
    );

    // Different from the file method's key.
    let file_key = FileSealer::new(&keys).key(true).expect("file");
    assert_ne!(*file_key, *key);

    // The serial is the salt: another board with the same OTP key differs.
    put(root.path(), "sim/serial", "10000000abcdef02\n");
    assert_ne!(
        *board.key_sealer(&keys).key(false).expect("other serial"),
        *key
    );
}

#[test]
fn otp_key_matches_hkdf_sha256_by_spec() {
    // HKDF-SHA256(ikm = OTP key, salt = serial ASCII, info = label), computed
    // independently with the hkdf crate's primitives.
    use hkdf::Hkdf;
    use sha2::Sha256;
    let root = tempfile::tempdir().expect("tempdir");
    put(root.path(), "sim/otp-private-key", OTP);
    put(root.path(), "sim/serial", "10000000abcdef01");
    let key = detect(BoardChoice::Simulated, root.path())
        .key_sealer(root.path())
        .key(false)
        .expect("derive");
    let ikm = hex::decode(OTP).expect("hex");
    let mut expected = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"10000000abcdef01"), &ikm)
        .expand(board::OTP_KDF_INFO, &mut expected)
        .expect("expand");
    assert_eq!(*key, expected);
    assert_eq!(board::OTP_KDF_INFO, b"foyer board unattended-key v1");
}

#[test]
fn otp_sealer_falls_back_to_the_file_on_an_unprogrammed_key() {
    let root = tempfile::tempdir().expect("tempdir");
    put(root.path(), "sim/otp-private-key", "0".repeat(64));
    let keys = root.path().join("keys");
    let sealer = detect(BoardChoice::Simulated, root.path()).key_sealer(&keys);
    assert_eq!(sealer.method(), "file");
    assert_eq!(sealer.strength(), SealStrength::File);
    let info = sealer.describe();
    assert!(
        info.fallback
            .as_deref()
            .expect("reason")
            .contains("not programmed"),
        "{info:?}"
    );
    let key = sealer.key(true).expect("file key");
    assert_eq!(
        fs::read(keys.join("unattended.key")).expect("file"),
        key.to_vec()
    );
}

#[test]
fn otp_sealer_falls_back_on_a_missing_or_broken_otp() {
    let root = tempfile::tempdir().expect("tempdir");
    let keys = root.path().join("keys");
    let sealer = detect(BoardChoice::Simulated, root.path()).key_sealer(&keys);
    assert_eq!(sealer.method(), "file");

    put(root.path(), "sim/otp-private-key", "not hex");
    let sealer = detect(BoardChoice::Simulated, root.path()).key_sealer(&keys);
    assert_eq!(sealer.strength(), SealStrength::File);
    let reason = sealer.describe().fallback.expect("reason");
    assert!(
        reason.contains("could not be read") && reason.contains("64 hexadecimal"),
        "{reason}"
    );
}

#[test]
fn rpi_without_vcio_falls_back_with_the_reason() {
    let f = common::fixture();
    common::rpi4(&f.root, &f.data);
    let sealer = detect(BoardChoice::Auto, &f.root).key_sealer(&f.data.join("keys"));
    assert_eq!(sealer.method(), "file");
    let reason = sealer.describe().fallback.expect("reason");
    assert!(reason.contains("dev/vcio"), "{reason}");
}

#[test]
fn pc_uses_the_file_sealer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sealer = detect(BoardChoice::Pc, dir.path()).key_sealer(dir.path());
    assert_eq!(sealer.method(), "file");
    assert_eq!(sealer.describe().fallback, None);
}
