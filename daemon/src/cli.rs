//! The command line: subcommands and how each one starts.
//!
//! `serve` runs the box. Other subcommands (connectors, maintenance) will join
//! it here, re-executing the same binary.

use clap::{Parser, Subcommand};

use crate::config::{Config, ServeArgs};

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
}

/// Parses the command line and runs the chosen subcommand to completion.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::resolve(args)?;
            crate::system::serve::run(config)
        }
        Command::Openapi => {
            let spec = crate::api::spec();
            println!("{}", serde_json::to_string_pretty(&spec)?);
            Ok(())
        }
    }
}
