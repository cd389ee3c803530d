//! `creditscore convert`: rewrites a bundle (any format this build reads) in the current format,
//! e.g. a format-1 bundle for the npm package, which reads format 2 only.
use std::io::Write;
use std::path::PathBuf;

use creditscore_core::Bundle;
use creditscore_core::bundle::{FORMAT_VERSION, format_version};

use crate::error::CliError;
use crate::input::write_bundle;

#[derive(clap::Args)]
#[command(after_help = "Example:\n  creditscore convert old.csb new.csb")]
pub struct Args {
    /// The bundle to read (format 1 or 2).
    input: PathBuf,
    /// Where to write it in the current format (may be the input itself).
    output: PathBuf,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let old = std::fs::read(&args.input).map_err(CliError::io(&args.input))?;
    let mut bundle =
        Bundle::from_bytes(&old).map_err(|source| CliError::Bundle { path: args.input.clone(), source })?;
    let bytes = write_bundle(&mut bundle, &args.output)?;
    // Read: a bundle, so it has a version.
    let old_version = format_version(&old).unwrap_or_default();
    eprintln!(
        "{} (format {old_version}, {} bytes) -> {} (format {FORMAT_VERSION}, {} bytes, sha256 {})",
        args.input.display(),
        old.len(),
        args.output.display(),
        bytes.len(),
        bundle.sha256()
    );
    Ok(())
}

#[derive(clap::Args)]
#[command(after_help = "Example:\n  creditscore header models/default.csb | jq .meta")]
pub struct HeaderArgs {
    /// The bundle (format 1 or 2).
    bundle: PathBuf,
}

/// `creditscore header`: the bundle's header as one line of JSON on stdout, whatever its format
/// (meta, schema, threshold, selection, reference and model: docs/BUNDLE_FORMAT.md), for scripts.
pub fn header(args: HeaderArgs) -> Result<(), CliError> {
    let bundle = crate::input::load_bundle(&args.bundle)?;
    let json =
        bundle.header_json().map_err(|e| CliError::Other(format!("{}: {e}", args.bundle.display())))?;
    // A closed pipe (`| head`) ends the output quietly instead of panicking in `println!`.
    match writeln!(std::io::stdout().lock(), "{json}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::io("stdout")(e)),
        _ => Ok(()),
    }
}
