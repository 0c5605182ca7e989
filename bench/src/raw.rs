//! The raw-SQLite baselines: the daemon's table and indexes, written with
//! rusqlite directly, with the daemon's durability settings.
//!
//! Settings mirrored from `daemon/src/vault/db.rs`: SQLCipher keyed with a
//! raw 256-bit key (`PRAGMA key = "x'<hex>'"`, so no KDF), `temp_store =
//! MEMORY`, `synchronous = FULL`, `journal_mode = WAL`, `BEGIN IMMEDIATE`
//! transactions. Schema mirrored from `vault/schema_sql.rs` and
//! `vault/doctypes.rs`: `docs` with `UNIQUE(doctype, id)`, the unique index on
//! `seq`, and one expression index per indexed field — of *every* doctype,
//! because the daemon creates each field's index on the shared `docs` table.
//! The insert statement is the daemon's own text.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};

pub const INSERT: &str =
    "INSERT INTO docs(doctype, id, rev, seq, deleted, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(doctype, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
             deleted = excluded.deleted, body = excluded.body";

const SCHEMA: &str = r#"
    CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    INSERT OR IGNORE INTO meta(key, value) VALUES ('seq', 0);
    CREATE TABLE IF NOT EXISTS docs(
        doctype TEXT NOT NULL,
        id      TEXT NOT NULL,
        rev     TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        body    TEXT,
        UNIQUE(doctype, id)
    );
    CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs(seq);
"#;

/// One prepared row: id, rev, body (the seq is assigned at insert).
pub struct Row {
    pub id: String,
    pub rev: String,
    pub body: String,
}

/// Which statements a baseline runs per document.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Statements {
    /// The INSERT alone: the minimum any store of this row must do.
    InsertOnly,
    /// The daemon's per-document work with cached statements and no
    /// savepoint: look up the current revision, bump the `meta` sequence, INSERT.
    LookupSeq,
    /// As `LookupSeq`, plus a (cached) `SAVEPOINT`/`RELEASE` around each
    /// document of a bulk.
    LookupSeqSavepoint,
    /// Exactly what `vault/docs.rs` runs: the lookup and the sequence bump
    /// prepared anew for every document (`query_row`), the savepoints of a
    /// bulk parsed anew (`execute_batch`), the INSERT cached.
    AsDaemon,
}

pub fn open(path: &Path, key: Option<&[u8; 32]>, index_fields: &[String]) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("open {}", path.display()))?;
    if let Some(k) = key {
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(k)))?;
    }
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("journal_mode is {mode}, not wal");
    }
    conn.execute_batch(SCHEMA)?;
    for f in index_fields {
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS docs_ix_{} ON docs(doctype, json_extract(body, '$.{f}'), id) WHERE deleted = 0",
            f.replace('.', "__")
        ))?;
    }
    // The checks that the settings took.
    let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0))?;
    if sync != 2 {
        bail!("synchronous is {sync}, not FULL (2)");
    }
    if key.is_some() {
        let v: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .optional()?;
        if v.as_deref().unwrap_or("").is_empty() {
            bail!("PRAGMA cipher_version is empty: not SQLCipher");
        }
    }
    Ok(conn)
}

/// Whether the file starts with SQLite's plaintext header (it must not when keyed).
pub fn is_plaintext(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| b.starts_with(b"SQLite format 3\0"))
        .unwrap_or(false)
}

/// Inserts `rows` of `doctype`, `batch` rows per transaction; `first_seq` is
/// the last sequence number used (for `InsertOnly`). Returns the time of the
/// whole loop and the latency of each transaction.
pub fn insert(
    conn: &mut Connection,
    doctype: &str,
    rows: &[Row],
    batch: usize,
    statements: Statements,
    first_seq: i64,
) -> Result<(Duration, Vec<f64>)> {
    let mut seq = first_seq;
    let mut per_tx = Vec::with_capacity(rows.len() / batch + 1);
    let t0 = Instant::now();
    for chunk in rows.chunks(batch) {
        let t = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for row in chunk {
            let bulk = batch > 1;
            match statements {
                Statements::InsertOnly => seq += 1,
                Statements::LookupSeq | Statements::LookupSeqSavepoint => {
                    if bulk && statements == Statements::LookupSeqSavepoint {
                        tx.prepare_cached("SAVEPOINT doc")?.execute([])?;
                    }
                    let _cur: Option<(String, bool)> = tx
                        .prepare_cached(
                            "SELECT rev, deleted FROM docs WHERE doctype = ?1 AND id = ?2",
                        )?
                        .query_row(params![doctype, row.id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    seq = tx
                        .prepare_cached(
                            "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value",
                        )?
                        .query_row([], |r| r.get(0))?;
                }
                Statements::AsDaemon => {
                    if bulk {
                        tx.execute_batch("SAVEPOINT doc")?;
                    }
                    let _cur: Option<(String, bool)> = tx
                        .query_row(
                            "SELECT rev, deleted FROM docs WHERE doctype = ?1 AND id = ?2",
                            params![doctype, row.id],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .optional()?;
                    seq = tx.query_row(
                        "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value",
                        [],
                        |r| r.get(0),
                    )?;
                }
            }
            tx.prepare_cached(INSERT)?
                .execute(params![doctype, row.id, row.rev, seq, false, row.body])?;
            if bulk {
                match statements {
                    Statements::AsDaemon => tx.execute_batch("RELEASE doc")?,
                    Statements::LookupSeqSavepoint => {
                        tx.prepare_cached("RELEASE doc")?.execute([])?;
                    }
                    _ => {}
                }
            }
        }
        tx.commit()?;
        per_tx.push(crate::util::ms(t.elapsed()));
    }
    Ok((t0.elapsed(), per_tx))
}

/// The daemon's point read of one live document (`GET /api/docs/{doctype}/{id}`).
pub fn point_read(conn: &Connection, doctype: &str, id: &str) -> Result<(String, String)> {
    Ok(conn
        .prepare_cached(
            "SELECT rev, body FROM docs WHERE doctype = ?1 AND id = ?2 AND deleted = 0",
        )?
        .query_row(params![doctype, id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
