//! The box's own settings that the owner chooses (for now: its name, shown
//! in the web app and on other devices). Kept in the vault's encrypted
//! database, in the `meta` table, so they never sit in plaintext on disk.

use std::sync::Arc;

use rusqlite::OptionalExtension;

use crate::vault::VaultError;
use crate::vault::db::Db;

/// Longest box name kept, in characters.
pub const NAME_MAX_CHARS: usize = 64;

const NAME_KEY: &str = "box_name";

/// The name the owner gave the box, if any.
pub async fn name(db: &Arc<Db>) -> Result<Option<String>, VaultError> {
    db.read(|c| {
        Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([NAME_KEY], |r| r.get::<_, String>(0))
            .optional()?)
    })
    .await
}

/// Sets the box's name; refuses an empty or overlong one, or control characters.
pub async fn set_name(db: &Arc<Db>, name: &str) -> Result<String, VaultError> {
    let name = name.trim().to_owned();
    let bad = |message: &str| VaultError::BadRequest {
        code: "invalid_name",
        message: message.to_owned(),
    };
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(bad("the name is longer than 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("the name contains control characters"));
    }
    let stored = name.clone();
    db.write(move |tx| {
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            rusqlite::params![NAME_KEY, stored],
        )?;
        Ok(())
    })
    .await?;
    Ok(name)
}
