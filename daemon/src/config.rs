//! Configuration of `foyerd serve`: command line, `FOYER_*` environment
//! variables and an optional TOML file, merged in that order of precedence
//! (command line wins, then environment, then file, then defaults).
//!
//! Secrets never come through here: a provisioned claim code is read from a
//! file whose *path* is configured, never from argv or the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use board::BoardChoice;
use clap::Args;
use serde::Deserialize;

/// A configuration that cannot be used; `foyerd` exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Options of `foyerd serve` as given on the command line or in the environment.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Data directory (vault, keys, certificates). Default: ./var
    #[arg(long, env = "FOYER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTPS listen address. Default: 0.0.0.0:8443
    #[arg(long, env = "FOYER_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Plain-HTTP listen address (redirects to HTTPS, serves the CA). Default: 0.0.0.0:8080
    #[arg(long, env = "FOYER_HTTP_LISTEN", value_name = "ADDR:PORT")]
    pub http_listen: Option<SocketAddr>,
    /// Do not announce the box on the LAN with mDNS/DNS-SD.
    #[arg(long, env = "FOYER_NO_MDNS")]
    pub no_mdns: bool,
    /// Network interfaces to announce on, comma-separated (default: every
    /// interface but loopback).
    #[arg(
        long,
        env = "FOYER_MDNS_INTERFACES",
        value_name = "IF,IF",
        value_delimiter = ','
    )]
    pub mdns_interfaces: Option<Vec<String>>,
    /// TOML configuration file.
    #[arg(long, env = "FOYER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File holding a claim code provisioned at the factory (one line).
    #[arg(long, env = "FOYER_CLAIM_CODE_FILE", value_name = "FILE")]
    pub claim_code_file: Option<PathBuf>,
    /// Uploads are refused (507) when they would leave less free disk than this.
    #[arg(long, env = "FOYER_MIN_FREE_BYTES", value_name = "BYTES")]
    pub min_free_bytes: Option<u64>,
    /// Maximum total size of stored files, in bytes (no quota by default).
    #[arg(long, env = "FOYER_FILES_QUOTA_BYTES", value_name = "BYTES")]
    pub files_quota_bytes: Option<u64>,
    /// Log format: `text` (default) or `json`.
    #[arg(long, env = "FOYER_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Write the console text (name, addresses, CA fingerprint, claim code
    /// while unclaimed) to this file, for agetty's /etc/issue.d.
    #[arg(long, env = "FOYER_CONSOLE_ISSUE", value_name = "FILE")]
    pub console_issue: Option<PathBuf>,
    /// Which hardware this is: `auto` (default: Raspberry Pi if the device
    /// tree says so, else PC), `rpi`, `pc` or `sim` (tests).
    #[arg(long, env = "FOYER_BOARD", value_name = "auto|rpi|pc|sim")]
    pub board: Option<BoardChoice>,
    /// Directory the board's system files (sysfs, procfs, device tree) are
    /// read under. Default: /
    #[arg(long, env = "FOYER_BOARD_ROOT", value_name = "DIR")]
    pub board_root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The same options, as written in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    no_mdns: Option<bool>,
    mdns_interfaces: Option<Vec<String>>,
    claim_code_file: Option<PathBuf>,
    min_free_bytes: Option<u64>,
    files_quota_bytes: Option<u64>,
    log_format: Option<LogFormat>,
    console_issue: Option<PathBuf>,
    board: Option<BoardChoice>,
    board_root: Option<PathBuf>,
}

/// The effective configuration of a running box.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub mdns: bool,
    /// Empty: every interface but loopback.
    pub mdns_interfaces: Vec<String>,
    pub claim_code_file: Option<PathBuf>,
    pub min_free_bytes: u64,
    pub files_quota_bytes: Option<u64>,
    pub log_format: LogFormat,
    /// Where the console text goes (none: not written).
    pub console_issue: Option<PathBuf>,
    /// Which hardware implementation to use.
    pub board: BoardChoice,
    /// Where the board's system files are read (`/` in production).
    pub board_root: PathBuf,
}

pub const DEFAULT_LISTEN: &str = "0.0.0.0:8443";
pub const DEFAULT_HTTP_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

impl Config {
    /// Merges the command line/environment with the config file and the defaults.
    pub fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let default_addr = |s: &str| -> SocketAddr {
            // Constant literals; parsing them cannot fail.
            s.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
        };
        let config = Config {
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./var")),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| default_addr(DEFAULT_LISTEN)),
            http_listen: args
                .http_listen
                .or(file.http_listen)
                .unwrap_or_else(|| default_addr(DEFAULT_HTTP_LISTEN)),
            mdns: !(args.no_mdns || file.no_mdns.unwrap_or(false)),
            mdns_interfaces: args
                .mdns_interfaces
                .or(file.mdns_interfaces)
                .unwrap_or_default()
                .into_iter()
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty())
                .collect(),
            claim_code_file: args.claim_code_file.or(file.claim_code_file),
            min_free_bytes: args
                .min_free_bytes
                .or(file.min_free_bytes)
                .unwrap_or(DEFAULT_MIN_FREE_BYTES),
            files_quota_bytes: args.files_quota_bytes.or(file.files_quota_bytes),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            console_issue: args.console_issue.or(file.console_issue),
            board: args.board.or(file.board).unwrap_or_default(),
            board_root: args
                .board_root
                .or(file.board_root)
                .unwrap_or_else(|| PathBuf::from("/")),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Invalid("data_dir is empty".into()));
        }
        if self.listen == self.http_listen && self.listen.port() != 0 {
            return Err(ConfigError::Invalid(format!(
                "listen and http_listen are the same address ({})",
                self.listen
            )));
        }
        if let Some(path) = &self.console_issue
            && (path.as_os_str().is_empty() || path.file_name().is_none())
        {
            return Err(ConfigError::Invalid(format!(
                "console_issue {} is not a file path",
                path.display()
            )));
        }
        if self.board_root.as_os_str().is_empty() {
            return Err(ConfigError::Invalid("board_root is empty".into()));
        }
        if let Some(path) = &self.claim_code_file
            && !path.is_file()
        {
            return Err(ConfigError::Invalid(format!(
                "claim_code_file {} is not a readable file",
                path.display()
            )));
        }
        Ok(())
    }
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::resolve(ServeArgs::default()).expect("defaults are valid");
        assert_eq!(c.data_dir, PathBuf::from("./var"));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert!(c.mdns);
    }

    #[test]
    fn command_line_beats_file_and_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("foyer-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("foyer.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9443\"\nhttp_listen = \"127.0.0.1:9080\"\nno_mdns = true\n",
        )
        .expect("write config");
        let args = ServeArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:7443".parse().expect("addr")),
            ..ServeArgs::default()
        };
        let c = Config::resolve(args).expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:7443");
        assert_eq!(c.http_listen.to_string(), "127.0.0.1:9080");
        assert!(!c.mdns);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_console_issue_file_comes_from_the_file_or_the_command_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("foyer.toml");
        std::fs::write(&file, "console_issue = \"/run/foyer/issue\"\n").expect("write config");
        let from_file = Config::resolve(ServeArgs {
            config: Some(file.clone()),
            ..ServeArgs::default()
        })
        .expect("valid");
        assert_eq!(
            from_file.console_issue.as_deref(),
            Some(Path::new("/run/foyer/issue"))
        );
        let from_args = Config::resolve(ServeArgs {
            config: Some(file),
            console_issue: Some(PathBuf::from("issue")),
            ..ServeArgs::default()
        })
        .expect("valid");
        assert_eq!(from_args.console_issue.as_deref(), Some(Path::new("issue")));
        assert!(
            Config::resolve(ServeArgs::default())
                .expect("defaults")
                .console_issue
                .is_none()
        );
        let err = Config::resolve(ServeArgs {
            console_issue: Some(PathBuf::from("/run/foyer/..")),
            ..ServeArgs::default()
        })
        .expect_err("not a file");
        assert!(err.to_string().contains("console_issue"), "{err}");
    }

    #[test]
    fn the_board_comes_from_the_file_or_the_command_line() {
        let defaults = Config::resolve(ServeArgs::default()).expect("defaults");
        assert_eq!(defaults.board, BoardChoice::Auto);
        assert_eq!(defaults.board_root, PathBuf::from("/"));
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("foyer.toml");
        std::fs::write(&file, "board = \"sim\"\nboard_root = \"/tmp/fake\"\n")
            .expect("write config");
        let from_file = Config::resolve(ServeArgs {
            config: Some(file.clone()),
            ..ServeArgs::default()
        })
        .expect("valid");
        assert_eq!(from_file.board, BoardChoice::Simulated);
        assert_eq!(from_file.board_root, PathBuf::from("/tmp/fake"));
        let from_args = Config::resolve(ServeArgs {
            config: Some(file),
            board: Some(BoardChoice::Pc),
            ..ServeArgs::default()
        })
        .expect("valid");
        assert_eq!(from_args.board, BoardChoice::Pc);
        assert_eq!(from_args.board_root, PathBuf::from("/tmp/fake"));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "board = \"mainframe\"\n").expect("write config");
        let err = Config::resolve(ServeArgs {
            config: Some(bad),
            ..ServeArgs::default()
        })
        .expect_err("unknown board");
        assert!(err.to_string().contains("mainframe"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("foyer-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("foyer.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9443\"\n").expect("write config");
        let args = ServeArgs {
            config: Some(file),
            ..ServeArgs::default()
        };
        let err = Config::resolve(args).expect_err("typo must be refused");
        assert!(err.to_string().contains("lisen"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
