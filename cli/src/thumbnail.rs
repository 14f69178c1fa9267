//! `photopipe thumbnail`: the engine over a batch of local files, in parallel, with one
//! result line per input (JSON lines with `--json`, a contract other tools build on).

use indicatif::{ProgressBar, ProgressStyle};
use photopipe_engine::{Limits, OutputFormat, Spec};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashSet;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// Batches at least this big get a progress bar on a terminal.
const PROGRESS_BAR_FROM: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// Longest edge of each thumbnail, in pixels (never upscaled).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=16_383))]
    max_edge: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jpeg)]
    format: Format,
    /// Encoder quality, 1–100.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Files processed at once (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Folder the thumbnails are written to (created if missing).
    #[arg(long)]
    out_dir: PathBuf,
    /// One JSON object per input on stdout.
    #[arg(long)]
    json: bool,
    /// Image files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Jpeg,
    Webp,
}

/// The outcome for one input, as printed.
enum Outcome {
    Made {
        output: PathBuf,
        width: u32,
        height: u32,
        bytes: usize,
    },
    Failed {
        kind: String,
        message: String,
    },
}

pub fn run(args: Args) -> ExitCode {
    let spec = Spec {
        max_edge: args.max_edge,
        format: match args.format {
            Format::Jpeg => OutputFormat::Jpeg,
            Format::Webp => OutputFormat::Webp,
        },
        quality: args.quality,
    };
    let limits = Limits::default();
    if let Err(e) = std::fs::create_dir_all(&args.out_dir) {
        eprintln!("photopipe: cannot create {}: {e}", args.out_dir.display());
        return ExitCode::from(1);
    }
    let outputs = output_paths(&args.inputs, &args.out_dir, spec.format);
    let jobs = args.jobs.map_or(0, usize::from);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("photopipe: cannot start worker threads: {e}");
            return ExitCode::from(1);
        }
    };
    let progress = progress_bar(args.inputs.len(), args.json);
    let stdout = Mutex::new(std::io::stdout());
    let failures = pool.install(|| {
        args.inputs
            .par_iter()
            .zip(outputs.par_iter())
            .map(|(input, output)| {
                let outcome = process(input, output, &spec, &limits);
                let line = render(input, &outcome, args.json);
                progress.suspend(|| {
                    let mut out = stdout.lock().unwrap_or_else(|e| e.into_inner());
                    // A closed stdout (`| head`) must not turn into a panic.
                    let _ = writeln!(out, "{line}");
                });
                progress.inc(1);
                usize::from(matches!(outcome, Outcome::Failed { .. }))
            })
            .sum::<usize>()
    });
    progress.finish_and_clear();
    if !args.json {
        eprintln!(
            "{} of {} thumbnails made, {failures} failed",
            args.inputs.len() - failures,
            args.inputs.len()
        );
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn process(input: &Path, output: &Path, spec: &Spec, limits: &Limits) -> Outcome {
    let failed = |kind: &str, message: String| Outcome::Failed {
        kind: kind.to_string(),
        message,
    };
    let bytes = match read_limited(input, limits.max_input_bytes) {
        Ok(bytes) => bytes,
        Err(outcome) => return outcome,
    };
    // The engine never panics on any input (it is fuzzed); this turns a bug into one failed
    // file instead of a lost batch.
    let made = std::panic::catch_unwind(|| photopipe_engine::thumbnail(&bytes, spec, limits));
    match made {
        Ok(Ok(thumbnail)) => match std::fs::write(output, &thumbnail.bytes) {
            Ok(()) => Outcome::Made {
                output: output.to_path_buf(),
                width: thumbnail.width,
                height: thumbnail.height,
                bytes: thumbnail.bytes.len(),
            },
            Err(e) => failed("io", format!("cannot write {}: {e}", output.display())),
        },
        Ok(Err(e)) => failed(e.kind.as_str(), e.message),
        Err(_) => failed(
            "internal",
            "the engine failed unexpectedly; please report this file".into(),
        ),
    }
}

/// Reads a file, refusing one over the limit before reading it.
fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Outcome> {
    let io_error = |e: std::io::Error| Outcome::Failed {
        kind: "io".into(),
        message: format!("cannot read {}: {e}", path.display()),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    // Reading one byte past the limit tells "at the limit" from "over it" without trusting
    // the size the file system reports (a pipe or a growing file has none).
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(Outcome::Failed {
            kind: photopipe_engine::ErrorKind::TooLarge.as_str().into(),
            message: format!("the file is over the limit of {max_bytes} bytes"),
        });
    }
    Ok(bytes)
}

/// One output path per input: `<stem>.<ext>`, with `-2`, `-3`… where stems collide.
fn output_paths(inputs: &[PathBuf], out_dir: &Path, format: OutputFormat) -> Vec<PathBuf> {
    let mut used = HashSet::new();
    inputs
        .iter()
        .map(|input| {
            let stem = input
                .file_stem()
                .map_or_else(|| "thumbnail".into(), |s| s.to_string_lossy().into_owned());
            let mut name = format!("{stem}.{}", format.extension());
            let mut n = 1;
            while !used.insert(name.clone()) {
                n += 1;
                name = format!("{stem}-{n}.{}", format.extension());
            }
            out_dir.join(name)
        })
        .collect()
}

fn render(input: &Path, outcome: &Outcome, as_json: bool) -> String {
    let input_text = input.display().to_string();
    match (outcome, as_json) {
        (
            Outcome::Made {
                output,
                width,
                height,
                bytes,
            },
            true,
        ) => json!({
            "input": input_text,
            "ok": true,
            "output": output.display().to_string(),
            "width": width,
            "height": height,
            "bytes": bytes,
        })
        .to_string(),
        (Outcome::Failed { kind, message }, true) => json!({
            "input": input_text,
            "ok": false,
            "error": {"kind": kind, "message": message},
        })
        .to_string(),
        (
            Outcome::Made {
                output,
                width,
                height,
                bytes,
            },
            false,
        ) => format!(
            "ok    {input_text} -> {} ({width}x{height}, {bytes} bytes)",
            output.display()
        ),
        (Outcome::Failed { kind, message }, false) => {
            format!("FAIL  {input_text}: {kind}: {message}")
        }
    }
}

fn progress_bar(total: usize, as_json: bool) -> ProgressBar {
    if as_json || total < PROGRESS_BAR_FROM || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} thumbnails, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}
