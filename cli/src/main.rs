//! `photopipe`: the operator's and the local pipeline's command line.

mod thumbnail;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "photopipe",
    version,
    about = "Photo thumbnail pipeline: local runner and operator tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a thumbnail of each input file.
    Thumbnail(thumbnail::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Thumbnail(args) => thumbnail::run(args),
    }
}
