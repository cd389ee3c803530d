//! Reading bundles, schemas and records (CSV or JSONL), and validating records in bulk.
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use creditscore_core::schema::{FieldIssue, IssueCode, RawValue, Schema, SchemaSpec, ValidRecord};
use creditscore_core::{Bundle, bundle};

use crate::error::{CliError, MAX_ROWS_REPORTED};

/// Encodes `bundle` (the current format) and writes it to `path` with [`write_atomically`]
/// (synced, then renamed over any old file: an error leaves `path` as it was); returns the bytes
/// written.
pub fn write_bundle(bundle: &mut Bundle, path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = bundle
        .to_bytes()
        .map_err(|e| CliError::Other(format!("{}: cannot encode the bundle: {e}", path.display())))?;
    write_atomically(path, &bytes)?;
    Ok(bytes)
}

pub fn load_bundle(path: &Path) -> Result<Bundle, CliError> {
    read_bundle(path).map(|(_, bundle)| bundle)
}

/// A bundle file's bytes (for what the file itself says: its format version, its size) and the
/// checked bundle they hold. Errors: the file's I/O error, or why it is not a usable bundle.
pub fn read_bundle(path: &Path) -> Result<(Vec<u8>, Bundle), CliError> {
    let bytes = std::fs::read(path).map_err(CliError::io(path))?;
    let bundle =
        Bundle::from_bytes(&bytes).map_err(|source| CliError::Bundle { path: path.into(), source })?;
    Ok((bytes, bundle))
}

/// A schema from a JSON file, or the schema of a bundle file.
pub fn load_schema(path: &Path) -> Result<Schema, CliError> {
    let bytes = std::fs::read(path).map_err(CliError::io(path))?;
    if bytes.starts_with(bundle::MAGIC) {
        return Bundle::from_bytes(&bytes)
            .map(|b| b.schema().clone())
            .map_err(|source| CliError::Bundle { path: path.into(), source });
    }
    let spec: SchemaSpec = serde_json::from_slice(&bytes)
        .map_err(|e| CliError::SchemaFile { path: path.into(), reason: e.to_string() })?;
    let schema = Schema::try_from(spec).map_err(|source| CliError::Schema { path: path.into(), source })?;
    Ok(schema)
}

/// The text of `input` with any byte-order mark handled: a UTF-8 BOM (written by PowerShell's
/// `Out-File`, Excel's "CSV UTF-8" and many Windows tools) is dropped, UTF-16 text that starts
/// with a BOM is transcoded to UTF-8, and text without a BOM passes through byte for byte
/// (encoding_rs_io's BOM sniffing). Without this, a UTF-8 BOM made a JSONL file's first line
/// "not a JSON record" and a log file's first record malformed.
pub fn without_bom<R: Read>(input: R) -> encoding_rs_io::DecodeReaderBytes<R, Vec<u8>> {
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .bom_sniffing(true)
        .strip_bom(true)
        .utf8_passthru(true)
        .build(input)
}

/// A record file's text, as [`without_bom`] reads it.
type Text = encoding_rs_io::DecodeReaderBytes<File, Vec<u8>>;

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
    let mut reader = ChunkReader::open(path)?;
    while let Some(chunk) = reader.next_chunk(CHUNK_ROWS)? {
        reader.layout.for_each_in(&chunk, &mut each)?;
    }
    Ok(())
}

/// Rows read per chunk: what one worker validates and scores at a time.
pub const CHUNK_ROWS: usize = 4096;

/// Up to [`CHUNK_ROWS`] rows of the input, owned, so that they can be parsed, validated and
/// scored away from the thread that reads the file.
pub struct Chunk {
    /// 1-based data row of the first row of the chunk.
    first_row: u64,
    rows: ChunkRows,
}

enum ChunkRows {
    Csv(Vec<csv::StringRecord>),
    /// (1-based line number, line) of each non-blank line, parsed by [`ChunkReader::for_each_in`].
    Jsonl(Vec<(u64, String)>),
}

/// Reads a CSV or JSONL input file chunk by chunk (see [`for_each_record`] for the formats).
pub struct ChunkReader {
    pub layout: Layout,
    source: Source,
    rows: u64,
}

/// What it takes to turn a chunk into records: the file (for error messages) and the CSV header.
#[derive(Clone)]
pub struct Layout {
    path: PathBuf,
    /// `None` for JSONL.
    headers: Option<csv::StringRecord>,
}

enum Source {
    Csv(Box<csv::Reader<BufReader<Text>>>),
    Jsonl { reader: BufReader<Text>, line_no: u64 },
}

impl ChunkReader {
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let file = File::open(path).map_err(CliError::io(path))?;
        let (source, headers) = match Format::of(path) {
            Format::Csv => {
                let mut reader =
                    csv::ReaderBuilder::new().flexible(false).from_reader(BufReader::new(without_bom(file)));
                let headers = reader
                    .headers()
                    .map_err(|e| CliError::Parse { path: path.into(), line: 1, reason: e.to_string() })?
                    .clone();
                (Source::Csv(Box::new(reader)), Some(headers))
            }
            Format::Jsonl => (Source::Jsonl { reader: BufReader::new(without_bom(file)), line_no: 0 }, None),
        };
        Ok(ChunkReader { layout: Layout { path: path.into(), headers }, source, rows: 0 })
    }

    /// The next (at most `max_rows`) rows, or `None` at the end of the file. CSV syntax errors are
    /// reported here; JSON lines are parsed by [`Layout::for_each_in`].
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Chunk>, CliError> {
        let first_row = self.rows + 1;
        let rows = match &mut self.source {
            Source::Csv(reader) => {
                let mut records = Vec::with_capacity(max_rows);
                while records.len() < max_rows {
                    let mut record = csv::StringRecord::new();
                    let more = reader.read_record(&mut record).map_err(|e| CliError::Parse {
                        path: self.layout.path.clone(),
                        line: e.position().map_or(self.rows + 2, |p| p.line()),
                        reason: e.to_string(),
                    })?;
                    if !more {
                        break;
                    }
                    self.rows += 1;
                    records.push(record);
                }
                (!records.is_empty()).then_some(ChunkRows::Csv(records))
            }
            Source::Jsonl { reader, line_no } => {
                let mut lines = Vec::with_capacity(max_rows);
                while lines.len() < max_rows {
                    let mut line = String::new();
                    if reader.read_line(&mut line).map_err(CliError::io(&self.layout.path))? == 0 {
                        break;
                    }
                    *line_no += 1;
                    if !line.trim().is_empty() {
                        self.rows += 1;
                        lines.push((*line_no, line));
                    }
                }
                (!lines.is_empty()).then_some(ChunkRows::Jsonl(lines))
            }
        };
        Ok(rows.map(|rows| Chunk { first_row, rows }))
    }
}

impl Layout {
    /// Calls `each(row, record)` for every row of `chunk` (read by this reader), in order.
    pub fn for_each_in(
        &self,
        chunk: &Chunk,
        mut each: impl FnMut(u64, Record<'_>) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        match (&chunk.rows, &self.headers) {
            (ChunkRows::Csv(records), Some(headers)) => {
                for (row, record) in (chunk.first_row..).zip(records) {
                    let fields =
                        headers.iter().zip(record.iter()).map(|(h, v)| (h, RawValue::Cell(v))).collect();
                    each(row, Record::Fields(fields))?;
                }
            }
            (ChunkRows::Jsonl(lines), _) => {
                for (row, (line_no, line)) in (chunk.first_row..).zip(lines) {
                    let value: serde_json::Value =
                        serde_json::from_str(line).map_err(|e| CliError::Parse {
                            path: self.path.clone(),
                            line: *line_no,
                            reason: format!("not a JSON record: {e}"),
                        })?;
                    each(row, Record::Json(&value))?;
                }
            }
            // A CSV chunk is only made by a reader that has read the header.
            (ChunkRows::Csv(_), None) => {}
        }
        Ok(())
    }
}

/// Processes the chunks of `reader` on the current rayon pool and hands the results to `sink` in
/// input order. At most `2 * in_flight` chunks are held at once (`in_flight` being worked on while
/// the next `in_flight` are read), so memory stays bounded on a file of any size. `work` must be a
/// pure function of its chunk for the output not to depend on the number of threads.
pub fn ordered_chunks<T: Send>(
    reader: &mut ChunkReader,
    in_flight: usize,
    work: impl Fn(&Layout, &Chunk) -> Result<T, CliError> + Sync,
    mut sink: impl FnMut(T) -> Result<(), CliError>,
) -> Result<(), CliError> {
    use rayon::prelude::*;
    fn read(reader: &mut ChunkReader, n: usize) -> Result<Vec<Chunk>, CliError> {
        let mut window = Vec::with_capacity(n);
        while window.len() < n
            && let Some(chunk) = reader.next_chunk(CHUNK_ROWS)?
        {
            window.push(chunk);
        }
        Ok(window)
    }
    let in_flight = in_flight.max(1);
    let layout = reader.layout.clone();
    let mut window = read(reader, in_flight)?;
    while !window.is_empty() {
        // Reading the next window overlaps with working on this one.
        let (next, results) = rayon::join(
            || read(reader, in_flight),
            || window.par_iter().map(|c| work(&layout, c)).collect::<Vec<_>>(),
        );
        for result in results {
            sink(result?)?;
        }
        window = next?;
    }
    Ok(())
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
                self.reject(row, issues);
                None
            }
        }
    }

    /// Records an invalid row found elsewhere (by a worker thread); rows must come in input order.
    pub fn reject(&mut self, row: u64, issues: Vec<FieldIssue>) {
        if self.invalid.len() < MAX_ROWS_REPORTED {
            self.invalid.push((row, issues.into_iter().map(cli_hint).collect()));
        } else {
            self.more += 1;
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

/// `path` with `suffix` appended to its file name (`a.jsonl` -> `a.jsonl.partial`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The file a symbolic link `path` points to (resolved fully), else `path`: a result written
/// through a link updates the file behind it, as a plain `open` for writing would, instead of the
/// rename replacing the link with a regular file. A dangling link stays `path` (then replaced).
pub fn through_symlink(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.into())
        }
        _ => path.into(),
    }
}

/// Creates `tmp`, the file that will be renamed over `path`, with `path`'s permissions when
/// `path` exists: the rename must not widen them (a `chmod 600` file of scores would otherwise
/// come back `644`, as the umask gives a new file).
fn create_replacement(tmp: &Path, path: &Path) -> std::io::Result<File> {
    let file = File::create(tmp)?;
    if let Ok(meta) = std::fs::metadata(path) {
        file.set_permissions(meta.permissions())?;
    }
    Ok(file)
}

/// Whether two paths name the same existing file, however spelled (`m.csb`, `./m.csb`, a
/// symlink): both resolve to the same canonical path. False when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Refuses an `--out` that is the `--input` file itself: the result would replace the records
/// it was made from.
pub fn refuse_output_over_input(input: &Path, out: &Path) -> Result<(), CliError> {
    if same_file(input, out) {
        return Err(CliError::Usage(format!(
            "--out {} is the input file; write the result to another file",
            out.display()
        )));
    }
    Ok(())
}

/// Writes a small file whole: `bytes` go to `<path>.tmp`, are synced to disk, then renamed over
/// `path`, so a reader (or a resumed run) finds the old file or the new one, never a torn one, and
/// an error (disk full, no permission) leaves `path` as it was and removes the `.tmp` file.
/// `.tmp` rather than [`AtomicOutput`]'s `.partial`, which `logs pull` keeps for its resumable
/// download next to the files written here.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let path = &through_symlink(path);
    let tmp = with_suffix(path, ".tmp");
    let written = create_replacement(&tmp, path)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .map_err(CliError::io(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(CliError::io(path)));
    if written.is_err() {
        // Nothing to keep (the old `path`, if any, is untouched); a `.tmp` that is not a file
        // (e.g. a directory in the way) stays.
        let _ = std::fs::remove_file(&tmp);
    }
    written
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
        let path = &through_symlink(path);
        let partial = with_suffix(path, ".partial");
        let file = create_replacement(&partial, path).map_err(CliError::io(&partial))?;
        Ok(AtomicOutput { path: path.into(), partial, writer: BufWriter::with_capacity(1 << 16, file) })
    }

    pub fn commit(mut self) -> Result<(), CliError> {
        let done = self
            .writer
            .flush()
            .map_err(CliError::io(&self.partial))
            .and_then(|()| std::fs::rename(&self.partial, &self.path).map_err(CliError::io(&self.path)));
        if done.is_err() {
            // E.g. OUT is a directory: the result cannot go there, and the partial file is no use.
            let _ = std::fs::remove_file(&self.partial);
        }
        done
    }

    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }

    /// The ending of every command that writes a result file: commits when `result` is `Ok`
    /// (and returns what the commit returns), else removes the partial file and returns the error.
    pub fn settle(self, result: Result<(), CliError>) -> Result<(), CliError> {
        match result {
            Ok(()) => self.commit(),
            Err(e) => {
                self.abandon();
                Err(e)
            }
        }
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

/// A `--since`/`--until` time of `drift` and `logs pull` (what
/// [`creditscore_core::time::parse_timestamp`] reads) in epoch seconds.
pub fn time_bound(s: &str) -> Result<i64, String> {
    creditscore_core::time::parse_timestamp(s).map(|(t, _)| t).ok_or_else(|| {
        format!("`{s}` is not an RFC 3339 time or a date (e.g. 2026-11-20 or 2026-11-20T08:00:00Z)")
    })
}

/// `--threads` as a positive count, with a message that says what to do (clap's own for a
/// `NonZeroUsize` reads "number would be zero for non-zero type"). Each command that takes
/// `--threads N` (`predict`, `bench`) declares it with its own help, since N means something
/// different to each.
pub fn thread_count(text: &str) -> Result<std::num::NonZeroUsize, String> {
    let n: usize = text.trim().parse().map_err(|_| "expected a whole number of threads, at least 1")?;
    std::num::NonZeroUsize::new(n)
        .ok_or_else(|| "must be at least 1 (leave --threads out to use every core)".into())
}

/// The worker pool of `--threads N`; `None` (the flag left out) asks rayon for its default:
/// RAYON_NUM_THREADS when set, else every core the OS reports.
pub fn thread_pool(threads: Option<std::num::NonZeroUsize>) -> Result<rayon::ThreadPool, CliError> {
    let n = threads.map_or(0, std::num::NonZeroUsize::get);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| CliError::Other(format!("cannot start {n} worker threads: {e}")))
}
