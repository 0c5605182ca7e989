//! The VideoCore firmware mailbox of Raspberry Pi boards, through the
//! kernel's `/dev/vcio` character device.
//!
//! The firmware's *property interface* takes one buffer of 32-bit
//! little-endian words:
//!
//! ```text
//! [0] total size in bytes (header + tags + end tag)
//! [1] request code: 0 = process request; answered 0x8000_0000 (success)
//!     or 0x8000_0001 (error parsing the request)
//! [2] tag id
//! [3] size of the tag's value buffer in bytes
//! [4] tag request/response code: 0 in a request; in the answer bit 31 is
//!     set and bits 0..=30 give the length of the answer in bytes
//! [5..] value buffer (request arguments, overwritten by the answer)
//! [n] 0 = end tag
//! ```
//!
//! The `vcio` driver takes a pointer to that buffer through one ioctl,
//! `IOCTL_MBOX_PROPERTY = _IOWR(100, 0, char *)`: direction read|write
//! (3 << 30), size `sizeof(char *)` (8 on arm64 and x86_64, so the request
//! number is `0xC008_6400`; 4 on 32-bit ARM: `0xC004_6400`), type 100, number
//! 0. It copies the buffer in, strips the two header words, passes the tags
//! to the firmware and copies the answer back. Newer kernels may restrict the
//! tags a process may send (`EPERM`).
//!
//! Two tags are used here:
//! - `GET_THROTTLED` (`0x0003_0046`), one word: the throttling/under-voltage
//!   flags also printed by `vcgencmd get_throttled`. We send 0 so that the
//!   "occurred" bits are not cleared (the `raspberrypi-hwmon` driver itself
//!   asks the firmware to clear them on each 2-second poll, so while it is
//!   loaded they mean "recently" rather than "since boot").
//! - `GET_PRIVATE_KEY` (`0x0003_0081`), ten words `[offset, count, key...]`:
//!   the 256-bit device-unique private key in OTP (Raspberry Pi 4, 5, CM4,
//!   CM5), read as 8 rows from row 0. Each row is a 32-bit word; the key's
//!   bytes are the rows in order, each row big-endian, which is the byte
//!   order `rpi-otp-private-key` prints and programs.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

use crate::BoardError;
use crate::sysfs::under;

/// Property tag: get throttling and under-voltage flags.
pub const TAG_GET_THROTTLED: u32 = 0x0003_0046;
/// Property tag: read rows of the OTP device-unique private key.
pub const TAG_GET_PRIVATE_KEY: u32 = 0x0003_0081;

const REQUEST: u32 = 0;
const RESPONSE_SUCCESS: u32 = 0x8000_0000;
const TAG_RESPONSE: u32 = 0x8000_0000;

/// `_IOWR(100, 0, char *)`: the `vcio` driver's only ioctl.
pub const IOCTL_MBOX_PROPERTY: nix::sys::ioctl::ioctl_num_type =
    nix::request_code_readwrite!(100, 0, std::mem::size_of::<*mut std::ffi::c_char>());

/// Builds a property request for one tag whose value buffer holds
/// `value_words` words, the first ones set to `args`.
pub(crate) fn build_request(tag: u32, args: &[u32], value_words: usize) -> Vec<u32> {
    let value_words = value_words.max(args.len());
    let total_words = 5 + value_words + 1;
    let mut buf = Vec::with_capacity(total_words);
    buf.push(u32::try_from(total_words * 4).unwrap_or(u32::MAX));
    buf.push(REQUEST);
    buf.push(tag);
    buf.push(u32::try_from(value_words * 4).unwrap_or(u32::MAX));
    buf.push(0);
    buf.extend_from_slice(args);
    buf.resize(5 + value_words, 0);
    buf.push(0); // end tag
    buf
}

/// Checks an answer to [`build_request`] and returns the value words the
/// firmware filled in.
pub(crate) fn parse_response(buf: &[u32], tag: u32) -> Result<&[u32], BoardError> {
    let fail = |message: String| BoardError::Mailbox { tag, message };
    let (Some(&status), Some(&answered_tag), Some(&value_size), Some(&code)) =
        (buf.get(1), buf.get(2), buf.get(3), buf.get(4))
    else {
        return Err(fail("answer too short".into()));
    };
    if status != RESPONSE_SUCCESS {
        return Err(fail(format!("firmware status {status:#010x}")));
    }
    if answered_tag != tag {
        return Err(fail(format!("answer is for tag {answered_tag:#010x}")));
    }
    if code & TAG_RESPONSE == 0 {
        return Err(fail(
            "tag not answered (unsupported by this firmware?)".into(),
        ));
    }
    let answered = (code & !TAG_RESPONSE) as usize;
    let capacity = value_size as usize;
    if answered > capacity {
        return Err(fail(format!(
            "answer of {answered} bytes overflows the {capacity}-byte buffer"
        )));
    }
    buf.get(5..5 + answered.div_ceil(4))
        .ok_or_else(|| fail("answer truncated".into()))
}

/// An open `/dev/vcio`.
pub(crate) struct Mailbox {
    path: PathBuf,
    file: std::fs::File,
}

impl Mailbox {
    /// Opens `<root>/dev/vcio` (group `video` on Raspberry Pi OS and Debian).
    pub(crate) fn open(root: &Path) -> Result<Mailbox, BoardError> {
        let path = under(root, "/dev/vcio");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| BoardError::io("open", &path, e))?;
        Ok(Mailbox { path, file })
    }

    /// Sends one property request; `buf` is answered in place.
    fn call(&self, buf: &mut [u32]) -> Result<(), BoardError> {
        // The first word must be the buffer's true size: the driver copies
        // that many bytes in and out.
        let bytes = u32::try_from(std::mem::size_of_val(buf)).unwrap_or(u32::MAX);
        match buf.first_mut() {
            Some(first) => *first = bytes,
            None => {
                return Err(BoardError::Invalid {
                    path: self.path.clone(),
                    message: "empty mailbox request".into(),
                });
            }
        }
        // SAFETY: `buf` is a live, exclusively borrowed buffer of exactly
        // `buf[0]` bytes; the vcio driver reads and writes at most that many
        // bytes through the pointer and keeps no reference after returning.
        let ret = unsafe {
            nix::libc::ioctl(
                self.file.as_raw_fd(),
                IOCTL_MBOX_PROPERTY as _,
                buf.as_mut_ptr(),
            )
        };
        if ret < 0 {
            return Err(BoardError::io(
                "ioctl",
                &self.path,
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// `GET_THROTTLED`: the raw flag word (see [`crate::Throttling`]).
    pub(crate) fn get_throttled(&self) -> Result<u32, BoardError> {
        let mut buf = build_request(TAG_GET_THROTTLED, &[0], 1);
        self.call(&mut buf)?;
        parse_response(&buf, TAG_GET_THROTTLED)?
            .first()
            .copied()
            .ok_or_else(|| BoardError::Mailbox {
                tag: TAG_GET_THROTTLED,
                message: "empty answer".into(),
            })
    }

    /// `GET_PRIVATE_KEY`: the 32-byte OTP private key (all zeros when it was
    /// never programmed). The request buffer is wiped after use.
    pub(crate) fn get_private_key(&self) -> Result<Zeroizing<[u8; 32]>, BoardError> {
        let mut buf = Zeroizing::new(build_request(TAG_GET_PRIVATE_KEY, &[0, 8], 10));
        self.call(&mut buf)?;
        let value = parse_response(&buf, TAG_GET_PRIVATE_KEY)?;
        let key = key_from_words(value).ok_or_else(|| BoardError::Mailbox {
            tag: TAG_GET_PRIVATE_KEY,
            message: format!("expected 10 answer words, got {}", value.len()),
        });
        buf.zeroize();
        key
    }
}

/// Turns the `[offset, count, row0..row7]` answer into key bytes (rows in
/// order, each big-endian).
pub(crate) fn key_from_words(value: &[u32]) -> Option<Zeroizing<[u8; 32]>> {
    let rows = value.get(2..10)?;
    if value.get(1).copied() != Some(8) {
        return None;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (chunk, row) in key.chunks_exact_mut(4).zip(rows) {
        chunk.copy_from_slice(&row.to_be_bytes());
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)] // the request type is c_ulong or c_int
    fn ioctl_number_matches_iowr_100_0_char_pointer() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(IOCTL_MBOX_PROPERTY as u64, 0xC008_6400);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(IOCTL_MBOX_PROPERTY as u64, 0xC004_6400);
    }

    #[test]
    fn private_key_request_layout() {
        let req = build_request(TAG_GET_PRIVATE_KEY, &[0, 8], 10);
        assert_eq!(
            req,
            vec![64, 0, 0x0003_0081, 40, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let req = build_request(TAG_GET_THROTTLED, &[0], 1);
        assert_eq!(req, vec![28, 0, 0x0003_0046, 4, 0, 0, 0]);
    }

    #[test]
    fn answers_are_checked() {
        let mut ok = vec![
            28,
            RESPONSE_SUCCESS,
            TAG_GET_THROTTLED,
            4,
            TAG_RESPONSE | 4,
            0x50005,
            0,
        ];
        assert_eq!(
            parse_response(&ok, TAG_GET_THROTTLED).expect("valid"),
            &[0x50005]
        );
        ok[1] = 0x8000_0001;
        assert!(parse_response(&ok, TAG_GET_THROTTLED).is_err());
        let unanswered = vec![28, RESPONSE_SUCCESS, TAG_GET_THROTTLED, 4, 0, 0, 0];
        let err = parse_response(&unanswered, TAG_GET_THROTTLED).expect_err("unanswered");
        assert!(err.to_string().contains("0x00030046"), "{err}");
        let overflow = vec![
            28,
            RESPONSE_SUCCESS,
            TAG_GET_THROTTLED,
            4,
            TAG_RESPONSE | 400,
            0,
            0,
        ];
        assert!(parse_response(&overflow, TAG_GET_THROTTLED).is_err());
        assert!(parse_response(&[1, 2], TAG_GET_THROTTLED).is_err());
    }

    #[test]
    fn key_rows_are_big_endian_in_order() {
        let mut answer = vec![0, 8];
        answer.extend([
            0x0011_2233,
            0x4455_6677,
            0x8899_aabb,
            0xccdd_eeff,
            0x0102_0304,
            0x0506_0708,
            0x090a_0b0c,
            0x0d0e_0f10,
        ]);
        let key = key_from_words(&answer).expect("key");
        assert_eq!(
            hex::encode(*key),
            "00112233445566778899aabbccddeeff0102030405060708090a0b0c0d0e0f10"
        );
        assert!(key_from_words(&answer[..5]).is_none());
    }

    #[test]
    fn missing_device_is_an_io_error() {
        let root = tempfile::tempdir().expect("tempdir");
        let err = Mailbox::open(root.path()).err().expect("no vcio");
        assert!(err.to_string().contains("dev/vcio"), "{err}");
    }
}
