//! The command line: subcommands and how each one starts.
//!
//! `serve` runs the box; `openapi`, `label` and `identity` print what others
//! need from it. Other subcommands (connectors, maintenance) will join it
//! here, re-executing the same binary.

use clap::{Parser, Subcommand};

use crate::config::{Config, ServeArgs};
use crate::system::label::{self, LabelFacts};

#[derive(Debug, Parser)]
#[command(name = "foyerd", version, about = "Foyer personal data box daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the box: HTTPS API, plain-HTTP helper page, vault.
    Serve(ServeArgs),
    /// Print the OpenAPI document of the HTTP API (JSON) to stdout.
    Openapi,
    /// Write the box's printable label (SVG): name, claim code, CA
    /// fingerprint and a QR code that opens onboarding on a phone. Needs a
    /// box that has started once and is not claimed yet.
    Label(LabelArgs),
    /// Print the device id (32 hex characters), or with --hostname the LAN
    /// host name `foyer-XXXX`, creating the identity on first use as
    /// `serve` does.
    Identity(IdentityArgs),
}

#[derive(Debug, clap::Args)]
struct IdentityArgs {
    /// Data directory (wins over the config file's). Default: ./var
    #[arg(long, env = "FOYER_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// TOML configuration file (its data_dir is used).
    #[arg(long, env = "FOYER_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Print the host name (`foyer-XXXX`, without `.local`) instead of the id.
    #[arg(long)]
    hostname: bool,
}

#[derive(Debug, clap::Args)]
struct LabelArgs {
    /// Where to write the SVG (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
    #[command(flatten)]
    serve: ServeArgs,
}

/// Parses the command line and runs the chosen subcommand to completion.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::resolve(args)?;
            crate::system::serve::run(config)
        }
        Command::Label(args) => {
            let config = Config::resolve(args.serve)?;
            let facts = LabelFacts::read(
                &config.data_dir,
                config.claim_code_file.as_deref(),
                config.listen.port(),
            )?;
            let svg = label::svg(&facts)?;
            match args.out {
                Some(path) => crate::system::fsutil::write_atomic(&path, svg.as_bytes(), 0o600)
                    .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
                None => print!("{svg}"),
            }
            Ok(())
        }
        Command::Identity(args) => {
            let config = Config::resolve(ServeArgs {
                data_dir: args.data_dir,
                config: args.config,
                ..ServeArgs::default()
            })?;
            // What `serve` does first: the data directory, then the identity.
            crate::vault::keys::create_private_dir(&config.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create data directory {}: {e}",
                    config.data_dir.display()
                )
            })?;
            let identity = crate::system::identity::Identity::load_or_create(&config.data_dir)
                .map_err(|e| anyhow::anyhow!("device identity: {e}"))?;
            if args.hostname {
                println!("{}", identity.hostname());
            } else {
                println!("{}", identity.id);
            }
            Ok(())
        }
        Command::Openapi => {
            let spec = crate::api::spec();
            println!("{}", serde_json::to_string_pretty(&spec)?);
            Ok(())
        }
    }
}
