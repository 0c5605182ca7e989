//! Encrypted file contents ("blobs"): the on-disk format and its streaming
//! writer and random-access reader.
//!
//! Each blob has its own random 256-bit key (kept in the encrypted database,
//! next to the file's entry) and is encrypted with ChaCha20-Poly1305 in the
//! STREAM construction (RustCrypto `aead::stream`, `StreamBE32`): the
//! plaintext is cut into 64 KiB chunks, each sealed with a nonce made of a
//! random per-blob prefix, the chunk's position and a "last chunk" flag. So a
//! chunk cannot be moved, dropped or the blob truncated without detection,
//! and any byte range can be decrypted without reading what precedes it
//! (HTTP `Range`). Memory use is one chunk, whatever the file size.
//!
//! Layout: `FOYBLOB1` (8 bytes) · nonce prefix (7) · reserved (1) · chunks,
//! each `min(64 KiB, rest)` bytes of ciphertext plus a 16-byte tag. An empty
//! file is one empty, tagged, last chunk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use zeroize::Zeroizing;

use super::VaultError;

pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const MAGIC: &[u8; 8] = b"FOYBLOB1";
const HEADER: usize = 16;

/// A blob's own key.
pub type BlobKey = Zeroizing<[u8; 32]>;

pub fn new_key() -> BlobKey {
    Zeroizing::new(rand::random())
}

fn stream(key: &[u8; 32], prefix: &[u8; 7]) -> StreamBE32<ChaCha20Poly1305> {
    let aead = ChaCha20Poly1305::new(GenericArray::from_slice(key));
    StreamBE32::from_aead(aead, GenericArray::from_slice(prefix))
}

/// Number of chunks of a blob of `size` plaintext bytes.
pub fn chunk_count(size: u64) -> u64 {
    if size == 0 {
        1
    } else {
        size.div_ceil(CHUNK as u64)
    }
}

/// Writes a blob chunk by chunk (blocking I/O: run it off the async runtime).
pub struct BlobWriter {
    file: File,
    stream: StreamBE32<ChaCha20Poly1305>,
    position: u32,
    pending: Vec<u8>,
    size: u64,
}

impl BlobWriter {
    /// Creates the blob file at `path` (which must not exist).
    pub fn create(path: &Path, key: &BlobKey) -> Result<BlobWriter, VaultError> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        let prefix: [u8; 7] = rand::random();
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..15].copy_from_slice(&prefix);
        file.write_all(&header)?;
        Ok(BlobWriter {
            file,
            stream: stream(key, &prefix),
            position: 0,
            pending: Vec::with_capacity(CHUNK + TAG),
            size: 0,
        })
    }

    /// Appends plaintext.
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), VaultError> {
        self.size += data.len() as u64;
        while !data.is_empty() {
            // A full pending chunk is sealed only once more data arrives, so
            // the last chunk can carry the "last" flag.
            if self.pending.len() == CHUNK {
                self.seal_pending(false)?;
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    fn seal_pending(&mut self, last: bool) -> Result<(), VaultError> {
        self.stream
            .encrypt_in_place(self.position, last, MAGIC, &mut self.pending)
            .map_err(|_| VaultError::Internal("blob encryption failed".into()))?;
        self.file.write_all(&self.pending)?;
        self.pending.clear();
        self.position = self
            .position
            .checked_add(1)
            .ok_or_else(|| VaultError::bad_request("too_large", "file too large"))?;
        Ok(())
    }

    /// Seals the last chunk and makes the file durable. Returns the
    /// plaintext size. (The SHA-256 of the plaintext is the caller's, so it
    /// can run on another core beside the encryption.)
    pub fn finish(mut self) -> Result<u64, VaultError> {
        self.seal_pending(true)?;
        self.file.flush()?;
        self.file.sync_all()?;
        Ok(self.size)
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

/// Reads any chunk of a blob (blocking I/O).
pub struct BlobReader {
    file: File,
    stream: StreamBE32<ChaCha20Poly1305>,
    chunks: u64,
    size: u64,
}

impl BlobReader {
    pub fn open(path: &Path, key: &[u8; 32], size: u64) -> Result<BlobReader, VaultError> {
        let mut file = File::open(path)?;
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header)?;
        if &header[..8] != MAGIC {
            return Err(VaultError::Corrupt(format!(
                "{} is not a blob",
                path.display()
            )));
        }
        let mut prefix = [0u8; 7];
        prefix.copy_from_slice(&header[8..15]);
        Ok(BlobReader {
            file,
            stream: stream(key, &prefix),
            chunks: chunk_count(size),
            size,
        })
    }

    /// Decrypts chunk `index` (0-based) into plaintext.
    pub fn read_chunk(&mut self, index: u64) -> Result<Vec<u8>, VaultError> {
        if index >= self.chunks {
            return Err(VaultError::Internal("chunk index out of range".into()));
        }
        let plain_len = if self.size == 0 {
            0
        } else {
            (self.size - index * CHUNK as u64).min(CHUNK as u64) as usize
        };
        let offset = HEADER as u64 + index * (CHUNK + TAG) as u64;
        self.file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; plain_len + TAG];
        self.file.read_exact(&mut buf)?;
        let position = u32::try_from(index)
            .map_err(|_| VaultError::Corrupt("chunk index beyond the format".into()))?;
        self.stream
            .decrypt_in_place(position, index + 1 == self.chunks, MAGIC, &mut buf)
            .map_err(|_| VaultError::Corrupt("blob chunk failed authentication".into()))?;
        Ok(buf)
    }

    /// Plaintext bytes `start..=end` as a sequence of chunk slices, passed to `emit`
    /// one at a time; stops early when `emit` returns false.
    pub fn read_range(
        &mut self,
        start: u64,
        end: u64,
        mut emit: impl FnMut(Vec<u8>) -> bool,
    ) -> Result<(), VaultError> {
        if self.size == 0 || start > end {
            return Ok(());
        }
        let first = start / CHUNK as u64;
        let last = end / CHUNK as u64;
        for index in first..=last {
            let mut chunk = self.read_chunk(index)?;
            let chunk_start = index * CHUNK as u64;
            let from = start.saturating_sub(chunk_start) as usize;
            let to = ((end - chunk_start) as usize + 1).min(chunk.len());
            chunk.truncate(to);
            if from > 0 {
                chunk.drain(..from);
            }
            if !emit(chunk) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(size: usize) {
        let dir = std::env::temp_dir().join(format!("foyer-blob-{size}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("b");
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let key = new_key();
        let mut w = BlobWriter::create(&path, &key).expect("create");
        for part in data.chunks(10_007) {
            w.write(part).expect("write");
        }
        let n = w.finish().expect("finish");
        assert_eq!(n as usize, size);
        let raw = std::fs::read(&path).expect("raw");
        assert_eq!(
            raw.len() as u64,
            HEADER as u64 + size as u64 + chunk_count(size as u64) * TAG as u64
        );
        if size > 64 {
            assert!(
                !raw.windows(64).any(|w| w == &data[..64]),
                "plaintext on disk"
            );
        }
        let mut r = BlobReader::open(&path, &key, size as u64).expect("open");
        let mut all = Vec::new();
        if size > 0 {
            r.read_range(0, size as u64 - 1, |c| {
                all.extend_from_slice(&c);
                true
            })
            .expect("read");
        }
        assert_eq!(all, data);
        if size > 3 {
            let (s, e) = (size as u64 / 3, size as u64 - 2);
            let mut part = Vec::new();
            r.read_range(s, e, |c| {
                part.extend_from_slice(&c);
                true
            })
            .expect("range");
            assert_eq!(part, &data[s as usize..=e as usize]);
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn round_trips_at_chunk_boundaries() {
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            roundtrip(size);
        }
    }

    #[test]
    fn truncation_and_tampering_are_detected() {
        let dir = std::env::temp_dir().join(format!("foyer-blob-tamper-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("b");
        let key = new_key();
        let mut w = BlobWriter::create(&path, &key).expect("create");
        w.write(&vec![1u8; 2 * CHUNK]).expect("write");
        w.finish().expect("finish");
        // Claiming the blob is one chunk long makes chunk 0 "last": refused.
        let mut r = BlobReader::open(&path, &key, CHUNK as u64).expect("open");
        assert!(r.read_chunk(0).is_err());
        let mut raw = std::fs::read(&path).expect("raw");
        raw[HEADER + 5] ^= 1;
        std::fs::write(&path, &raw).expect("write");
        let mut r = BlobReader::open(&path, &key, 2 * CHUNK as u64).expect("open");
        assert!(r.read_chunk(0).is_err());
        assert!(r.read_chunk(1).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
