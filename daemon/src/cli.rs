//! The command line: subcommands and how each one starts.
//!
//! `serve` runs the box. Other subcommands (connectors, maintenance) will join
//! it here, re-executing the same binary.

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
        Command::Openapi => {
            let spec = crate::api::spec();
            println!("{}", serde_json::to_string_pretty(&spec)?);
            Ok(())
        }
    }
}
