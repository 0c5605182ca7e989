//! What a caller may do: the owner may do everything; an API token only what
//! its scopes grant.
//!
//! Scope strings: `owner` (everything, including token management),
//! `docs:read`, `docs:write` (all doctypes) or `docs:read:<doctype>`,
//! `docs:write:<doctype>` (one doctype), `files:read`, `files:write`.
//! Writing does not imply reading.

use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::vault::doctypes::check_doctype_name;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    Owner,
    DocsRead(Option<String>),
    DocsWrite(Option<String>),
    FilesRead,
    FilesWrite,
}

impl TryFrom<String> for Scope {
    type Error = AuthError;
    fn try_from(s: String) -> Result<Scope, AuthError> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.to_string()
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Owner => write!(f, "owner"),
            Scope::DocsRead(None) => write!(f, "docs:read"),
            Scope::DocsRead(Some(d)) => write!(f, "docs:read:{d}"),
            Scope::DocsWrite(None) => write!(f, "docs:write"),
            Scope::DocsWrite(Some(d)) => write!(f, "docs:write:{d}"),
            Scope::FilesRead => write!(f, "files:read"),
            Scope::FilesWrite => write!(f, "files:write"),
        }
    }
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, AuthError> {
        let bad = || {
            AuthError::InvalidScope(format!(
                "{s:?} is not a scope (owner, docs:read[:doctype], docs:write[:doctype], files:read, files:write)"
            ))
        };
        let doctype = |d: &str| -> Result<Option<String>, AuthError> {
            check_doctype_name(d).map_err(|_| bad())?;
            Ok(Some(d.to_owned()))
        };
        match s.split(':').collect::<Vec<_>>().as_slice() {
            ["owner"] => Ok(Scope::Owner),
            ["docs", "read"] => Ok(Scope::DocsRead(None)),
            ["docs", "write"] => Ok(Scope::DocsWrite(None)),
            ["docs", "read", d] => Ok(Scope::DocsRead(doctype(d)?)),
            ["docs", "write", d] => Ok(Scope::DocsWrite(doctype(d)?)),
            ["files", "read"] => Ok(Scope::FilesRead),
            ["files", "write"] => Ok(Scope::FilesWrite),
            _ => Err(bad()),
        }
    }
}

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    Owner,
    DocsRead(&'a str),
    DocsWrite(&'a str),
    /// The change feed: any docs:read scope (results are filtered).
    Changes,
    FilesRead,
    FilesWrite,
}

impl std::fmt::Display for Need<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Need::Owner => write!(f, "owner"),
            Need::DocsRead(d) => write!(f, "docs:read:{d}"),
            Need::DocsWrite(d) => write!(f, "docs:write:{d}"),
            Need::Changes => write!(f, "docs:read"),
            Need::FilesRead => write!(f, "files:read"),
            Need::FilesWrite => write!(f, "files:write"),
        }
    }
}

/// Whether `scopes` grant `need`.
pub fn allows(scopes: &[Scope], need: Need<'_>) -> bool {
    scopes.iter().any(|s| match (s, need) {
        (Scope::Owner, _) => true,
        (Scope::DocsRead(None), Need::DocsRead(_) | Need::Changes) => true,
        (Scope::DocsRead(Some(d)), Need::DocsRead(n)) => d == n,
        (Scope::DocsRead(Some(_)), Need::Changes) => true,
        (Scope::DocsWrite(None), Need::DocsWrite(_)) => true,
        (Scope::DocsWrite(Some(d)), Need::DocsWrite(n)) => d == n,
        (Scope::FilesRead, Need::FilesRead) => true,
        (Scope::FilesWrite, Need::FilesWrite) => true,
        _ => false,
    })
}

/// The doctypes whose changes `scopes` may see; `None` means all.
pub fn readable_doctypes(scopes: &[Scope]) -> Option<Vec<String>> {
    if scopes
        .iter()
        .any(|s| matches!(s, Scope::Owner | Scope::DocsRead(None)))
    {
        return None;
    }
    Some(
        scopes
            .iter()
            .filter_map(|s| match s {
                Scope::DocsRead(Some(d)) => Some(d.clone()),
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_check() {
        let s: Vec<Scope> = ["docs:read:bill", "files:write"]
            .iter()
            .map(|s| Scope::parse(s).expect("valid"))
            .collect();
        assert!(allows(&s, Need::DocsRead("bill")));
        assert!(!allows(&s, Need::DocsRead("bank.operation")));
        assert!(!allows(&s, Need::DocsWrite("bill")));
        assert!(allows(&s, Need::FilesWrite));
        assert!(!allows(&s, Need::FilesRead));
        assert!(!allows(&s, Need::Owner));
        assert_eq!(readable_doctypes(&s), Some(vec!["bill".to_owned()]));
        assert!(Scope::parse("docs:delete").is_err());
        assert!(Scope::parse("docs:read:BAD").is_err());
        assert_eq!(
            Scope::parse("docs:write:bank.operation")
                .expect("ok")
                .to_string(),
            "docs:write:bank.operation"
        );
    }
}
