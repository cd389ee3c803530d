use std::fmt;
use std::path::PathBuf;

use creditscore_core::BundleError;
use creditscore_core::schema::{FieldIssue, SchemaError};

/// Most invalid rows listed in one error message.
pub const MAX_ROWS_REPORTED: usize = 20;

#[derive(Debug)]
pub enum CliError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Bundle {
        path: PathBuf,
        source: BundleError,
    },
    SchemaFile {
        path: PathBuf,
        reason: String,
    },
    Schema {
        path: PathBuf,
        source: SchemaError,
    },
    /// A malformed input file (bad CSV, bad JSON line).
    Parse {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// Rows that failed validation: (1-based data row, issues), plus how many more were invalid.
    InvalidRows {
        path: PathBuf,
        rows: Vec<(u64, Vec<FieldIssue>)>,
        more: u64,
    },
    Usage(String),
    /// Errors of other subcommands, already worded.
    Other(String),
}

impl CliError {
    /// Exit codes: 1 for I/O and internal problems, 2 for bad input or usage.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Io { .. } | CliError::Other(_) => 1,
            _ => 2,
        }
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.into();
        move |source| CliError::Io { path, source }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CliError::Bundle { path, source } => write!(f, "{}: {source}", path.display()),
            CliError::SchemaFile { path, reason } => write!(f, "{}: not a schema: {reason}", path.display()),
            CliError::Schema { path, source } => write!(f, "{}: {source}", path.display()),
            CliError::Parse { path, line, reason } => write!(f, "{}:{line}: {reason}", path.display()),
            CliError::InvalidRows { path, rows, more } => {
                write!(
                    f,
                    "{}: {} invalid row(s), nothing written",
                    path.display(),
                    rows.len() as u64 + more
                )?;
                for (row, issues) in rows {
                    for i in issues {
                        write!(f, "\n  row {row}: {}: {} (expected {})", i.path, i.reason, i.expected)?;
                    }
                }
                if *more > 0 {
                    write!(f, "\n  ... and {more} more invalid row(s)")?;
                }
                Ok(())
            }
            CliError::Usage(m) | CliError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}
