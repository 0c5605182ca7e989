//! Files and folders of the vault.
//!
//! The tree (names, folders, sizes, digests, each file's blob key) lives in
//! the `files` table of the encrypted database, so no file or folder name
//! appears on disk; contents are encrypted blobs (see [`super::blob`]) named
//! by random ids under `blobs/`.
//!
//! An upload streams to `blobs/tmp/` and becomes visible only when its
//! database row commits, after the blob is fsynced and renamed into place: a
//! half-uploaded file never appears, and an interrupted one leaves only a
//! temporary blob that the next start sweeps away. Deleting moves an entry to
//! the trash; purging the trash frees the blobs.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use rusqlite::OptionalExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::blob::{self, BlobKey, BlobReader, BlobWriter};
use super::db::Db;
use super::{StorageLimits, VaultError};
use crate::system::now;

pub const MAX_SEGMENT: usize = 255;
pub const MAX_PATH: usize = 4096;
pub const MAX_DEPTH: usize = 64;

/// A validated path inside the vault's tree, as segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePath {
    pub segments: Vec<String>,
    /// Whether the request path ended with `/` (a folder).
    pub trailing_slash: bool,
}

fn bad_path(message: impl Into<String>) -> VaultError {
    VaultError::bad_request("invalid_path", message)
}

impl FilePath {
    /// Parses and validates a decoded path relative to the files root.
    pub fn parse(raw: &str) -> Result<FilePath, VaultError> {
        if raw.len() > MAX_PATH {
            return Err(bad_path(format!("path longer than {MAX_PATH} bytes")));
        }
        if raw.starts_with('/') {
            return Err(bad_path("absolute paths are not allowed"));
        }
        if raw.contains('\0') {
            return Err(bad_path("NUL in path"));
        }
        let trailing_slash = raw.is_empty() || raw.ends_with('/');
        let trimmed = raw.strip_suffix('/').unwrap_or(raw);
        let mut segments = Vec::new();
        if !trimmed.is_empty() {
            for seg in trimmed.split('/') {
                check_name(seg)?;
                segments.push(seg.to_owned());
            }
        }
        if segments.len() > MAX_DEPTH {
            return Err(bad_path(format!("more than {MAX_DEPTH} levels")));
        }
        Ok(FilePath {
            segments,
            trailing_slash,
        })
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    pub fn display(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    fn split_last(&self) -> Option<(&[String], &String)> {
        self.segments
            .split_last()
            .map(|(last, parents)| (parents, last))
    }
}

/// Checks one file or folder name.
pub fn check_name(seg: &str) -> Result<(), VaultError> {
    if seg.is_empty() {
        return Err(bad_path("empty path segment (//)"));
    }
    if seg == "." || seg == ".." {
        return Err(bad_path("path traversal (. or ..) is not allowed"));
    }
    if seg.len() > MAX_SEGMENT {
        return Err(bad_path(format!("name longer than {MAX_SEGMENT} bytes")));
    }
    if seg.chars().any(|c| c.is_control() || c == '/') {
        return Err(bad_path("control characters are not allowed in names"));
    }
    Ok(())
}

/// A file or folder as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: String,
    pub name: String,
    /// `file` or `dir`.
    pub kind: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub updated: i64,
}

/// A folder's listing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Listing {
    pub path: String,
    pub id: String,
    pub entries: Vec<Entry>,
}

/// An entry in the trash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrashEntry {
    #[serde(flatten)]
    pub entry: Entry,
    /// Where it was when deleted.
    pub original_path: String,
    pub trashed_at: i64,
}

/// What an upload needs besides the bytes.
pub struct UploadOptions {
    pub content_length: Option<u64>,
    pub expected_sha256: Option<[u8; 32]>,
    pub mime: Option<String>,
}

/// An open file ready to be streamed.
pub struct Download {
    pub entry: Entry,
    reader: BlobReader,
}

struct Row {
    id: String,
    kind: String,
    size: u64,
    blob: Option<String>,
    key: Option<Vec<u8>>,
}

pub struct Files {
    dir: PathBuf,
    db: Arc<Db>,
    limits: StorageLimits,
}

const ENTRY_COLS: &str = "id, name, kind, size, sha256, mime, created, updated";

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        size: r.get::<_, i64>(3)?.max(0) as u64,
        sha256: r.get(4)?,
        mime: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
    })
}

/// Finds the live child `name` of folder `parent`.
fn child(c: &rusqlite::Connection, parent: &str, name: &str) -> Result<Option<Row>, VaultError> {
    Ok(c.prepare_cached(
        "SELECT id, kind, size, blob, blob_key FROM files WHERE parent = ?1 AND name = ?2 AND trashed = 0",
    )?
    .query_row(rusqlite::params![parent, name], |r| {
        Ok(Row {
            id: r.get(0)?,
            kind: r.get(1)?,
            size: r.get::<_, i64>(2)?.max(0) as u64,
            blob: r.get(3)?,
            key: r.get(4)?,
        })
    })
    .optional()?)
}

/// Walks `segments` from the root; every step must be a live folder but the last.
fn resolve_in(c: &rusqlite::Connection, segments: &[String]) -> Result<Option<Row>, VaultError> {
    let mut cur = Row {
        id: "root".into(),
        kind: "dir".into(),
        size: 0,
        blob: None,
        key: None,
    };
    for seg in segments {
        if cur.kind != "dir" {
            return Ok(None);
        }
        match child(c, &cur.id, seg)? {
            Some(next) => cur = next,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Creates the missing folders of `segments` (mkdir -p); returns the last one's id.
fn ensure_dirs(tx: &rusqlite::Transaction<'_>, segments: &[String]) -> Result<String, VaultError> {
    let mut parent = "root".to_owned();
    for (i, seg) in segments.iter().enumerate() {
        match child(tx, &parent, seg)? {
            Some(row) if row.kind == "dir" => parent = row.id,
            Some(_) => {
                return Err(VaultError::Conflict(format!(
                    "/{} is a file, not a folder",
                    segments[..=i].join("/")
                )));
            }
            None => {
                let id = uuid::Uuid::now_v7().simple().to_string();
                let t = now();
                tx.execute(
                    "INSERT INTO files(id, parent, name, kind, created, updated) VALUES (?1, ?2, ?3, 'dir', ?4, ?4)",
                    rusqlite::params![id, parent, seg, t],
                )?;
                parent = id;
            }
        }
    }
    Ok(parent)
}

fn get_entry(c: &rusqlite::Connection, id: &str) -> Result<Entry, VaultError> {
    Ok(c.query_row(
        &format!("SELECT {ENTRY_COLS} FROM files WHERE id = ?1"),
        [id],
        entry_from_row,
    )?)
}

fn not_found(path: &FilePath) -> VaultError {
    VaultError::NotFound(path.display())
}

impl Files {
    pub fn open(dir: PathBuf, db: Arc<Db>, limits: StorageLimits) -> Result<Files, VaultError> {
        std::fs::create_dir_all(dir.join("tmp"))?;
        Ok(Files { dir, db, limits })
    }

    /// Blobs are spread over 256 folders by the first two hex digits of their id.
    fn blob_path(&self, blob: &str) -> PathBuf {
        self.dir.join(blob.get(..2).unwrap_or("00")).join(blob)
    }

    /// Removes interrupted uploads and blobs that no entry refers to (left
    /// by a crash between a blob's creation and its commit, or its purge).
    pub async fn sweep_orphans(&self) -> Result<(), VaultError> {
        let tmp = self.dir.join("tmp");
        for e in std::fs::read_dir(&tmp)?.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
        let known: std::collections::HashSet<String> = self
            .db
            .read(|c| {
                let mut st = c.prepare("SELECT blob FROM files WHERE blob IS NOT NULL")?;
                let v = st
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<_, _>>()?;
                Ok(v)
            })
            .await?;
        let mut removed = 0;
        for shard in std::fs::read_dir(&self.dir)?.flatten() {
            let name = shard.file_name().to_string_lossy().into_owned();
            if name == "tmp" || !shard.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(shard.path())?.flatten() {
                let blob = f.file_name().to_string_lossy().into_owned();
                if !known.contains(&blob) {
                    std::fs::remove_file(f.path())?;
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed orphan blobs");
        }
        Ok(())
    }

    /// The entry at `path`.
    pub async fn stat(&self, path: &FilePath) -> Result<Entry, VaultError> {
        let p = path.clone();
        self.db
            .read(move |c| {
                let row = resolve_in(c, &p.segments)?.ok_or_else(|| not_found(&p))?;
                get_entry(c, &row.id)
            })
            .await
    }

    /// Lists a folder.
    pub async fn list(&self, path: &FilePath) -> Result<Listing, VaultError> {
        let p = path.clone();
        self.db
            .read(move |c| {
                let row = resolve_in(c, &p.segments)?.ok_or_else(|| not_found(&p))?;
                if row.kind != "dir" {
                    return Err(VaultError::bad_request(
                        "not_a_folder",
                        format!("{} is a file", p.display()),
                    ));
                }
                let mut st = c.prepare_cached(&format!(
                    "SELECT {ENTRY_COLS} FROM files WHERE parent = ?1 AND trashed = 0 ORDER BY kind DESC, name"
                ))?;
                let entries = st
                    .query_map([&row.id], entry_from_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut shown = p.display();
                if !shown.ends_with('/') {
                    shown.push('/');
                }
                Ok(Listing {
                    path: shown,
                    id: row.id,
                    entries,
                })
            })
            .await
    }

    /// Creates a folder and its missing parents.
    pub async fn mkdir(&self, path: &FilePath) -> Result<Entry, VaultError> {
        if path.is_root() {
            return Err(VaultError::Conflict("the root folder exists".into()));
        }
        let p = path.clone();
        self.db
            .write(move |tx| {
                let id = ensure_dirs(tx, &p.segments)?;
                get_entry(tx, &id)
            })
            .await
    }

    fn check_space(&self, incoming: u64, stored: u64) -> Result<(), VaultError> {
        let free = fs4::available_space(&self.dir)?;
        if free < incoming.saturating_add(self.limits.min_free_bytes) {
            return Err(VaultError::InsufficientStorage(format!(
                "{incoming} bytes would leave less than {} bytes free ({free} available)",
                self.limits.min_free_bytes
            )));
        }
        if let Some(quota) = self.limits.files_quota_bytes
            && stored.saturating_add(incoming) > quota
        {
            return Err(VaultError::InsufficientStorage(format!(
                "quota of {quota} bytes exceeded ({stored} used, {incoming} more)"
            )));
        }
        Ok(())
    }

    async fn stored_bytes(&self) -> Result<u64, VaultError> {
        self.db
            .read(|c| {
                Ok(
                    c.query_row("SELECT coalesce(sum(size), 0) FROM files", [], |r| {
                        r.get::<_, i64>(0)
                    })?
                    .max(0) as u64,
                )
            })
            .await
    }

    /// Stores a file's content from a byte stream, creating missing parent
    /// folders, replacing an existing file. Returns the entry and whether it
    /// was created. Nothing is visible until the whole content is on disk.
    pub async fn upload<S, E>(
        &self,
        path: &FilePath,
        opts: UploadOptions,
        body: S,
    ) -> Result<(Entry, bool), VaultError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let Some((parents, name)) = path.split_last() else {
            return Err(bad_path("cannot upload to the root folder"));
        };
        if path.trailing_slash {
            return Err(bad_path("a file path cannot end with /"));
        }
        let stored = self.stored_bytes().await?;
        self.check_space(opts.content_length.unwrap_or(0), stored)?;

        let blob_id = uuid::Uuid::new_v4().simple().to_string();
        let tmp_path = self.dir.join("tmp").join(&blob_id);
        let key = blob::new_key();

        // The network side feeds two bounded channels: one blocking thread
        // encrypts and writes, another hashes, so the two run on two cores.
        // Memory stays a few chunks (the chunks are shared, not copied).
        let (tx, mut rx) = mpsc::channel::<Bytes>(8);
        let (hash_tx, mut hash_rx) = mpsc::channel::<Bytes>(8);
        let hasher = tokio::task::spawn_blocking(move || -> [u8; 32] {
            let mut h = Sha256::new();
            while let Some(chunk) = hash_rx.blocking_recv() {
                h.update(&chunk);
            }
            h.finalize().into()
        });
        let writer_path = tmp_path.clone();
        let writer_key: BlobKey = key.clone();
        let dir = self.dir.clone();
        let limits = self.limits;
        let declared = opts.content_length;
        let writer = tokio::task::spawn_blocking(move || -> Result<u64, VaultError> {
            let mut w = BlobWriter::create(&writer_path, &writer_key)?;
            let mut checked_at = 0u64;
            while let Some(chunk) = rx.blocking_recv() {
                w.write(&chunk)?;
                if declared.is_none() && w.size() - checked_at >= 16 * 1024 * 1024 {
                    checked_at = w.size();
                    let free = fs4::available_space(&dir)?;
                    if free < limits.min_free_bytes {
                        return Err(VaultError::InsufficientStorage(format!(
                            "the disk is nearly full ({free} bytes available)"
                        )));
                    }
                }
                if let Some(quota) = limits.files_quota_bytes
                    && stored + w.size() > quota
                {
                    return Err(VaultError::InsufficientStorage(format!(
                        "quota of {quota} bytes exceeded"
                    )));
                }
            }
            w.finish()
        });

        let mut body = body;
        let mut received: u64 = 0;
        let mut failure: Option<VaultError> = None;
        while let Some(item) = body.next().await {
            match item {
                Ok(bytes) => {
                    received += bytes.len() as u64;
                    if tx.send(bytes.clone()).await.is_err() || hash_tx.send(bytes).await.is_err() {
                        break; // the writer stopped; its error says why
                    }
                }
                Err(e) => {
                    failure = Some(VaultError::bad_request(
                        "upload_interrupted",
                        format!("the upload was interrupted: {e}"),
                    ));
                    break;
                }
            }
        }
        drop(tx);
        drop(hash_tx);
        let written = writer
            .await
            .map_err(|e| VaultError::Internal(format!("blob writer: {e}")))?;
        let sha = hasher
            .await
            .map_err(|e| VaultError::Internal(format!("blob hasher: {e}")))?;
        let cleanup = |e: VaultError| {
            let _ = std::fs::remove_file(&tmp_path);
            e
        };
        if let Some(e) = failure {
            return Err(cleanup(e));
        }
        let size = written.map_err(cleanup)?;
        if let Some(len) = opts.content_length
            && len != received
        {
            return Err(cleanup(VaultError::bad_request(
                "upload_interrupted",
                format!("received {received} of {len} bytes"),
            )));
        }
        if let Some(expected) = opts.expected_sha256
            && expected != sha
        {
            return Err(cleanup(VaultError::DigestMismatch));
        }

        // Make the blob durable under its final name, then commit the entry.
        let final_path = self.blob_path(&blob_id);
        let shard = final_path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir.clone());
        std::fs::create_dir_all(&shard).map_err(|e| cleanup(e.into()))?;
        std::fs::rename(&tmp_path, &final_path).map_err(|e| cleanup(e.into()))?;
        crate::system::fsutil::sync_dir(&shard)?;

        let p = path.clone();
        let parents = parents.to_vec();
        let name = name.clone();
        let mime = opts.mime;
        let sha_hex = hex::encode(sha);
        let key_bytes = key.to_vec();
        let bid = blob_id.clone();
        let result = self
            .db
            .write(move |tx| {
                let parent = ensure_dirs(tx, &parents)?;
                let t = now();
                match child(tx, &parent, &name)? {
                    Some(row) if row.kind == "dir" => Err(VaultError::Conflict(format!(
                        "{} is a folder",
                        p.display()
                    ))),
                    Some(row) => {
                        tx.execute(
                            "UPDATE files SET size = ?2, sha256 = ?3, blob = ?4, blob_key = ?5, mime = ?6, updated = ?7 WHERE id = ?1",
                            rusqlite::params![row.id, size as i64, sha_hex, bid, key_bytes, mime, t],
                        )?;
                        Ok((get_entry(tx, &row.id)?, false, row.blob))
                    }
                    None => {
                        let id = uuid::Uuid::now_v7().simple().to_string();
                        tx.execute(
                            "INSERT INTO files(id, parent, name, kind, size, sha256, blob, blob_key, mime, created, updated)
                             VALUES (?1, ?2, ?3, 'file', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                            rusqlite::params![id, parent, name, size as i64, sha_hex, bid, key_bytes, mime, t],
                        )?;
                        Ok((get_entry(tx, &id)?, true, None))
                    }
                }
            })
            .await;
        match result {
            Ok((entry, created, old_blob)) => {
                if let Some(old) = old_blob {
                    let _ = std::fs::remove_file(self.blob_path(&old));
                }
                Ok((entry, created))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&final_path);
                Err(e)
            }
        }
    }

    /// Opens a file for reading.
    pub async fn open_file(&self, path: &FilePath) -> Result<Download, VaultError> {
        let p = path.clone();
        let (row, entry) = self
            .db
            .read(move |c| {
                let row = resolve_in(c, &p.segments)?.ok_or_else(|| not_found(&p))?;
                let entry = get_entry(c, &row.id)?;
                Ok((row, entry))
            })
            .await?;
        if row.kind != "file" {
            return Err(VaultError::bad_request(
                "not_a_file",
                format!(
                    "{} is a folder; add a trailing / to list it",
                    path.display()
                ),
            ));
        }
        let blob = row
            .blob
            .ok_or_else(|| VaultError::Corrupt(format!("{} has no content", path.display())))?;
        let key: [u8; 32] = row
            .key
            .as_deref()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| VaultError::Corrupt(format!("{} has no valid key", path.display())))?;
        let key = zeroize::Zeroizing::new(key);
        let reader = BlobReader::open(&self.blob_path(&blob), &key, row.size)?;
        Ok(Download { entry, reader })
    }

    /// Moves or renames an entry; missing destination folders are created.
    pub async fn rename(&self, from: &FilePath, to: &FilePath) -> Result<Entry, VaultError> {
        let (Some((to_parents, to_name)), false) = (to.split_last(), from.is_root()) else {
            return Err(bad_path("the root folder cannot be moved or replaced"));
        };
        if to.segments.starts_with(&from.segments) && to.segments.len() > from.segments.len() {
            return Err(VaultError::bad_request(
                "invalid_move",
                "a folder cannot be moved inside itself",
            ));
        }
        let (from, to_parents, to_name, to_shown) = (
            from.clone(),
            to_parents.to_vec(),
            to_name.clone(),
            to.display(),
        );
        self.db
            .write(move |tx| {
                let row = resolve_in(tx, &from.segments)?.ok_or_else(|| not_found(&from))?;
                let parent = ensure_dirs(tx, &to_parents)?;
                if child(tx, &parent, &to_name)?.is_some() {
                    return Err(VaultError::Conflict(format!("{to_shown} already exists")));
                }
                tx.execute(
                    "UPDATE files SET parent = ?2, name = ?3, updated = ?4 WHERE id = ?1",
                    rusqlite::params![row.id, parent, to_name, now()],
                )?;
                get_entry(tx, &row.id)
            })
            .await
    }

    /// Moves an entry (and, for a folder, everything in it) to the trash.
    pub async fn trash(&self, path: &FilePath) -> Result<Entry, VaultError> {
        if path.is_root() {
            return Err(bad_path("the root folder cannot be deleted"));
        }
        let p = path.clone();
        self.db
            .write(move |tx| {
                let row = resolve_in(tx, &p.segments)?.ok_or_else(|| not_found(&p))?;
                tx.execute(
                    "UPDATE files SET trashed = 1, trashed_at = ?2, trash_path = ?3 WHERE id = ?1",
                    rusqlite::params![row.id, now(), p.display()],
                )?;
                get_entry(tx, &row.id)
            })
            .await
    }

    /// What is in the trash (top-level entries only).
    pub async fn list_trash(&self) -> Result<Vec<TrashEntry>, VaultError> {
        self.db
            .read(|c| {
                let mut st = c.prepare(&format!(
                    "SELECT {ENTRY_COLS}, trash_path, trashed_at FROM files WHERE trashed = 1 ORDER BY trashed_at DESC"
                ))?;
                let v = st
                    .query_map([], |r| {
                        Ok(TrashEntry {
                            entry: entry_from_row(r)?,
                            original_path: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                            trashed_at: r.get::<_, Option<i64>>(9)?.unwrap_or_default(),
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(v)
            })
            .await
    }

    /// Puts a trashed entry back where it was (recreating missing folders).
    pub async fn restore(&self, id: &str) -> Result<Entry, VaultError> {
        let id = id.to_owned();
        self.db
            .write(move |tx| {
                let original: Option<String> = tx
                    .query_row(
                        "SELECT trash_path FROM files WHERE id = ?1 AND trashed = 1",
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| VaultError::NotFound(format!("trash entry {id}")))?;
                let original = original.unwrap_or_default();
                let path = FilePath::parse(original.trim_start_matches('/'))?;
                let Some((parents, name)) = path.split_last() else {
                    return Err(VaultError::Corrupt("trash entry without a path".into()));
                };
                let parent = ensure_dirs(tx, parents)?;
                if child(tx, &parent, name)?.is_some() {
                    return Err(VaultError::Conflict(format!(
                        "{original} exists again; move it away before restoring"
                    )));
                }
                tx.execute(
                    "UPDATE files SET trashed = 0, trashed_at = NULL, trash_path = NULL, parent = ?2, updated = ?3 WHERE id = ?1",
                    rusqlite::params![id, parent, now()],
                )?;
                get_entry(tx, &id)
            })
            .await
    }

    /// Deletes trashed entries for good (`id`: one entry; `None`: the whole
    /// trash) and frees their blobs. Returns how many entries were removed.
    pub async fn purge(&self, id: Option<&str>) -> Result<usize, VaultError> {
        let id = id.map(str::to_owned);
        let (count, blobs) = self
            .db
            .write(move |tx| {
                let roots: Vec<String> = match &id {
                    Some(id) => {
                        let found: Option<String> = tx
                            .query_row("SELECT id FROM files WHERE id = ?1 AND trashed = 1", [id], |r| r.get(0))
                            .optional()?;
                        vec![found.ok_or_else(|| VaultError::NotFound(format!("trash entry {id}")))?]
                    }
                    None => {
                        let mut st = tx.prepare("SELECT id FROM files WHERE trashed = 1")?;
                        st.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?
                    }
                };
                let mut count = 0;
                let mut blobs = Vec::new();
                for root in roots {
                    // Deepest first, so a parent is never deleted before its children
                    // (ids are time-ordered, but a folder may be newer than its contents).
                    let mut st = tx.prepare(
                        "WITH RECURSIVE sub(id, depth) AS (
                             SELECT ?1, 0
                             UNION ALL SELECT f.id, sub.depth + 1 FROM files f JOIN sub ON f.parent = sub.id)
                         SELECT files.id, files.blob FROM files JOIN sub ON files.id = sub.id
                         ORDER BY sub.depth DESC",
                    )?;
                    let rows: Vec<(String, Option<String>)> = st
                        .query_map([&root], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?;
                    for (fid, blob) in &rows {
                        tx.execute("DELETE FROM files WHERE id = ?1", [fid])?;
                        if let Some(b) = blob {
                            blobs.push(b.clone());
                        }
                        count += 1;
                    }
                }
                Ok((count, blobs))
            })
            .await?;
        for b in blobs {
            let _ = std::fs::remove_file(self.blob_path(&b));
        }
        Ok(count)
    }
}

impl Download {
    /// Streams plaintext bytes `start..=end` through a bounded channel from a
    /// blocking reader thread.
    pub fn stream(
        self,
        start: u64,
        end: u64,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let mut reader = self.reader;
        tokio::task::spawn_blocking(move || {
            let result = reader.read_range(start, end, |chunk| {
                tx.blocking_send(Ok(Bytes::from(chunk))).is_ok()
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "reading a blob failed");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_validated() {
        assert_eq!(
            FilePath::parse("a/b.txt").expect("ok").segments,
            vec!["a", "b.txt"]
        );
        assert!(FilePath::parse("a/b/").expect("ok").trailing_slash);
        assert!(FilePath::parse("").expect("root").is_root());
        for bad in [
            "/etc/passwd",
            "a/../b",
            "..",
            "a/./b",
            "a//b",
            "a\0b",
            "a/\u{7}",
        ] {
            assert!(FilePath::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(FilePath::parse(&"x".repeat(256)).is_err());
        assert!(FilePath::parse(&"x/".repeat(2100)).is_err());
        assert!(FilePath::parse("Factures 2026/EDF – janvier.pdf").is_ok());
    }
}
