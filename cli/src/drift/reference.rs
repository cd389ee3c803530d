//! Where the training-side distributions come from: the bundle's reference statistics
//! (percentiles and level shares, enough for every statistic, KS approximate), or a reference
//! sample in CSV or Parquet (the training sample itself: exact KS, and the reference scores
//! computed with the bundle). A Parquet cell is read as the text a CSV would hold (null = empty),
//! so both formats go through the same validation.

use std::path::{Path, PathBuf};

use creditscore_core::Bundle;
use creditscore_core::bundle::ReferenceDistribution;
use creditscore_core::drift::{CategoricalReference, NumericReference, ReadingCounts};
use creditscore_core::schema::{CategoricalSpec, InputField, InputKind, InputReading, RawValue};

use crate::error::CliError;

pub enum FeatureKind {
    Numeric {
        reference: NumericReference,
    },
    /// `spec` is the schema's own: values are matched with [`CategoricalSpec::match_value`], the
    /// rule the scorer uses (aliases, case, spacing, dataset codes, booleans).
    Categorical {
        reference: CategoricalReference,
        spec: CategoricalSpec,
    },
}

pub struct FeatureSpec {
    pub name: String,
    pub kind: FeatureKind,
    /// The schema's input: its [`InputField::read`] reads the logged values.
    pub field: InputField,
    /// How a reference sample's cells were read (`None` for the bundle's statistics).
    pub reading: Option<ReadingCounts>,
}

pub struct ScoreReference {
    pub reference: NumericReference,
    pub refusal_rate: Option<f64>,
    /// Rows behind the refusal rate.
    pub rows: u64,
    /// The client inputs the reference scores were computed with: when the logs' clients do not
    /// send one of them, the model sees it as missing in production and not in the reference, so
    /// the score distributions are not comparable.
    pub inputs: Vec<String>,
}

/// The reference sample's rows, as the cells a CSV holds.
struct ReferenceSample {
    /// Schema input names, in cell order.
    names: Vec<String>,
    /// Per name: the cells are typed booleans (a Parquet BOOLEAN column).
    booleans: Vec<bool>,
    /// The id cell, when the sample has the id column.
    ids: Vec<Option<Box<str>>>,
    rows: Vec<Box<[Box<str>]>>,
}

pub struct References {
    pub features: Vec<FeatureSpec>,
    pub score: Option<ScoreReference>,
    /// Human description of where the reference came from.
    pub origin: String,
    pub exact: bool,
    /// Features left out, with the reason.
    pub skipped: Vec<(String, String)>,
}

pub fn load(bundle: &Bundle, sample: Option<&Path>) -> Result<References, CliError> {
    let Some(path) = sample else { return from_bundle(bundle) };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext == "parquet" || ext == "pq" {
        let (headers, booleans, mut rows) = ParquetRows::open(path)?;
        from_sample(bundle, path, "Parquet", headers, &booleans, |cells| rows.next(cells))
    } else {
        let (headers, mut rows) = CsvRows::open(path)?;
        let booleans = vec![false; headers.len()];
        from_sample(bundle, path, "CSV", headers, &booleans, |cells| rows.next(cells))
    }
}

/// `n` empty cells, reusing the strings' buffers of the previous row.
fn clear_cells(cells: &mut Vec<String>, n: usize) -> &mut [String] {
    cells.resize_with(n, String::new);
    cells.iter_mut().for_each(String::clear);
    cells
}

struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<encoding_rs_io::DecodeReaderBytes<std::fs::File, Vec<u8>>>,
    record: csv::StringRecord,
    line: u64,
}

impl CsvRows {
    /// The column names and the rows.
    fn open(path: &Path) -> Result<(Vec<String>, CsvRows), CliError> {
        let file = std::fs::File::open(path).map_err(CliError::io(path))?;
        let mut reader =
            csv::ReaderBuilder::new().flexible(false).from_reader(crate::input::without_bom(file));
        let headers = reader
            .headers()
            .map_err(|e| CliError::Parse { path: path.into(), line: 1, reason: e.to_string() })?
            .iter()
            .map(str::to_owned)
            .collect();
        Ok((headers, CsvRows { path: path.into(), reader, record: csv::StringRecord::new(), line: 1 }))
    }

    fn next(&mut self, cells: &mut Vec<String>) -> Result<bool, CliError> {
        self.line += 1;
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                for (cell, value) in clear_cells(cells, self.record.len()).iter_mut().zip(&self.record) {
                    cell.push_str(value);
                }
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                Err(CliError::Parse { path: self.path.clone(), line: self.line, reason: e.to_string() })
            }
        }
    }
}

struct ParquetRows {
    path: PathBuf,
    rows: parquet::record::reader::RowIter<'static>,
    /// Rows read so far (errors name the 1-based row).
    row: u64,
}

impl ParquetRows {
    /// The column names, whether each is a BOOLEAN column, and the rows.
    fn open(path: &Path) -> Result<(Vec<String>, Vec<bool>, ParquetRows), CliError> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let bad = |e: parquet::errors::ParquetError| {
            CliError::Usage(format!("{}: not a readable Parquet file: {e}", path.display()))
        };
        let file = std::fs::File::open(path).map_err(CliError::io(path))?;
        let reader = SerializedFileReader::new(file).map_err(bad)?;
        let fields = reader.metadata().file_metadata().schema_descr().root_schema().get_fields().to_vec();
        let headers = fields.iter().map(|f| f.name().to_owned()).collect();
        // A BOOLEAN column is read as JSON booleans are (`true` is a level only where the schema
        // declares that spelling), not as text.
        let booleans = fields
            .iter()
            .map(|f| f.is_primitive() && f.get_physical_type() == parquet::basic::Type::BOOLEAN)
            .collect();
        let rows = parquet::record::reader::RowIter::from_file_into(Box::new(reader));
        Ok((headers, booleans, ParquetRows { path: path.into(), rows, row: 0 }))
    }

    fn next(&mut self, cells: &mut Vec<String>) -> Result<bool, CliError> {
        use parquet::record::Field;
        use std::fmt::Write;
        let Some(row) = self.rows.next() else { return Ok(false) };
        self.row += 1;
        let row = row.map_err(|e| {
            CliError::Usage(format!("{}: Parquet row {}: {e}", self.path.display(), self.row))
        })?;
        let cells = clear_cells(cells, row.len());
        for (cell, (_, field)) in cells.iter_mut().zip(row.get_column_iter()) {
            // Writing to a String cannot fail.
            let _ = match field {
                Field::Null => Ok(()),
                Field::Str(s) => cell.write_str(s),
                // Shortest text that parses back to the same value.
                Field::Double(v) => write!(cell, "{v}"),
                Field::Float(v) => write!(cell, "{v}"),
                other => write!(cell, "{other}"),
            };
        }
        Ok(true)
    }
}

fn input_spec(bundle: &Bundle, name: &str) -> CategoricalSpec {
    match bundle.schema().input(name).map(|f| &f.kind) {
        Some(InputKind::Categorical(c)) => c.clone(),
        _ => CategoricalSpec::default(),
    }
}

fn from_bundle(bundle: &Bundle) -> Result<References, CliError> {
    let Some(stats) = &bundle.reference() else {
        return Err(CliError::Usage(String::from(
            "the bundle has no reference statistics; pass --reference REF.csv (the training sample)",
        )));
    };
    let mut features = Vec::new();
    let mut skipped = Vec::new();
    for f in &stats.features {
        let Some(input) = bundle.schema().input(&f.name) else {
            skipped.push((f.name.clone(), String::from("not a client input, so not in the logs")));
            continue;
        };
        let same_kind = matches!(
            (&f.distribution, &input.kind),
            (ReferenceDistribution::Numeric { .. }, InputKind::Numeric(_))
                | (ReferenceDistribution::Categorical { .. }, InputKind::Categorical(_))
        );
        if !same_kind {
            skipped
                .push((f.name.clone(), String::from("reference type differs from the schema's input type")));
            continue;
        }
        let kind = match &f.distribution {
            ReferenceDistribution::Numeric { quantiles, mean, .. } => {
                if quantiles.len() < 2 {
                    skipped.push((f.name.clone(), String::from("reference has fewer than 2 quantiles")));
                    continue;
                }
                FeatureKind::Numeric {
                    reference: NumericReference::from_quantiles(quantiles, stats.rows, f.missing_rate, *mean),
                }
            }
            ReferenceDistribution::Categorical { levels, proportions } => {
                let non_missing = (stats.rows as f64 * (1.0 - f.missing_rate)).round() as u64;
                let mut shares = proportions.clone();
                shares.resize(levels.len(), 0.0);
                FeatureKind::Categorical {
                    reference: CategoricalReference {
                        levels: levels.clone(),
                        shares,
                        non_missing,
                        missing_rate: f.missing_rate,
                        unknown_share: 0.0,
                    },
                    spec: input_spec(bundle, &f.name),
                }
            }
        };
        features.push(FeatureSpec { name: f.name.clone(), kind, field: input.clone(), reading: None });
    }
    let score = stats.score.as_ref().filter(|s| s.quantiles.len() >= 2).map(|s| ScoreReference {
        reference: NumericReference::from_quantiles(&s.quantiles, stats.rows, 0.0, f64::NAN),
        refusal_rate: Some(s.refusal_rate),
        rows: stats.rows,
        inputs: bundle.schema().inputs.iter().map(|f| f.name.clone()).collect(),
    });
    Ok(References {
        features,
        score,
        origin: format!(
            "bundle reference statistics ({} training rows; percentiles, so KS is approximate)",
            stats.rows
        ),
        exact: false,
        skipped,
    })
}

enum Column {
    Numeric { values: Vec<f64> },
    Categorical { spec: CategoricalSpec, counts: Vec<u64>, unknown: u64, missing: u64 },
}

/// Reads a reference sample row by row: `next_row` fills the cells of the next row (in `headers`
/// order) and says whether there was one.
fn from_sample(
    bundle: &Bundle,
    path: &Path,
    format: &str,
    headers: Vec<String>,
    booleans: &[bool],
    mut next_row: impl FnMut(&mut Vec<String>) -> Result<bool, CliError>,
) -> Result<References, CliError> {
    let schema = &bundle.schema();
    let mut columns: Vec<(usize, InputField, Column, ReadingCounts)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let Some(field) = schema.input(h) else { continue };
        let col = match &field.kind {
            InputKind::Numeric(_) => Column::Numeric { values: Vec::new() },
            InputKind::Categorical(c) => Column::Categorical {
                spec: c.clone(),
                counts: vec![0; c.levels.len()],
                unknown: 0,
                missing: 0,
            },
        };
        columns.push((i, field.clone(), col, ReadingCounts::default()));
    }
    if columns.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no column of the reference {format} is an input of the bundle (expected names such as {})",
            path.display(),
            schema.inputs.iter().take(3).map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let id_column = headers.iter().position(|h| *h == schema.id_field);
    let mut sample = ReferenceSample {
        names: columns.iter().map(|(_, f, _, _)| f.name.clone()).collect(),
        booleans: columns.iter().map(|(i, _, _, _)| booleans.get(*i).copied().unwrap_or(false)).collect(),
        ids: Vec::new(),
        rows: Vec::new(),
    };
    let mut rows = 0u64;
    let mut record: Vec<String> = Vec::new();
    while next_row(&mut record)? {
        rows += 1;
        for (i, field, col, read) in columns.iter_mut() {
            let cell = record.get(*i).map_or("", String::as_str);
            // The scorer's own reading (InputField::read): the same missing cells, sentinel,
            // levels, aliases and codes as the logs and `predict`; what it rejects is counted.
            let reading = field.read(Some(raw_cell(cell, booleans.get(*i).copied().unwrap_or(false))));
            read.add(&reading, || cell.to_owned());
            match col {
                Column::Numeric { values } => {
                    values.push(if let InputReading::Number(v) = reading { v } else { f64::NAN });
                }
                // A level the schema does not know counts as an unknown level, as it does in
                // the logs (not as missing).
                Column::Categorical { counts, unknown, missing, .. } => match reading {
                    InputReading::Level { code, .. } => counts[code] += 1,
                    InputReading::UnknownLevel(_) => *unknown += 1,
                    _ => *missing += 1,
                },
            }
        }
        sample.ids.push(id_column.and_then(|i| record.get(i)).map(|c| c.as_str().into()));
        sample.rows.push(
            columns.iter().map(|(i, _, _, _)| record.get(*i).map_or("", String::as_str).into()).collect(),
        );
    }
    let mut features = Vec::new();
    for (_, field, col, reading) in columns {
        let kind = match col {
            Column::Numeric { values } => {
                FeatureKind::Numeric { reference: NumericReference::from_values(values) }
            }
            Column::Categorical { spec, counts, unknown, missing } => FeatureKind::Categorical {
                reference: CategoricalReference::from_counts(spec.levels.clone(), &counts, unknown, missing),
                spec,
            },
        };
        features.push(FeatureSpec { name: field.name.clone(), kind, field, reading: Some(reading) });
    }
    let (score, unscorable) = score_sample(bundle, &sample, &[]);
    let mut skipped: Vec<(String, String)> = schema
        .inputs
        .iter()
        .filter(|f| !features.iter().any(|s| s.name == f.name))
        .map(|f| (f.name.clone(), format!("no `{}` column in the reference {format}", f.name)))
        .collect();
    if unscorable > 0 {
        skipped.push((
            String::from("(reference scores)"),
            format!("{unscorable} of {rows} reference rows fail validation and are not scored"),
        ));
    }
    Ok(References {
        features,
        origin: format!("reference sample {} ({format}, {rows} rows; exact KS)", path.display()),
        exact: true,
        skipped,
        score,
    })
}

/// The reference scores: the bundle scores each reference row as it would a client's record (an
/// input in `unsent` is left out, so the model sees it as missing). Returns the scores (with the refusal rate) and the
/// number of rows that fail validation.
fn score_sample(bundle: &Bundle, sample: &ReferenceSample, unsent: &[&str]) -> (Option<ScoreReference>, u64) {
    let schema = &bundle.schema();
    let keep: Vec<bool> = sample.names.iter().map(|n| !unsent.contains(&n.as_str())).collect();
    let mut scores = Vec::with_capacity(sample.rows.len());
    let (mut refused, mut unscorable) = (0u64, 0u64);
    for (id, row) in sample.ids.iter().zip(&sample.rows) {
        let fields =
            std::iter::once((schema.id_field.as_str(), RawValue::Cell(id.as_deref().unwrap_or("0")))).chain(
                sample
                    .names
                    .iter()
                    .zip(row.iter().zip(&sample.booleans))
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|((n, (c, &b)), _)| (n.as_str(), raw_cell(c, b))),
            );
        match schema.validate(fields, "") {
            Ok(valid) => {
                let p = bundle.score(&valid).probability;
                refused += u64::from(p >= bundle.threshold().get());
                scores.push(p);
            }
            Err(_) => unscorable += 1,
        }
    }
    let score = (!scores.is_empty()).then(|| ScoreReference {
        refusal_rate: Some(refused as f64 / scores.len() as f64),
        rows: scores.len() as u64,
        reference: NumericReference::from_values(scores),
        inputs: sample.names.clone(),
    });
    (score, unscorable)
}

/// A reference cell as the scorer receives it: text (parsed by the field's type), or a boolean
/// from a Parquet BOOLEAN column (`true`/`false`; an empty cell is a null).
fn raw_cell(cell: &str, boolean: bool) -> RawValue<'_> {
    match (boolean, cell) {
        (true, "true") => RawValue::Bool(true),
        (true, "false") => RawValue::Bool(false),
        _ => RawValue::Cell(cell),
    }
}
