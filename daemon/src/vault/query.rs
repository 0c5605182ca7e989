//! Mango-style selectors: parsing, matching a document, and planning which
//! index narrows the scan.
//!
//! Supported: implicit equality (`{"vendor": "EDF"}`), `$eq $ne $gt $gte $lt
//! $lte $in $exists` on a field (dotted paths reach into objects; `_id` is the
//! document id), and `$and` / `$or` over selectors.
//!
//! Comparison semantics are type-bracketed, like MongoDB's: `$gt`, `$lt`, …
//! only compare numbers with numbers, strings with strings (by code point),
//! booleans with booleans; `{"amount": {"$gt": 10}}` never matches `"11"`.
//! `$ne` also matches documents that lack the field.
//!
//! The planner only chooses *candidates*: SQL narrows the rows with an index
//! range on one field, then [`Selector::matches`] decides on each row. That
//! split keeps the SQL simple and the semantics in one place.

use std::cmp::Ordering;

use rusqlite::types::Value as Sql;
use serde_json::Value;

use super::VaultError;
use super::doctypes::check_field_path;

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    And(Vec<Selector>),
    Or(Vec<Selector>),
    Field { path: String, cond: Cond },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Exists(bool),
    All(Vec<Cond>),
}

fn invalid(message: impl Into<String>) -> VaultError {
    VaultError::bad_request("invalid_selector", message)
}

/// Maximum nesting of `$and`/`$or`, against stack exhaustion.
const MAX_DEPTH: usize = 32;

impl Selector {
    /// Parses a selector object.
    pub fn parse(value: &Value) -> Result<Selector, VaultError> {
        parse_selector(value, 0)
    }

    /// Whether the document (`id` and its fields) matches.
    pub fn matches(&self, id: &str, body: &Value) -> bool {
        match self {
            Selector::And(all) => all.iter().all(|s| s.matches(id, body)),
            Selector::Or(any) => any.iter().any(|s| s.matches(id, body)),
            Selector::Field { path, cond } => {
                let id_value;
                let field = if path == "_id" {
                    id_value = Value::String(id.to_owned());
                    Some(&id_value)
                } else {
                    lookup(body, path)
                };
                cond.matches(field)
            }
        }
    }

    /// The top-level conjuncts: what every match must satisfy.
    fn conjuncts(&self) -> Vec<&Selector> {
        match self {
            Selector::And(all) => all.iter().flat_map(|s| s.conjuncts()).collect(),
            other => vec![other],
        }
    }
}

fn parse_selector(value: &Value, depth: usize) -> Result<Selector, VaultError> {
    if depth > MAX_DEPTH {
        return Err(invalid("selector is nested too deeply"));
    }
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("a selector must be a JSON object"))?;
    let mut parts = Vec::new();
    for (key, v) in obj {
        match key.as_str() {
            "$and" | "$or" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| invalid(format!("{key} takes an array of selectors")))?;
                let subs = items
                    .iter()
                    .map(|i| parse_selector(i, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                parts.push(if key == "$and" {
                    Selector::And(subs)
                } else {
                    Selector::Or(subs)
                });
            }
            k if k.starts_with('$') => {
                return Err(invalid(format!(
                    "unknown operator {k} at the top of a selector"
                )));
            }
            field => {
                if field != "_id" {
                    check_field_path(field)
                        .map_err(|_| invalid(format!("{field:?} is not a field path")))?;
                }
                parts.push(Selector::Field {
                    path: field.to_owned(),
                    cond: parse_cond(v)?,
                });
            }
        }
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Selector::And(parts)
    })
}

fn parse_cond(value: &Value) -> Result<Cond, VaultError> {
    let Some(obj) = value.as_object() else {
        return Ok(Cond::Eq(value.clone()));
    };
    if obj.is_empty() || !obj.keys().all(|k| k.starts_with('$')) {
        if obj.keys().any(|k| k.starts_with('$')) {
            return Err(invalid(
                "operators and plain fields cannot be mixed in one condition",
            ));
        }
        return Ok(Cond::Eq(value.clone()));
    }
    let mut conds = Vec::new();
    for (op, v) in obj {
        conds.push(match op.as_str() {
            "$eq" => Cond::Eq(v.clone()),
            "$ne" => Cond::Ne(v.clone()),
            "$gt" => Cond::Gt(scalar(op, v)?),
            "$gte" => Cond::Gte(scalar(op, v)?),
            "$lt" => Cond::Lt(scalar(op, v)?),
            "$lte" => Cond::Lte(scalar(op, v)?),
            "$in" => Cond::In(
                v.as_array()
                    .ok_or_else(|| invalid("$in takes an array"))?
                    .clone(),
            ),
            "$exists" => Cond::Exists(
                v.as_bool()
                    .ok_or_else(|| invalid("$exists takes true or false"))?,
            ),
            other => return Err(invalid(format!("unknown operator {other}"))),
        });
    }
    Ok(if conds.len() == 1 {
        conds.remove(0)
    } else {
        Cond::All(conds)
    })
}

fn scalar(op: &str, v: &Value) -> Result<Value, VaultError> {
    match v {
        Value::Number(_) | Value::String(_) | Value::Bool(_) => Ok(v.clone()),
        _ => Err(invalid(format!(
            "{op} compares with a number, a string or a boolean"
        ))),
    }
}

/// The value at a dotted path, if present.
pub fn lookup<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(body, |v, seg| v.as_object()?.get(seg))
}

/// Equality of JSON values where numbers compare by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Order within one type bracket; `None` across types.
fn json_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Cond {
    fn matches(&self, field: Option<&Value>) -> bool {
        let cmp = |v: &Value, ok: fn(Ordering) -> bool| {
            field.and_then(|f| json_cmp(f, v)).is_some_and(ok)
        };
        match self {
            Cond::Eq(v) => field.is_some_and(|f| json_eq(f, v)),
            Cond::Ne(v) => !field.is_some_and(|f| json_eq(f, v)),
            Cond::Gt(v) => cmp(v, |o| o == Ordering::Greater),
            Cond::Gte(v) => cmp(v, |o| o != Ordering::Less),
            Cond::Lt(v) => cmp(v, |o| o == Ordering::Less),
            Cond::Lte(v) => cmp(v, |o| o != Ordering::Greater),
            Cond::In(vs) => field.is_some_and(|f| vs.iter().any(|v| json_eq(f, v))),
            Cond::Exists(want) => field.is_some() == *want,
            Cond::All(cs) => cs.iter().all(|c| c.matches(field)),
        }
    }
}

/// The SQL value that `json_extract` yields for a JSON scalar, if any.
pub fn to_sql(v: &Value) -> Option<Sql> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(Sql::Integer)
            .or_else(|| n.as_f64().map(Sql::Real)),
        Value::String(s) => Some(Sql::Text(s.clone())),
        Value::Bool(b) => Some(Sql::Integer(i64::from(*b))),
        _ => None,
    }
}

/// One end of an index range.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub value: Sql,
    pub inclusive: bool,
}

/// How to read candidates for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The indexed field whose order the scan follows; `None`: by `_id`.
    pub field: Option<String>,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    /// `IN (…)` values on the field, when the selector has `$in` or `$eq`s.
    pub any_of: Option<Vec<Sql>>,
    pub descending: bool,
}

/// Sort order requested by the client: one field (or `_id`), asc or desc.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub field: String,
    pub descending: bool,
}

/// Parses Mango's `sort`: `["date"]`, `[{"date": "desc"}]`. One field.
pub fn parse_sort(value: Option<&Value>) -> Result<Option<Sort>, VaultError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let items = value
        .as_array()
        .ok_or_else(|| VaultError::bad_request("invalid_sort", "sort is an array"))?;
    match items.as_slice() {
        [] => Ok(None),
        [Value::String(f)] => Ok(Some(Sort {
            field: f.clone(),
            descending: false,
        })),
        [Value::Object(o)] if o.len() == 1 => {
            let (f, dir) = o
                .iter()
                .next()
                .ok_or_else(|| VaultError::bad_request("invalid_sort", "empty sort item"))?;
            let descending = match dir.as_str() {
                Some("asc") => false,
                Some("desc") => true,
                _ => {
                    return Err(VaultError::bad_request(
                        "invalid_sort",
                        format!("sort direction of {f} must be \"asc\" or \"desc\""),
                    ));
                }
            };
            Ok(Some(Sort {
                field: f.clone(),
                descending,
            }))
        }
        _ => Err(VaultError::bad_request(
            "invalid_sort",
            "sort takes exactly one field: [\"field\"] or [{\"field\": \"asc\"|\"desc\"}]",
        )),
    }
    .and_then(|s| {
        if let Some(s) = &s
            && s.field != "_id"
        {
            check_field_path(&s.field)
                .map_err(|_| VaultError::bad_request("invalid_sort", "bad sort field"))?;
        }
        Ok(s)
    })
}

/// Chooses the index (if any) for `selector` given the doctype's indexed
/// fields. A sort on a field requires that field to be indexed.
pub fn plan(
    selector: &Selector,
    sort: Option<&Sort>,
    indexed: &[String],
) -> Result<Plan, VaultError> {
    let conjuncts = selector.conjuncts();
    let bounds_for = |field: &str| -> Option<Bounds> {
        let mut found = None;
        for c in &conjuncts {
            if let Selector::Field { path, cond } = c
                && path == field
                && let Some(b) = cond_bounds(cond)
            {
                found = Some(b);
                break;
            }
        }
        found
    };
    let descending = sort.is_some_and(|s| s.descending);
    if let Some(sort) = sort {
        if sort.field != "_id" && !indexed.iter().any(|f| f == &sort.field) {
            return Err(VaultError::bad_request(
                "no_index",
                format!(
                    "sorting needs an index on {}; indexed fields: {}",
                    sort.field,
                    if indexed.is_empty() {
                        "none".to_owned()
                    } else {
                        indexed.join(", ")
                    }
                ),
            ));
        }
        let field = (sort.field != "_id").then(|| sort.field.clone());
        let (lower, upper, any_of) = bounds_for(&sort.field).unwrap_or((None, None, None));
        return Ok(Plan {
            field,
            lower,
            upper,
            any_of,
            descending,
        });
    }
    for c in &conjuncts {
        if let Selector::Field { path, cond } = c
            && (path == "_id" || indexed.iter().any(|f| f == path))
            && let Some((lower, upper, any_of)) = cond_bounds(cond)
        {
            return Ok(Plan {
                field: (path != "_id").then(|| path.clone()),
                lower,
                upper,
                any_of,
                descending,
            });
        }
    }
    Ok(Plan {
        field: None,
        lower: None,
        upper: None,
        any_of: None,
        descending,
    })
}

type Bounds = (Option<Bound>, Option<Bound>, Option<Vec<Sql>>);

/// The index range that contains every value satisfying `cond`, if the
/// condition can use an index at all.
fn cond_bounds(cond: &Cond) -> Option<Bounds> {
    // SQLite orders NULL < numbers < text < blob. The bracket of a bound's
    // type closes the other side: numbers stay below '' (the least text),
    // text stays at or above ''.
    let bracket_upper = |v: &Sql| match v {
        Sql::Integer(_) | Sql::Real(_) => Some(Bound {
            value: Sql::Text(String::new()),
            inclusive: false,
        }),
        _ => None,
    };
    let bracket_lower = |v: &Sql| match v {
        Sql::Text(_) => Some(Bound {
            value: Sql::Text(String::new()),
            inclusive: true,
        }),
        // Numbers: the scan already skips NULL (documents without the field).
        _ => None,
    };
    match cond {
        Cond::Eq(v) => {
            let s = to_sql(v)?;
            Some((
                Some(Bound {
                    value: s.clone(),
                    inclusive: true,
                }),
                Some(Bound {
                    value: s,
                    inclusive: true,
                }),
                None,
            ))
        }
        Cond::In(vs) => {
            let all: Option<Vec<Sql>> = vs.iter().map(to_sql).collect();
            all.filter(|a| !a.is_empty()).map(|a| (None, None, Some(a)))
        }
        Cond::Gt(v) | Cond::Gte(v) => {
            if v.is_boolean() {
                return None;
            }
            let s = to_sql(v)?;
            let upper = bracket_upper(&s);
            Some((
                Some(Bound {
                    value: s,
                    inclusive: matches!(cond, Cond::Gte(_)),
                }),
                upper,
                None,
            ))
        }
        Cond::Lt(v) | Cond::Lte(v) => {
            if v.is_boolean() {
                return None;
            }
            let s = to_sql(v)?;
            let lower = bracket_lower(&s);
            Some((
                lower,
                Some(Bound {
                    value: s,
                    inclusive: matches!(cond, Cond::Lte(_)),
                }),
                None,
            ))
        }
        Cond::All(cs) => {
            // Intersect what each part allows: keep the first lower and upper
            // found (a superset is always correct; the matcher decides).
            let mut lower = None;
            let mut upper = None;
            let mut any_of = None;
            for c in cs {
                if let Some((l, u, a)) = cond_bounds(c) {
                    lower = lower.or(l);
                    upper = upper.or(u);
                    any_of = any_of.or(a);
                }
            }
            (lower.is_some() || upper.is_some() || any_of.is_some())
                .then_some((lower, upper, any_of))
        }
        Cond::Ne(_) | Cond::Exists(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(v: Value) -> Selector {
        Selector::parse(&v).expect("valid selector")
    }

    #[test]
    fn operators_match_like_mango() {
        let doc = json!({"amount": -42.5, "vendor": "EDF", "tags": ["a"], "addr": {"city": "Lyon"}, "paid": true});
        let m = |s: Value| sel(s).matches("id1", &doc);
        assert!(m(json!({"vendor": "EDF"})));
        assert!(m(json!({"amount": {"$lt": 0, "$gte": -42.5}})));
        assert!(!m(json!({"amount": {"$gt": -42.5}})));
        assert!(m(json!({"vendor": {"$in": ["ENGIE", "EDF"]}})));
        assert!(m(json!({"addr.city": "Lyon"})));
        assert!(m(json!({"missing": {"$exists": false}})));
        assert!(m(json!({"missing": {"$ne": 3}})));
        assert!(!m(json!({"vendor": {"$ne": "EDF"}})));
        assert!(m(json!({"$or": [{"vendor": "X"}, {"paid": true}]})));
        assert!(m(json!({"$and": [{"vendor": "EDF"}, {"_id": "id1"}]})));
        assert!(
            !m(json!({"amount": {"$gt": "a"}})),
            "no comparison across types"
        );
        assert!(m(json!({"tags": ["a"]})));
        assert!(m(json!({})));
    }

    #[test]
    fn malformed_selectors_are_refused() {
        for bad in [
            json!([1]),
            json!({"$nor": []}),
            json!({"a": {"$regex": "x"}}),
            json!({"a": {"$in": 3}}),
            json!({"a": {"$gt": [1]}}),
            json!({"a'); DROP": 1}),
            json!({"a": {"$eq": 1, "b": 2}}),
        ] {
            assert!(Selector::parse(&bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn planner_uses_an_index_when_one_applies() {
        let indexed = vec!["date".to_owned(), "amount".to_owned()];
        let p = plan(
            &sel(json!({"label": "x", "date": {"$gte": "2026-01-01"}})),
            None,
            &indexed,
        )
        .expect("plan");
        assert_eq!(p.field.as_deref(), Some("date"));
        assert_eq!(
            p.lower.map(|b| b.value),
            Some(Sql::Text("2026-01-01".into()))
        );
        let p = plan(&sel(json!({"label": "x"})), None, &indexed).expect("plan");
        assert_eq!(p.field, None);
        let sort = Sort {
            field: "label".into(),
            descending: false,
        };
        assert!(plan(&sel(json!({})), Some(&sort), &indexed).is_err());
        let sort = Sort {
            field: "amount".into(),
            descending: true,
        };
        let p = plan(&sel(json!({"amount": {"$gt": 10}})), Some(&sort), &indexed).expect("plan");
        assert_eq!(p.upper.map(|b| b.value), Some(Sql::Text(String::new())));
        assert!(p.descending);
    }
}
