//! Document types: which exist, the JSON Schema each is checked against, and
//! the fields each declares an index on.
//!
//! Built-in doctypes (`bank.account`, `bank.operation`, `bill`,
//! `energy.reading`, `link`, `contact`, `note`) have their schema in
//! `daemon/schemas/<doctype>.json`; the `x-foyer-indexes` key lists their
//! indexed fields. Other doctypes exist once registered (by an app, or the
//! owner through `PUT /api/doctypes/{doctype}`), with an optional schema.
//! Writing to an unregistered doctype is refused, so a typo never silently
//! creates a new collection.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::VaultError;
use super::db::Db;

/// The schema files of the built-in doctypes, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "bank.account",
        include_str!("../../schemas/bank.account.json"),
    ),
    (
        "bank.operation",
        include_str!("../../schemas/bank.operation.json"),
    ),
    ("bill", include_str!("../../schemas/bill.json")),
    (
        "energy.reading",
        include_str!("../../schemas/energy.reading.json"),
    ),
    ("link", include_str!("../../schemas/link.json")),
    ("contact", include_str!("../../schemas/contact.json")),
    ("note", include_str!("../../schemas/note.json")),
];

/// One document type.
pub struct Doctype {
    pub name: String,
    pub builtin: bool,
    pub schema: Option<Value>,
    validator: Option<jsonschema::Validator>,
    /// Fields with an index, in declaration order.
    pub indexes: Vec<String>,
}

impl Doctype {
    fn new(
        name: &str,
        builtin: bool,
        schema: Option<Value>,
        mut indexes: Vec<String>,
    ) -> Result<Doctype, VaultError> {
        let validator = match &schema {
            Some(s) => Some(
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(s)
                    .map_err(|e| VaultError::Invalid {
                        field: Some("schema".into()),
                        message: format!("the JSON Schema of {name} is invalid: {e}"),
                    })?,
            ),
            None => None,
        };
        if let Some(extra) = schema.as_ref().and_then(|s| s.get("x-foyer-indexes")) {
            let declared: Vec<String> =
                serde_json::from_value(extra.clone()).map_err(|_| VaultError::Invalid {
                    field: Some("x-foyer-indexes".into()),
                    message: "x-foyer-indexes must be a list of field names".into(),
                })?;
            for f in declared {
                if !indexes.contains(&f) {
                    indexes.push(f);
                }
            }
        }
        for f in &indexes {
            check_field_path(f)?;
        }
        Ok(Doctype {
            name: name.to_owned(),
            builtin,
            schema,
            validator,
            indexes,
        })
    }

    /// Checks a document's fields against the schema. The error names the
    /// first offending field (a dotted path) when there is one.
    pub fn validate(&self, body: &Value) -> Result<(), VaultError> {
        if !body.is_object() {
            return Err(VaultError::Invalid {
                field: None,
                message: "a document must be a JSON object".into(),
            });
        }
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        if let Some(err) = validator.iter_errors(body).next() {
            let mut field = pointer_to_dotted(err.instance_path().as_str());
            if let jsonschema::error::ValidationErrorKind::Required { property } = err.kind() {
                let prop = property
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| property.to_string());
                field = Some(match field {
                    Some(parent) => format!("{parent}.{prop}"),
                    None => prop,
                });
            }
            let message = match &field {
                Some(f) => format!("{f}: {err}"),
                None => err.to_string(),
            };
            return Err(VaultError::Invalid { field, message });
        }
        Ok(())
    }
}

fn pointer_to_dotted(pointer: &str) -> Option<String> {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let joined = parts.join(".");
    (!joined.is_empty()).then_some(joined)
}

/// Whether `name` is a well-formed doctype name: lowercase dotted words.
pub fn check_doctype_name(name: &str) -> Result<(), VaultError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.as_bytes()[0].is_ascii_lowercase()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(VaultError::bad_request(
            "invalid_doctype",
            format!("{name:?} is not a doctype name (lowercase dotted words, e.g. bank.operation)"),
        ))
    }
}

/// Whether `field` is a dotted path of identifiers (`amount`, `address.city`).
pub fn check_field_path(field: &str) -> Result<(), VaultError> {
    let ok = !field.is_empty()
        && field.len() <= 128
        && field.split('.').all(|seg| {
            !seg.is_empty()
                && (seg.as_bytes()[0].is_ascii_alphabetic() || seg.as_bytes()[0] == b'_')
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(VaultError::bad_request(
            "invalid_field",
            format!("{field:?} is not a field path (identifiers separated by dots)"),
        ))
    }
}

/// The SQL expression that extracts `field` from a document body. `field`
/// must have passed [`check_field_path`], which makes it safe to inline;
/// index and query use this one function so that SQLite sees the same text.
pub fn field_expr(field: &str) -> String {
    format!("json_extract(body, '$.{field}')")
}

fn index_name(field: &str) -> String {
    format!("docs_ix_{}", field.replace('.', "__"))
}

/// The registry of doctypes of a vault.
pub struct Doctypes {
    map: RwLock<BTreeMap<String, Arc<Doctype>>>,
}

impl Doctypes {
    /// Loads built-in and registered doctypes and makes sure every declared
    /// index exists in the database.
    pub async fn load(db: &Arc<Db>) -> Result<Doctypes, VaultError> {
        let mut map = BTreeMap::new();
        for (name, text) in BUILTIN {
            let schema: Value = serde_json::from_str(text)
                .map_err(|e| VaultError::Internal(format!("built-in schema {name}: {e}")))?;
            map.insert(
                (*name).to_owned(),
                Arc::new(Doctype::new(name, true, Some(schema), vec![])?),
            );
        }
        let rows: Vec<(String, Option<String>, String)> = db
            .read(|c| {
                let mut st = c.prepare("SELECT name, schema, indexes FROM doctypes")?;
                let rows = st
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        for (name, schema, indexes) in rows {
            let schema = schema
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| VaultError::Corrupt(format!("schema of {name}: {e}")))?;
            let indexes: Vec<String> = serde_json::from_str(&indexes)
                .map_err(|e| VaultError::Corrupt(format!("indexes of {name}: {e}")))?;
            map.insert(
                name.clone(),
                Arc::new(Doctype::new(&name, false, schema, indexes)?),
            );
        }
        let fields: Vec<String> = map.values().flat_map(|d| d.indexes.clone()).collect();
        db.write(move |tx| {
            for f in fields {
                create_index(tx, &f)?;
            }
            Ok(())
        })
        .await?;
        Ok(Doctypes {
            map: RwLock::new(map),
        })
    }

    /// The doctype named `name`, or `unknown_doctype`.
    pub fn get(&self, name: &str) -> Result<Arc<Doctype>, VaultError> {
        check_doctype_name(name)?;
        self.map
            .read()
            .map_err(|_| VaultError::Internal("doctype registry lock poisoned".into()))?
            .get(name)
            .cloned()
            .ok_or_else(|| VaultError::UnknownDoctype(name.to_owned()))
    }

    /// All doctypes, sorted by name.
    pub fn list(&self) -> Vec<Arc<Doctype>> {
        self.map
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Registers (or updates) a custom doctype with an optional schema and indexes.
    pub async fn register(
        &self,
        db: &Arc<Db>,
        name: &str,
        schema: Option<Value>,
        indexes: Vec<String>,
    ) -> Result<Arc<Doctype>, VaultError> {
        check_doctype_name(name)?;
        if let Ok(existing) = self.get(name)
            && existing.builtin
        {
            return Err(VaultError::Conflict(format!(
                "{name} is a built-in doctype; its schema cannot be replaced"
            )));
        }
        let doctype = Arc::new(Doctype::new(name, false, schema.clone(), indexes)?);
        let row = (
            name.to_owned(),
            schema.map(|s| s.to_string()),
            serde_json::to_string(&doctype.indexes)
                .map_err(|e| VaultError::Internal(e.to_string()))?,
        );
        let fields = doctype.indexes.clone();
        db.write(move |tx| {
            tx.execute(
                "INSERT INTO doctypes(name, schema, indexes) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET schema = excluded.schema, indexes = excluded.indexes",
                rusqlite::params![row.0, row.1, row.2],
            )?;
            for f in fields {
                create_index(tx, &f)?;
            }
            Ok(())
        })
        .await?;
        self.map
            .write()
            .map_err(|_| VaultError::Internal("doctype registry lock poisoned".into()))?
            .insert(name.to_owned(), Arc::clone(&doctype));
        Ok(doctype)
    }
}

/// Creates the expression index for `field` (shared by all doctypes: the
/// doctype is the index's leading column).
fn create_index(tx: &rusqlite::Transaction<'_>, field: &str) -> Result<(), VaultError> {
    check_field_path(field)?;
    tx.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON docs(doctype, {}, id) WHERE deleted = 0",
        index_name(field),
        field_expr(field)
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schemas_compile_and_name_the_bad_field() {
        for (name, text) in BUILTIN {
            let schema: Value = serde_json::from_str(text).expect("valid JSON");
            Doctype::new(name, true, Some(schema), vec![]).expect("schema compiles");
        }
        let op: Value = serde_json::from_str(BUILTIN[1].1).expect("json");
        let d = Doctype::new("bank.operation", true, Some(op), vec![]).expect("compiles");
        let good = serde_json::json!({"account":"a","date":"2026-01-05","amount":-12.5,"currency":"EUR","label":"PRLV SEPA EDF"});
        d.validate(&good).expect("valid operation");
        let mut bad = good.clone();
        bad["amount"] = Value::from("12");
        match d.validate(&bad) {
            Err(VaultError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("amount")),
            other => panic!("expected invalid, got {other:?}"),
        }
        let mut missing = good.clone();
        missing.as_object_mut().expect("object").remove("date");
        match d.validate(&missing) {
            Err(VaultError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("date")),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn names_and_fields() {
        assert!(check_doctype_name("bank.operation").is_ok());
        assert!(check_doctype_name("Bank").is_err());
        assert!(check_doctype_name("bank..op").is_err());
        assert!(check_doctype_name("bank.op'; DROP").is_err());
        assert!(check_field_path("address.city").is_ok());
        assert!(check_field_path("a') OR 1").is_err());
        assert!(check_field_path("").is_err());
    }
}
