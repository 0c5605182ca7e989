//! `foyerd`: the one long-running program of a Foyer box.
//!
//! Everything lives in the library crate; this file only turns its outcome
//! into the process exit code (0 on a clean shutdown, 2 on bad configuration,
//! 1 on any other failure), with a one-line reason on stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    match foyerd::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = if err.is::<foyerd::config::ConfigError>() {
                2
            } else {
                1
            };
            // One line: the chain of causes, outermost first.
            let reason = err
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("foyerd: error: {reason}");
            ExitCode::from(code)
        }
    }
}
