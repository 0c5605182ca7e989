//! Foyer's daemon, `foyerd`: the household's data vault on a small box.
//!
//! The major components, each in the module named after what it owns:
//!
//! - [`config`]: the command line, `FOYER_*` environment variables and the TOML file.
//! - [`vault`]: the encrypted store — keys, documents (with revisions, queries and
//!   the change feed) and files (encrypted blobs in folders).
//! - [`auth`]: the claim code, the owner's passphrase, sessions and API tokens.
//! - [`net`]: the box's own certificate authority and its HTTPS configuration.
//! - [`api`]: the HTTP routes, one file per resource family; thin over the modules above.
//! - [`system`]: device identity, signals and shutdown, the `serve` entry point.
//!
//! Data flows one way: clients → api → auth (who is asking) → vault.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod net;
pub mod system;
pub mod vault;
