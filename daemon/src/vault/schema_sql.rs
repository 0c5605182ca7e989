//! The tables of `vault.db` and their migrations (`PRAGMA user_version`).
//!
//! Each migration runs in one transaction; a box that crashes in the middle
//! of one starts again from the previous version.

use rusqlite::Connection;

use super::VaultError;

const MIGRATIONS: &[&str] = &[
    // 1: documents, change feed, custom doctypes, sessions, tokens, files.
    r#"
    CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    INSERT INTO meta(key, value) VALUES ('seq', 0);

    CREATE TABLE docs(
        doctype TEXT NOT NULL,
        id      TEXT NOT NULL,
        rev     TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        body    TEXT,
        UNIQUE(doctype, id)
    );
    CREATE UNIQUE INDEX docs_by_seq ON docs(seq);

    CREATE TABLE doctypes(
        name    TEXT PRIMARY KEY,
        schema  TEXT,
        indexes TEXT NOT NULL DEFAULT '[]'
    ) WITHOUT ROWID;

    CREATE TABLE sessions(
        hash      BLOB PRIMARY KEY,
        csrf      TEXT NOT NULL,
        created   INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires   INTEGER NOT NULL,
        client    TEXT
    ) WITHOUT ROWID;

    CREATE TABLE tokens(
        id        TEXT PRIMARY KEY,
        name      TEXT NOT NULL,
        hash      BLOB NOT NULL UNIQUE,
        scopes    TEXT NOT NULL,
        created   INTEGER NOT NULL,
        expires   INTEGER,
        last_used INTEGER
    );

    CREATE TABLE files(
        id         TEXT PRIMARY KEY,
        parent     TEXT REFERENCES files(id),
        name       TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
        size       INTEGER NOT NULL DEFAULT 0,
        sha256     TEXT,
        blob       TEXT,
        blob_key   BLOB,
        mime       TEXT,
        created    INTEGER NOT NULL,
        updated    INTEGER NOT NULL,
        trashed    INTEGER NOT NULL DEFAULT 0,
        trashed_at INTEGER,
        trash_path TEXT
    );
    CREATE UNIQUE INDEX files_by_name ON files(parent, name) WHERE trashed = 0;
    CREATE INDEX files_trashed ON files(trashed) WHERE trashed = 1;
    CREATE INDEX files_by_blob ON files(blob);
    INSERT INTO files(id, parent, name, kind, created, updated)
        VALUES ('root', NULL, '', 'dir', unixepoch(), unixepoch());
    "#,
    // 2: sessions become devices (public id, name, kind); one-time pairing codes.
    r#"
    ALTER TABLE sessions ADD COLUMN id TEXT;
    ALTER TABLE sessions ADD COLUMN name TEXT;
    ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'login';
    UPDATE sessions SET id = lower(hex(randomblob(8))) WHERE id IS NULL;
    CREATE UNIQUE INDEX sessions_by_id ON sessions(id);

    CREATE TABLE pairings(
        hash    BLOB PRIMARY KEY,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
];

/// Brings the database schema to the latest version.
pub fn migrate(conn: &mut Connection) -> Result<(), VaultError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database migrated");
    }
    Ok(())
}
