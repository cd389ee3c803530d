//! `creditscore convert`: rewrites a bundle (any format this build reads) in the current format,
//! e.g. a format-1 bundle for the npm package, which reads format 2 only; `creditscore header`:
//! a bundle's format version and header as JSON.
use std::io::Write;
use std::path::PathBuf;

use creditscore_core::bundle::{FORMAT_VERSION, format_version};

use crate::error::CliError;
use crate::input::{read_bundle, same_file, write_atomically, write_bundle};

#[derive(clap::Args)]
#[command(after_help = "A bundle already in the current format is copied unchanged to OUTPUT (after \
    the same checks), or, when OUTPUT is the input itself, left as it is (nothing written). The \
    new file is written beside OUTPUT and renamed over it only once complete and synced, so an \
    error leaves OUTPUT (and an input converted in place) as it was.\n\
    Examples:\n  creditscore convert old.csb new.csb\n  creditscore convert model.csb model.csb --force   # in place")]
pub struct Args {
    /// The bundle to read (format 1 or 2).
    input: PathBuf,
    /// Where to write it in the current format. An existing file (the input itself included) is
    /// replaced only with --force.
    output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let (input, output) = (&args.input, &args.output);
    // Fully checked before anything is written: a bad input never touches OUTPUT.
    let (old, mut bundle) = read_bundle(input)?;
    // Read: a bundle, so it has a version.
    let old_version = format_version(&old).unwrap_or_default();
    let current = old_version == FORMAT_VERSION;
    let in_place = same_file(input, output);
    if current && in_place {
        eprintln!("{}: already format {FORMAT_VERSION}; left as it is, nothing written", input.display());
        return Ok(());
    }
    // `symlink_metadata` so that a dangling symlink also counts as a file in the way.
    if !args.force && std::fs::symlink_metadata(output).is_ok() {
        return Err(CliError::Usage(format!(
            "{}: already exists; pass --force to replace it{}",
            output.display(),
            if in_place { " (convert the input in place)" } else { "" }
        )));
    }
    let (bytes, what) = if current {
        // The input's own bytes: "unchanged" means byte for byte (and the same sha256).
        write_atomically(output, &old)?;
        (old.len(), "already the current format: copied unchanged")
    } else {
        (write_bundle(&mut bundle, output)?.len(), "converted")
    };
    eprintln!(
        "{} (format {old_version}, {} bytes) -> {} (format {FORMAT_VERSION}, {bytes} bytes, sha256 {}): {what}",
        input.display(),
        old.len(),
        output.display(),
        bundle.sha256()
    );
    Ok(())
}

#[derive(clap::Args)]
#[command(after_help = "Output: one line of JSON, the file's `format_version` (1: JSON header, 2: \
    binary header) first, then the header in format 1's layout whatever the file's format \
    (docs/BUNDLE_FORMAT.md).\n\
    Example:\n  creditscore header models/default.csb | jq .meta")]
pub struct HeaderArgs {
    /// The bundle (format 1 or 2).
    bundle: PathBuf,
}

/// `creditscore header`: the bundle's format version and header as one line of JSON on stdout,
/// `{"format_version":N,"meta":...,"schema":...,"threshold":...,"selection":...,"reference":...,
/// "model":...}` whatever its format (docs/BUNDLE_FORMAT.md), for scripts.
pub fn header(args: HeaderArgs) -> Result<(), CliError> {
    let path = &args.bundle;
    let (bytes, bundle) = read_bundle(path)?;
    // Read: a bundle, so it has a version.
    let version = format_version(&bytes).unwrap_or_default();
    let json = bundle.header_json().map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
    // The version is put in front of the core's JSON object as text, rather than by parsing and
    // re-serialising it, which would sort the keys (serde_json's map without `preserve_order`).
    let fields = json.strip_prefix('{').unwrap_or(&json);
    let comma = if fields.starts_with('}') { "" } else { "," };
    // A closed pipe (`| head`) ends the output quietly instead of panicking in `println!`.
    match writeln!(std::io::stdout().lock(), "{{\"format_version\":{version}{comma}{fields}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::io("stdout")(e)),
        _ => Ok(()),
    }
}
