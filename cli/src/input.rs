//! Reading bundles, schemas and records (CSV or JSONL), and validating records in bulk.
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use creditscore_core::schema::{FieldIssue, RawValue, Schema, ValidRecord};
use creditscore_core::{Bundle, bundle};

use crate::error::{CliError, MAX_ROWS_REPORTED};

pub fn load_bundle(path: &Path) -> Result<Bundle, CliError> {
    let bytes = std::fs::read(path).map_err(CliError::io(path))?;
    Bundle::from_bytes(&bytes).map_err(|source| CliError::Bundle { path: path.into(), source })
}

/// A schema from a JSON file, or the schema of a bundle file.
pub fn load_schema(path: &Path) -> Result<Schema, CliError> {
    let bytes = std::fs::read(path).map_err(CliError::io(path))?;
    if bytes.starts_with(bundle::MAGIC) {
        return Bundle::from_bytes(&bytes)
            .map(|b| b.schema)
            .map_err(|source| CliError::Bundle { path: path.into(), source });
    }
    let mut schema: Schema = serde_json::from_slice(&bytes)
        .map_err(|e| CliError::SchemaFile { path: path.into(), reason: e.to_string() })?;
    schema.resolve().map_err(|source| CliError::Schema { path: path.into(), source })?;
    Ok(schema)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson") => Format::Jsonl,
            _ => Format::Csv,
        }
    }
}

/// One input record, borrowed from the reader's buffers.
pub enum Record<'a> {
    Fields(Vec<(&'a str, RawValue<'a>)>),
    Json(&'a serde_json::Value),
}

impl Record<'_> {
    pub fn validate(&self, schema: &Schema) -> Result<ValidRecord, Vec<FieldIssue>> {
        match self {
            Record::Fields(fields) => schema.validate(fields.iter().copied(), ""),
            Record::Json(value) => schema.validate_json(value, ""),
        }
    }
}

/// Calls `each(row, record)` for every data row (1-based) of a CSV (header = field names; an
/// empty cell is missing) or JSONL file (one JSON object per line; blank lines skipped).
pub fn for_each_record(
    path: &Path,
    mut each: impl FnMut(u64, Record<'_>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let file = File::open(path).map_err(CliError::io(path))?;
    match Format::of(path) {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(BufReader::new(file));
            let headers = reader
                .headers()
                .map_err(|e| CliError::Parse { path: path.into(), line: 1, reason: e.to_string() })?
                .clone();
            let mut record = csv::StringRecord::new();
            let mut row = 0u64;
            loop {
                let more = reader.read_record(&mut record).map_err(|e| CliError::Parse {
                    path: path.into(),
                    line: e.position().map_or(row + 2, |p| p.line()),
                    reason: e.to_string(),
                })?;
                if !more {
                    return Ok(());
                }
                row += 1;
                let fields = headers.iter().zip(record.iter()).map(|(h, v)| (h, RawValue::Cell(v))).collect();
                each(row, Record::Fields(fields))?;
            }
        }
        Format::Jsonl => {
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            let (mut row, mut line_no) = (0u64, 0u64);
            loop {
                line.clear();
                if reader.read_line(&mut line).map_err(CliError::io(path))? == 0 {
                    return Ok(());
                }
                line_no += 1;
                if line.trim().is_empty() {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| CliError::Parse {
                    path: path.into(),
                    line: line_no,
                    reason: format!("not a JSON record: {e}"),
                })?;
                row += 1;
                each(row, Record::Json(&value))?;
            }
        }
    }
}

/// Collects invalid rows; once one row is invalid, nothing is written.
pub struct Validation {
    path: PathBuf,
    invalid: Vec<(u64, Vec<FieldIssue>)>,
    more: u64,
}

impl Validation {
    pub fn new(path: &Path) -> Self {
        Validation { path: path.into(), invalid: Vec::new(), more: 0 }
    }

    pub fn check(&mut self, schema: &Schema, row: u64, record: &Record<'_>) -> Option<ValidRecord> {
        match record.validate(schema) {
            Ok(valid) => Some(valid),
            Err(issues) => {
                if self.invalid.len() < MAX_ROWS_REPORTED {
                    self.invalid.push((row, issues));
                } else {
                    self.more += 1;
                }
                None
            }
        }
    }

    pub fn all_valid(&self) -> bool {
        self.invalid.is_empty()
    }

    pub fn finish(self) -> Result<(), CliError> {
        if self.invalid.is_empty() {
            Ok(())
        } else {
            Err(CliError::InvalidRows { path: self.path, rows: self.invalid, more: self.more })
        }
    }
}

/// An output file written to `<path>.partial` and renamed into place only on success, so a
/// failed run never leaves a truncated result behind.
pub struct AtomicOutput {
    path: PathBuf,
    partial: PathBuf,
    pub writer: BufWriter<File>,
}

impl AtomicOutput {
    pub fn create(path: &Path) -> Result<Self, CliError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(CliError::io(&partial))?;
        Ok(AtomicOutput { path: path.into(), partial, writer: BufWriter::with_capacity(1 << 16, file) })
    }

    pub fn commit(mut self) -> Result<(), CliError> {
        self.writer.flush().map_err(CliError::io(&self.partial))?;
        std::fs::rename(&self.partial, &self.path).map_err(CliError::io(&self.path))
    }

    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

/// Exact, compact text for a float: shortest round-trip digits (exponent form when very large or
/// small); missing values as an empty cell.
pub fn write_float(out: &mut impl Write, v: f64) -> std::io::Result<()> {
    if v.is_nan() { Ok(()) } else { write!(out, "{v:?}") }
}
