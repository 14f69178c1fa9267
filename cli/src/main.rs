//! `photopipe`: the operator's and the local pipeline's command line.

mod commands;
mod data_api;
mod executions;
mod local;
mod metrics;
mod pipeline;
mod report;
mod reprocess;
mod serve;
mod settings;
mod steps;
mod thumbnail;

use clap::{Parser, Subcommand};
use settings::LocalArgs;
use std::path::PathBuf;
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
    /// Make a thumbnail of each input file (the engine alone, no pipeline).
    Thumbnail(thumbnail::Args),
    /// Run the local pipeline as a server: uploads, the gallery website, the catalog API.
    Serve {
        #[command(flatten)]
        local: LocalArgs,
        /// Address to listen on.
        #[arg(long, env = "PHOTOPIPE_LISTEN")]
        listen: Option<String>,
    },
    /// Upload files into the local pipeline and run their executions.
    Run {
        #[command(flatten)]
        local: LocalArgs,
        /// Photos resized at once (default: one per core). Meanwhile the next upload is
        /// stored and validated and the previous one catalogued.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// One JSON outcome per file on stdout.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run every file of upload_files/ through a fresh local pipeline, then serve the gallery.
    Demo {
        /// Fresh data dir (emptied first).
        #[arg(long, default_value = "photopipe-demo")]
        data_dir: PathBuf,
        /// The sample uploads.
        #[arg(long, default_value = "upload_files")]
        uploads: PathBuf,
        #[arg(long, default_value = settings::DEFAULT_LISTEN)]
        listen: String,
        /// Stop after the executions instead of serving the website.
        #[arg(long)]
        no_serve: bool,
    },
    /// Query the File Upload Catalog.
    Catalog {
        #[command(subcommand)]
        query: commands::CatalogQuery,
    },
    /// Inspect executions, as the Step Functions console shows them.
    Executions {
        #[command(subcommand)]
        query: commands::ExecutionsQuery,
    },
    /// Run again the uploads that have no thumbnail or no catalog row.
    Reprocess(reprocess::Args),
}

/// Threads for the file system's blocking calls (and the workers that stand in while a
/// resize holds one): tokio's default of 512 let a moment of slow disk or CPU start dozens
/// more at once in `serve`, each burst of work in flight leaving the heap bigger. With 16
/// uploads in flight, 16 is enough to keep the disk busy; more calls wait their turn.
const BLOCKING_THREADS: usize = 16;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tune_malloc(matches!(
        cli.command,
        Command::Serve { .. } | Command::Demo { .. }
    ));
    if let Command::Thumbnail(args) = cli.command {
        return thumbnail::run(args);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("photopipe: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Thumbnail(_) => unreachable!("handled above"),
            Command::Serve { local, listen } => commands::serve(&local, listen).await,
            Command::Run {
                local,
                jobs,
                json,
                files,
            } => commands::run(&local, jobs.map(usize::from), json, &files).await,
            Command::Demo {
                data_dir,
                uploads,
                listen,
                no_serve,
            } => commands::demo(&data_dir, &uploads, &listen, no_serve).await,
            Command::Catalog { query } => commands::catalog(query).await,
            Command::Executions { query } => commands::executions(query),
            Command::Reprocess(args) => reprocess::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("photopipe: {message}");
            ExitCode::from(1)
        }
    }
}

/// glibc gives each thread that allocates its own heap arena (up to 8 per core); with the
/// runtime's workers and the resize threads each holding freed decode buffers, a busy server
/// would keep hundreds of megabytes it no longer uses. Two arenas keep contention low and
/// memory near what is in use.
///
/// A server (`serving`) also maps blocks of [`SERVE_MMAP_THRESHOLD`] or more on their own,
/// returned to the system when freed. glibc's threshold starts at 128 KiB but rises to the
/// largest block freed (up to 32 MiB), so every decoded photo ends up in the heap, and the
/// smaller blocks allocated between them keep the freed space from going back: 10,000-upload
/// soaks of `serve` peaked at 103–116 MiB with medians up to ~100 MiB, and at 84 MiB with
/// medians 55–61 MiB with the fixed threshold. A batch command exits instead, and keeps the
/// heap's reuse of those blocks.
fn tune_malloc(serving: bool) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        if serving {
            libc::mallopt(libc::M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = serving;
}

/// See [`tune_malloc`]. Above an upload's pieces (256 KiB), so they stay in the heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const SERVE_MMAP_THRESHOLD: libc::c_int = 1024 * 1024;
