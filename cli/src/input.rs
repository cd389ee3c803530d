//! Reading bundles, schemas and records (CSV or JSONL), and validating records in bulk.
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use creditscore_core::schema::{FieldIssue, IssueCode, RawValue, Schema, ValidRecord};
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
    /// A JSON record with some fields left out (see [`UnknownColumns::Ignore`]).
    Owned(serde_json::Value),
}

impl Record<'_> {
    pub fn validate(&self, schema: &Schema) -> Result<ValidRecord, Vec<FieldIssue>> {
        match self {
            Record::Fields(fields) => schema.validate(fields.iter().copied(), ""),
            Record::Json(value) => schema.validate_json(value, ""),
            Record::Owned(value) => schema.validate_json(value, ""),
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
                    self.invalid.push((row, issues.into_iter().map(cli_hint).collect()));
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

/// CSV output through the csv crate: RFC 4180 quoting of any cell (a feature name with a comma
/// or a quote stays one column), `\n` line ends. Rows are written cell by cell with
/// [`CsvOut::cell`] / [`CsvOut::float`] and ended with [`CsvOut::end_row`].
pub struct CsvOut<W: Write> {
    writer: csv::Writer<W>,
    text: String,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> Self {
        CsvOut { writer: csv::WriterBuilder::new().has_headers(false).from_writer(out), text: String::new() }
    }

    pub fn cell(&mut self, text: &str) -> std::io::Result<()> {
        Ok(self.writer.write_field(text)?)
    }

    /// Exact, compact text for a float: shortest round-trip digits (exponent form when very large
    /// or small); missing values as an empty cell.
    pub fn float(&mut self, v: f64) -> std::io::Result<()> {
        use std::fmt::Write as _;
        self.text.clear();
        if !v.is_nan() {
            let _ = write!(self.text, "{v:?}");
        }
        Ok(self.writer.write_field(&self.text)?)
    }

    pub fn end_row(&mut self) -> std::io::Result<()> {
        Ok(self.writer.write_record(None::<&[u8]>)?)
    }

    /// A whole row of text cells.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> std::io::Result<()> {
        for c in cells {
            self.cell(c)?;
        }
        self.end_row()
    }

    /// Flushes the csv crate's buffer into the underlying writer (call before it is committed).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    /// The underlying writer, everything written flushed into it.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

/// What to do with input columns (CSV) or fields (JSONL) that are neither the client id nor an
/// input of the schema, e.g. a training file's `TARGET`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UnknownColumns {
    /// Report them as invalid (naming the closest input and `--ignore-unknown-columns`).
    Refuse,
    /// Leave them out.
    Ignore,
}

impl UnknownColumns {
    /// The record without unknown columns when they are ignored, else the record as it is.
    pub fn apply<'a>(self, schema: &Schema, record: Record<'a>) -> Record<'a> {
        let known = |name: &str| name == schema.id_field || schema.input(name).is_some();
        match (self, record) {
            (UnknownColumns::Refuse, record) => record,
            (UnknownColumns::Ignore, Record::Fields(mut fields)) => {
                fields.retain(|(n, _)| known(n));
                Record::Fields(fields)
            }
            (UnknownColumns::Ignore, Record::Json(value)) => match value {
                serde_json::Value::Object(map) if map.keys().any(|n| !known(n)) => {
                    let mut kept = map.clone();
                    kept.retain(|n, _| known(n));
                    Record::Owned(serde_json::Value::Object(kept))
                }
                value => Record::Json(value),
            },
            (UnknownColumns::Ignore, Record::Owned(value)) => Record::Owned(value),
        }
    }
}

/// The CLI's words for an unknown column or a label column: the core's hint names the HTTP API's
/// field list, the CLI has `--ignore-unknown-columns`.
fn cli_hint(mut issue: FieldIssue) -> FieldIssue {
    if issue.code == IssueCode::UnknownField {
        issue.reason = "not an input of the model (nor the id)".into();
        issue.expected = if issue.expected.starts_with("did you mean") {
            format!("{}; or pass --ignore-unknown-columns to leave such columns out", issue.expected)
        } else {
            "an input of the model; pass --ignore-unknown-columns to leave other columns out".into()
        };
    } else if issue.code == IssueCode::LabelNotInput {
        issue.expected = format!("{}, or pass --ignore-unknown-columns to leave it out", issue.expected);
    }
    issue
}
