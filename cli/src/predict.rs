//! `creditscore predict`: batch scoring of a CSV or JSONL file.
use std::io::Write;
use std::path::{Path, PathBuf};

use creditscore_core::predict::valid_threshold;
use creditscore_core::schema::FieldIssue;
use creditscore_core::{Bundle, CompiledModel, Prediction, ValidRecord};

use crate::error::CliError;
use crate::input::{
    AtomicOutput, Chunk, ChunkReader, CsvOut, Format, Layout, UnknownColumns, Validation, load_bundle,
    ordered_chunks, refuse_output_over_input, thread_count, thread_pool,
};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    /// Model bundle (.csb).
    #[arg(long)]
    bundle: PathBuf,
    /// Rows to score: JSONL (one JSON object per line) when the name ends in .jsonl or .ndjson
    /// (any case), otherwise CSV with a header of field names (empty cell = missing). UTF-8; a
    /// byte-order mark is dropped, and UTF-16 text with one (Excel's "Unicode text") is read.
    #[arg(long)]
    input: PathBuf,
    /// Where to write scores: JSONL when the name ends in .jsonl or .ndjson, otherwise CSV.
    #[arg(long)]
    out: PathBuf,
    /// Add one SHAP column per model feature (model order), then shap_bias.
    #[arg(long)]
    explain: bool,
    /// Decision threshold in [0, 1]; defaults to the bundle's business-optimal one.
    #[arg(long)]
    threshold: Option<f64>,
    /// Add N reason codes (the features that pushed furthest towards refusal, from exact
    /// TreeSHAP): CSV columns reason_1..reason_N (codes), JSONL a `reasons` list (code, value,
    /// typical value, sentence).
    #[arg(long, value_name = "N", default_value_t = 0)]
    reasons: usize,
    /// Which rows get reason codes with --reasons.
    #[arg(long, value_enum, default_value_t = ReasonsFor::Refused)]
    reasons_for: ReasonsFor,
    /// Leave out input columns (CSV) or fields (JSONL) that are neither the id nor an input of
    /// the model (e.g. TARGET) instead of reporting them.
    #[arg(long)]
    ignore_unknown_columns: bool,
    /// Worker threads that validate, score and format the rows (default: every core the OS
    /// reports, or RAYON_NUM_THREADS when set). The output is the same, bit for bit and row for
    /// row, for any N.
    #[arg(long, value_name = "N", value_parser = thread_count)]
    threads: Option<std::num::NonZeroUsize>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReasonsFor {
    /// Refused rows only (prediction 1), as the HTTP API does by default.
    Refused,
    /// Every row.
    All,
}

pub fn run(args: Args) -> Result<(), CliError> {
    // Before loading the bundle (up to seconds for a large model): a cheap refusal comes first.
    refuse_output_over_input(&args.input, &args.out)?;
    let model = CompiledModel::new(load_bundle(&args.bundle)?);
    let bundle = model.bundle();
    let threshold = args.threshold.unwrap_or(bundle.threshold().get());
    if !valid_threshold(threshold) {
        return Err(CliError::Usage(format!("--threshold {threshold} is not in [0, 1]")));
    }
    let pool = thread_pool(args.threads)?;
    let format = Format::of(&args.out);
    let mut out = AtomicOutput::create(&args.out)?;
    let writer = ScoreWriter {
        model: &model,
        format,
        explain: args.explain,
        threshold,
        reasons: args.reasons.min(bundle.schema().num_model_features()),
        reasons_for: args.reasons_for,
        unknown: if args.ignore_unknown_columns { UnknownColumns::Ignore } else { UnknownColumns::Refuse },
    };
    if let Err(e) = writer.header(&mut out.writer).map_err(CliError::io(&args.out)) {
        return out.settle(Err(e));
    }
    let mut validation = Validation::new(&args.input);
    let mut progress = Progress::new("scored");
    let mut rows = 0u64;
    let result = ChunkReader::open(&args.input).and_then(|mut reader| {
        pool.install(|| {
            // Workers validate, score and format whole chunks; this thread writes them in order.
            ordered_chunks(
                &mut reader,
                2 * pool.current_num_threads(),
                |layout, chunk| writer.chunk(layout, chunk, &args.out),
                |done: ScoredChunk| {
                    rows = done.last_row;
                    for (row, issues) in done.invalid {
                        validation.reject(row, issues);
                    }
                    if validation.all_valid() {
                        out.writer.write_all(&done.text).map_err(CliError::io(&args.out))?;
                    }
                    progress.update(rows, None);
                    Ok(())
                },
            )
        })
    });
    let result = result.and_then(|()| validation.finish());
    if result.is_ok() {
        progress.finish(rows);
    }
    out.settle(result)
}

/// One chunk of input, validated, scored and formatted by a worker.
struct ScoredChunk {
    last_row: u64,
    /// Invalid rows (1-based) and their issues; when any, `text` is empty.
    invalid: Vec<(u64, Vec<FieldIssue>)>,
    /// The output lines of the chunk.
    text: Vec<u8>,
}

struct ScoreWriter<'b> {
    /// The model compiled once for every chunk (its TreeSHAP path data built by the first row
    /// explained or given reasons; the npm package and the endpoint use the same, so all give
    /// the same bits).
    model: &'b CompiledModel,
    format: Format,
    explain: bool,
    threshold: f64,
    reasons: usize,
    reasons_for: ReasonsFor,
    unknown: UnknownColumns,
}

impl ScoreWriter<'_> {
    fn header(&self, out: &mut impl Write) -> std::io::Result<()> {
        if self.format == Format::Jsonl {
            return Ok(());
        }
        let mut csv = CsvOut::new(out);
        for name in ["raw_score", "probability", "prediction", "score"] {
            csv.cell(name)?;
        }
        if self.explain {
            for name in &self.model.bundle().schema().model_features {
                csv.cell(&format!("shap_{name}"))?;
            }
            csv.cell("shap_bias")?;
        }
        for i in 1..=self.reasons {
            csv.cell(&format!("reason_{i}"))?;
        }
        csv.end_row()?;
        csv.flush()
    }

    /// Validates every row of `chunk`, then scores and formats them when all are valid.
    fn chunk(&self, layout: &Layout, chunk: &Chunk, out_path: &Path) -> Result<ScoredChunk, CliError> {
        let mut valid = Vec::new();
        let mut done = ScoredChunk { last_row: 0, invalid: Vec::new(), text: Vec::new() };
        layout.for_each_in(chunk, |row, record| {
            done.last_row = row;
            match self
                .unknown
                .apply(self.model.bundle().schema(), record)
                .validate(self.model.bundle().schema())
            {
                Ok(v) => valid.push(v),
                Err(issues) => done.invalid.push((row, issues)),
            }
            Ok(())
        })?;
        if done.invalid.is_empty() {
            self.write_chunk(&mut done.text, &valid).map_err(CliError::io(out_path))?;
        }
        Ok(done)
    }

    fn write_chunk(&self, out: &mut impl Write, records: &[ValidRecord]) -> std::io::Result<()> {
        let mut phi = Vec::new();
        let scores = self.model.score_records(records);
        // CSV rows of the chunk, quoted by the csv crate, then written out at once.
        let mut csv = CsvOut::new(Vec::with_capacity(if self.format == Format::Csv { 1 << 16 } else { 0 }));
        for (record, score) in records.iter().zip(&scores) {
            let prediction = Bundle::decide(score.probability, self.threshold);
            let points = self.model.bundle().points(score.probability);
            let want_reasons = self.reasons > 0 && (prediction == 1 || self.reasons_for == ReasonsFor::All);
            if self.explain || want_reasons {
                self.model.shap_values(record, &mut phi);
            }
            let mut reasons = if want_reasons {
                self.model.bundle().reasons_from_shap(record, &phi, self.reasons)
            } else {
                Vec::new()
            };
            match self.format {
                Format::Csv => {
                    csv.float(score.raw_score)?;
                    csv.float(score.probability)?;
                    csv.cell(&prediction.to_string())?;
                    csv.float(points)?;
                    if self.explain {
                        for v in &phi {
                            csv.float(*v)?;
                        }
                    }
                    for i in 0..self.reasons {
                        // Codes are `<model feature>.<direction>`: quoted when the name needs it.
                        csv.cell(reasons.get(i).map_or("", |r| r.code.as_str()))?;
                    }
                    csv.end_row()?;
                }
                Format::Jsonl => {
                    let item = Prediction {
                        base_value: None,
                        contributions: None,
                        prediction,
                        probability: score.probability,
                        raw_score: Some(score.raw_score),
                        reasons: want_reasons.then(|| std::mem::take(&mut reasons)),
                        score: points,
                        sk_id_curr: record.id,
                        threshold: None,
                        warnings: (!record.warnings.is_empty()).then(|| record.warnings.clone()),
                    };
                    // A JSON map keeps its keys sorted, so the shap_* keys fall where they always did.
                    let mut line = serde_json::to_value(&item).unwrap_or_default();
                    if self.explain {
                        let names = self.model.bundle().schema().model_features.iter().map(String::as_str);
                        for (name, v) in names.chain(["bias"]).zip(&phi) {
                            line[format!("shap_{name}")] = serde_json::json!(v);
                        }
                    }
                    serde_json::to_writer(&mut *out, &line)?;
                    writeln!(out)?;
                }
            }
        }
        out.write_all(&csv.into_inner()?)
    }
}
