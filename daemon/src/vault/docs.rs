//! Documents: typed JSON objects with revisions, queries and a change feed.
//!
//! A document lives in one row of `docs` (inside the encrypted database):
//! its doctype, id, current revision `N-hash`, the sequence number of its
//! last change, a deleted flag (deletions leave a tombstone so the change
//! feed can report them) and its fields as JSON. Every write bumps the
//! vault-wide sequence; `GET /api/changes?since=` reads rows by that sequence.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rusqlite::OptionalExtension;
use rusqlite::types::Value as Sql;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::doctypes::{Doctype, field_expr};
use super::query::{self, Selector};
use super::{Vault, VaultError};
use crate::vault::db::Db;

/// Identity of a stored revision, as returned by writes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocRef {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_rev")]
    pub rev: String,
}

/// A `_find` request (Mango-style).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindRequest {
    /// Selector object; `{}` matches every document.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub selector: Option<Value>,
    /// `["field"]` or `[{"field": "asc"|"desc"}]`; the field must be indexed.
    #[schema(value_type = Option<Vec<Object>>)]
    pub sort: Option<Value>,
    /// At most this many documents (default 25, maximum 1000).
    pub limit: Option<u32>,
    /// Opaque position returned by the previous page.
    pub bookmark: Option<String>,
}

/// A page of `_find` results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FindResponse {
    #[schema(value_type = Vec<Object>)]
    pub docs: Vec<Value>,
    /// Pass back to get the next page; `null` when there is none.
    pub bookmark: Option<String>,
    /// Present when no index could narrow the scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// One outcome of `_bulk_docs`, in request order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One entry of the change feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub seq: i64,
    pub doctype: String,
    pub id: String,
    pub rev: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    pub results: Vec<Change>,
    pub last_seq: i64,
}

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 1000;
pub const MAX_BULK: usize = 10_000;

/// Splits a request body into the document's fields and its `_id`/`_rev`.
struct Incoming {
    id: Option<String>,
    rev: Option<String>,
    deleted: bool,
    fields: Map<String, Value>,
}

fn split_body(body: Value, allow_deleted: bool) -> Result<Incoming, VaultError> {
    let Value::Object(mut fields) = body else {
        return Err(VaultError::Invalid {
            field: None,
            message: "a document must be a JSON object".into(),
        });
    };
    let take_str =
        |fields: &mut Map<String, Value>, key: &str| -> Result<Option<String>, VaultError> {
            match fields.remove(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(VaultError::Invalid {
                    field: Some(key.into()),
                    message: format!("{key} must be a string"),
                }),
            }
        };
    let id = take_str(&mut fields, "_id")?;
    let rev = take_str(&mut fields, "_rev")?;
    let deleted = if allow_deleted {
        matches!(fields.remove("_deleted"), Some(Value::Bool(true)))
    } else {
        false
    };
    if let Some(k) = fields.keys().find(|k| k.starts_with('_')) {
        return Err(VaultError::Invalid {
            field: Some(k.clone()),
            message: format!("{k}: fields starting with _ are reserved"),
        });
    }
    if let Some(id) = &id {
        check_doc_id(id)?;
    }
    Ok(Incoming {
        id,
        rev,
        deleted,
        fields,
    })
}

/// Document ids: 1–200 characters from `[A-Za-z0-9_.:@-]`, not starting with `_`.
pub fn check_doc_id(id: &str) -> Result<(), VaultError> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('_')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(VaultError::bad_request(
            "invalid_id",
            format!(
                "{id:?} is not a document id (1-200 of A-Z a-z 0-9 _ . : @ -, not starting with _)"
            ),
        ))
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn next_rev(prev: Option<&str>, body: &str) -> String {
    let generation = prev
        .and_then(|r| r.split_once('-'))
        .and_then(|(g, _)| g.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let mut h = Sha256::new();
    h.update(prev.unwrap_or("").as_bytes());
    h.update([0]);
    h.update(body.as_bytes());
    format!("{generation}-{}", hex::encode(&h.finalize()[..16]))
}

fn next_seq(tx: &rusqlite::Transaction<'_>) -> Result<i64, VaultError> {
    Ok(tx.query_row(
        "UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value",
        [],
        |r| r.get(0),
    )?)
}

/// Current `(rev, deleted)` of a document row, if any.
fn current(
    tx: &rusqlite::Transaction<'_>,
    doctype: &str,
    id: &str,
) -> Result<Option<(String, bool)>, VaultError> {
    Ok(tx
        .query_row(
            "SELECT rev, deleted FROM docs WHERE doctype = ?1 AND id = ?2",
            rusqlite::params![doctype, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn store(
    tx: &rusqlite::Transaction<'_>,
    doctype: &str,
    id: &str,
    prev: Option<&str>,
    body: Option<&str>,
) -> Result<(String, i64), VaultError> {
    let rev = next_rev(prev, body.unwrap_or("deleted"));
    let seq = next_seq(tx)?;
    tx.prepare_cached(
        "INSERT INTO docs(doctype, id, rev, seq, deleted, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(doctype, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
             deleted = excluded.deleted, body = excluded.body",
    )?
    .execute(rusqlite::params![
        doctype,
        id,
        rev,
        seq,
        body.is_none(),
        body
    ])?;
    Ok((rev, seq))
}

/// Applies one create/replace/delete inside a transaction. `expect_rev` is the
/// client's `_rev` (required to change an existing document).
fn apply(
    tx: &rusqlite::Transaction<'_>,
    doctype: &Doctype,
    incoming: Incoming,
) -> Result<(DocRef, i64), VaultError> {
    let id = incoming.id.unwrap_or_else(new_id);
    let existing = current(tx, &doctype.name, &id)?;
    let live = existing.as_ref().filter(|(_, deleted)| !deleted);
    match (live, incoming.rev.as_deref()) {
        (Some(_), None) => {
            return Err(VaultError::Conflict(format!(
                "document {id} exists; send its current _rev to change it"
            )));
        }
        (Some((cur, _)), Some(rev)) if cur != rev => {
            return Err(VaultError::Conflict(format!(
                "_rev {rev} is stale; the current revision is {cur}"
            )));
        }
        (None, Some(_)) if existing.is_none() || incoming.deleted => {
            return Err(VaultError::NotFound(format!(
                "document {}/{id}",
                doctype.name
            )));
        }
        _ => {}
    }
    if incoming.deleted {
        let prev = existing.map(|(r, _)| r);
        let (rev, seq) = store(tx, &doctype.name, &id, prev.as_deref(), None)?;
        return Ok((DocRef { id, rev }, seq));
    }
    let body = Value::Object(incoming.fields);
    doctype.validate(&body)?;
    let text = body.to_string();
    let prev = existing.map(|(r, _)| r);
    let (rev, seq) = store(tx, &doctype.name, &id, prev.as_deref(), Some(&text))?;
    Ok((DocRef { id, rev }, seq))
}

fn with_meta(id: String, rev: String, body: &str) -> Result<Value, VaultError> {
    let mut fields: Map<String, Value> = serde_json::from_str(body)
        .map_err(|e| VaultError::Corrupt(format!("document {id}: {e}")))?;
    fields.insert("_id".into(), Value::String(id));
    fields.insert("_rev".into(), Value::String(rev));
    Ok(Value::Object(fields))
}

/// Position in a `_find` scan, carried by the opaque bookmark.
#[derive(Serialize, Deserialize)]
struct Bookmark {
    /// The sort key of the last returned row (absent for `_id` scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<Value>,
    id: String,
}

fn sql_to_tagged(v: &Sql) -> Value {
    match v {
        Sql::Integer(i) => serde_json::json!({ "i": i }),
        Sql::Real(f) => serde_json::json!({ "r": f }),
        Sql::Text(s) => serde_json::json!({ "s": s }),
        _ => Value::Null,
    }
}

fn tagged_to_sql(v: &Value) -> Option<Sql> {
    let o = v.as_object()?;
    if let Some(i) = o.get("i") {
        return i.as_i64().map(Sql::Integer);
    }
    if let Some(r) = o.get("r") {
        return r.as_f64().map(Sql::Real);
    }
    o.get("s")
        .and_then(Value::as_str)
        .map(|s| Sql::Text(s.to_owned()))
}

fn bad_bookmark() -> VaultError {
    VaultError::bad_request(
        "invalid_bookmark",
        "the bookmark is not one this box issued for this query",
    )
}

impl Vault {
    /// Creates a document; the body may carry a chosen `_id`.
    pub async fn create_doc(&self, doctype: &str, body: Value) -> Result<DocRef, VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        let mut incoming = split_body(body, false)?;
        if incoming.rev.is_some() {
            return Err(VaultError::bad_request(
                "unexpected_rev",
                "a new document has no _rev; use PUT to replace an existing one",
            ));
        }
        incoming.id.get_or_insert_with(new_id);
        let (r, seq) = self
            .db
            .write(move |tx| apply(tx, &doctype, incoming))
            .await?;
        self.notify_change(seq);
        Ok(r)
    }

    /// Replaces a document (or creates it under this id when it does not exist
    /// and no `_rev` is given). Returns the new revision and whether it was created.
    pub async fn put_doc(
        &self,
        doctype: &str,
        id: &str,
        body: Value,
    ) -> Result<(DocRef, bool), VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        check_doc_id(id)?;
        let mut incoming = split_body(body, false)?;
        if let Some(body_id) = &incoming.id
            && body_id != id
        {
            return Err(VaultError::bad_request(
                "id_mismatch",
                format!("_id {body_id} in the body differs from {id} in the path"),
            ));
        }
        incoming.id = Some(id.to_owned());
        let created = incoming.rev.is_none();
        let (r, seq) = self
            .db
            .write(move |tx| apply(tx, &doctype, incoming))
            .await?;
        self.notify_change(seq);
        Ok((r, created))
    }

    /// Deletes a document at revision `rev` (leaves a tombstone for the feed).
    pub async fn delete_doc(
        &self,
        doctype: &str,
        id: &str,
        rev: &str,
    ) -> Result<DocRef, VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        check_doc_id(id)?;
        let incoming = Incoming {
            id: Some(id.to_owned()),
            rev: Some(rev.to_owned()),
            deleted: true,
            fields: Map::new(),
        };
        let (r, seq) = self
            .db
            .write(move |tx| apply(tx, &doctype, incoming))
            .await?;
        self.notify_change(seq);
        Ok(r)
    }

    /// Reads a live document with its `_id` and `_rev`.
    pub async fn get_doc(&self, doctype: &str, id: &str) -> Result<Value, VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        check_doc_id(id)?;
        let id = id.to_owned();
        self.db
            .read(move |c| {
                let row: Option<(String, String)> = c
                    .prepare_cached(
                        "SELECT rev, body FROM docs WHERE doctype = ?1 AND id = ?2 AND deleted = 0",
                    )?
                    .query_row(rusqlite::params![doctype.name, id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                let (rev, body) = row.ok_or_else(|| {
                    VaultError::NotFound(format!("document {}/{id}", doctype.name))
                })?;
                with_meta(id, rev, &body)
            })
            .await
    }

    /// Writes many documents in one transaction (one disk sync). Each gets
    /// its own result; a refused document does not stop the others.
    pub async fn bulk_docs(
        &self,
        doctype: &str,
        docs: Vec<Value>,
    ) -> Result<Vec<BulkResult>, VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        if docs.len() > MAX_BULK {
            return Err(VaultError::bad_request(
                "too_many_docs",
                format!("at most {MAX_BULK} documents per _bulk_docs request"),
            ));
        }
        let (results, max_seq) = self
            .db
            .write(move |tx| {
                let mut results = Vec::with_capacity(docs.len());
                let mut max_seq = 0;
                for body in docs {
                    let outcome = split_body(body, true).and_then(|inc| {
                        let given = inc.id.clone();
                        // A failed document must leave no trace: savepoint per doc.
                        tx.execute_batch("SAVEPOINT doc")?;
                        match apply(tx, &doctype, inc) {
                            Ok(ok) => {
                                tx.execute_batch("RELEASE doc")?;
                                Ok(Ok(ok))
                            }
                            Err(e) => {
                                tx.execute_batch("ROLLBACK TO doc; RELEASE doc")?;
                                Ok(Err((given, e)))
                            }
                        }
                    });
                    results.push(match outcome {
                        Ok(Ok((r, seq))) => {
                            max_seq = max_seq.max(seq);
                            BulkResult {
                                ok: true,
                                id: Some(r.id),
                                rev: Some(r.rev),
                                error: None,
                                reason: None,
                            }
                        }
                        Ok(Err((id, e))) => bulk_error(id, &e),
                        Err(e) => bulk_error(None, &e),
                    });
                }
                Ok((results, max_seq))
            })
            .await?;
        if max_seq > 0 {
            self.notify_change(max_seq);
        }
        Ok(results)
    }

    /// Runs a Mango-style query.
    pub async fn find(&self, doctype: &str, req: FindRequest) -> Result<FindResponse, VaultError> {
        let doctype = self.doctypes.get(doctype)?;
        let selector =
            Selector::parse(req.selector.as_ref().unwrap_or(&Value::Object(Map::new())))?;
        let sort = query::parse_sort(req.sort.as_ref())?;
        let plan = query::plan(&selector, sort.as_ref(), &doctype.indexes)?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(VaultError::bad_request(
                "invalid_limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let bookmark: Option<Bookmark> = match &req.bookmark {
            None => None,
            Some(b) => {
                let raw = B64URL.decode(b).map_err(|_| bad_bookmark())?;
                Some(serde_json::from_slice(&raw).map_err(|_| bad_bookmark())?)
            }
        };
        let warning = (plan.field.is_none()
            && plan.lower.is_none()
            && plan.upper.is_none()
            && plan.any_of.is_none())
        .then(|| {
            "no index narrowed this query: every document of the doctype was scanned".to_owned()
        })
        .filter(|_| !matches!(&selector, Selector::And(v) if v.is_empty()));
        let name = doctype.name.clone();
        self.db
            .read(move |c| {
                let expr = plan
                    .field
                    .as_deref()
                    .map(field_expr)
                    .unwrap_or_else(|| "id".to_owned());
                let mut sql = format!(
                    "SELECT id, rev, body, {expr} FROM docs WHERE doctype = ? AND deleted = 0"
                );
                let mut params: Vec<Sql> = vec![Sql::Text(name)];
                if plan.field.is_some() {
                    sql.push_str(&format!(" AND {expr} IS NOT NULL"));
                }
                if let Some(b) = &plan.lower {
                    sql.push_str(&format!(
                        " AND {expr} {} ?",
                        if b.inclusive { ">=" } else { ">" }
                    ));
                    params.push(b.value.clone());
                }
                if let Some(b) = &plan.upper {
                    sql.push_str(&format!(
                        " AND {expr} {} ?",
                        if b.inclusive { "<=" } else { "<" }
                    ));
                    params.push(b.value.clone());
                }
                if let Some(vals) = &plan.any_of {
                    let marks = vec!["?"; vals.len()].join(", ");
                    sql.push_str(&format!(" AND {expr} IN ({marks})"));
                    params.extend(vals.iter().cloned());
                }
                let op = if plan.descending { "<" } else { ">" };
                if let Some(bm) = &bookmark {
                    if plan.field.is_some() {
                        let k =
                            bm.k.as_ref()
                                .and_then(tagged_to_sql)
                                .ok_or_else(bad_bookmark)?;
                        sql.push_str(&format!(" AND ({expr}, id) {op} (?, ?)"));
                        params.push(k);
                    } else {
                        sql.push_str(&format!(" AND id {op} ?"));
                    }
                    params.push(Sql::Text(bm.id.clone()));
                }
                let dir = if plan.descending { "DESC" } else { "ASC" };
                if plan.field.is_some() {
                    sql.push_str(&format!(" ORDER BY {expr} {dir}, id {dir}"));
                } else {
                    sql.push_str(&format!(" ORDER BY id {dir}"));
                }
                let mut stmt = c.prepare(&sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                let mut docs = Vec::new();
                let mut last: Option<Bookmark> = None;
                while let Some(row) = rows.next()? {
                    let id: String = row.get(0)?;
                    let body: String = row.get(2)?;
                    let fields: Value = serde_json::from_str(&body)
                        .map_err(|e| VaultError::Corrupt(format!("document {id}: {e}")))?;
                    if !selector.matches(&id, &fields) {
                        continue;
                    }
                    let k: Sql = row.get(3)?;
                    let rev: String = row.get(1)?;
                    let Value::Object(mut map) = fields else {
                        continue;
                    };
                    map.insert("_id".into(), Value::String(id.clone()));
                    map.insert("_rev".into(), Value::String(rev));
                    docs.push(Value::Object(map));
                    last = Some(Bookmark {
                        k: plan.field.is_some().then(|| sql_to_tagged(&k)),
                        id,
                    });
                    if docs.len() as u32 >= limit {
                        break;
                    }
                }
                let bookmark = if docs.len() as u32 >= limit {
                    last.and_then(|b| serde_json::to_vec(&b).ok())
                        .map(|raw| B64URL.encode(raw))
                } else {
                    None
                };
                Ok(FindResponse {
                    docs,
                    bookmark,
                    warning,
                })
            })
            .await
    }

    /// Changes after `since`, oldest first, at most `limit`. `doctypes`
    /// restricts the feed (for scoped tokens); `None` means all.
    pub async fn changes(
        &self,
        since: i64,
        limit: u32,
        doctypes: Option<Vec<String>>,
    ) -> Result<ChangesPage, VaultError> {
        self.db
            .read(move |c| {
                let head: i64 =
                    c.query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))?;
                let mut sql =
                    "SELECT seq, doctype, id, rev, deleted FROM docs WHERE seq > ? AND seq <= ?"
                        .to_owned();
                let mut params = vec![Sql::Integer(since), Sql::Integer(head)];
                if let Some(dts) = &doctypes {
                    let marks = vec!["?"; dts.len()].join(", ");
                    sql.push_str(&format!(" AND doctype IN ({marks})"));
                    params.extend(dts.iter().cloned().map(Sql::Text));
                }
                sql.push_str(" ORDER BY seq LIMIT ?");
                params.push(Sql::Integer(i64::from(limit)));
                let mut stmt = c.prepare(&sql)?;
                let results = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        Ok(Change {
                            seq: r.get(0)?,
                            doctype: r.get(1)?,
                            id: r.get(2)?,
                            rev: r.get(3)?,
                            deleted: r.get(4)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let last_seq = if results.len() as u32 >= limit {
                    results.last().map(|c| c.seq).unwrap_or(head)
                } else {
                    head.max(since.min(head))
                };
                Ok(ChangesPage { results, last_seq })
            })
            .await
    }
}

fn bulk_error(id: Option<String>, e: &VaultError) -> BulkResult {
    let code = match e {
        VaultError::Conflict(_) => "conflict",
        VaultError::NotFound(_) => "not_found",
        VaultError::Invalid { .. } => "invalid_document",
        VaultError::BadRequest { code, .. } => code,
        _ => "internal",
    };
    BulkResult {
        ok: false,
        id,
        rev: None,
        error: Some(code.to_owned()),
        reason: Some(e.to_string()),
    }
}

/// The current head of the change feed.
pub async fn last_seq(db: &Arc<Db>) -> Result<i64, VaultError> {
    db.read(|c| Ok(c.query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_grow_and_depend_on_content() {
        let r1 = next_rev(None, "{\"a\":1}");
        assert!(r1.starts_with("1-"));
        let r2 = next_rev(Some(&r1), "{\"a\":2}");
        assert!(r2.starts_with("2-"));
        assert_ne!(next_rev(Some(&r1), "{\"a\":3}"), r2);
    }

    #[test]
    fn reserved_fields_and_ids() {
        assert!(split_body(serde_json::json!({"_secret": 1}), false).is_err());
        assert!(split_body(serde_json::json!([1]), false).is_err());
        assert!(check_doc_id("abc-123").is_ok());
        assert!(check_doc_id("../etc").is_err());
        assert!(check_doc_id("_design").is_err());
        assert!(check_doc_id("").is_err());
    }
}
