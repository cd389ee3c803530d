//! `creditscore predict`: batch scoring of a CSV or JSONL file.
use std::io::Write;
use std::path::PathBuf;

use creditscore_core::ensemble::FlatForest;
use creditscore_core::predict::valid_threshold;
use creditscore_core::{Bundle, ValidRecord};

use crate::error::CliError;
use crate::input::{AtomicOutput, CsvOut, Format, UnknownColumns, Validation, for_each_record, load_bundle};
use crate::progress::Progress;

/// Rows validated before each batch is scored.
const CHUNK: usize = 4096;

#[derive(clap::Args)]
pub struct Args {
    /// Model bundle (.csb).
    #[arg(long)]
    bundle: PathBuf,
    /// Rows to score: CSV with a header of field names (empty cell = missing), or JSONL.
    #[arg(long)]
    input: PathBuf,
    /// Where to write scores: CSV, or JSONL when the name ends in .jsonl.
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
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReasonsFor {
    /// Refused rows only (prediction 1), as the HTTP API does by default.
    Refused,
    /// Every row.
    All,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bundle = load_bundle(&args.bundle)?;
    let threshold = args.threshold.unwrap_or(bundle.threshold);
    if !valid_threshold(threshold) {
        return Err(CliError::Usage(format!("--threshold {threshold} is not in [0, 1]")));
    }
    let format = Format::of(&args.out);
    let mut out = AtomicOutput::create(&args.out)?;
    let mut writer = ScoreWriter {
        bundle: &bundle,
        compiled: bundle.ensemble.flatten(),
        format,
        explain: args.explain,
        threshold,
        reasons: args.reasons.min(bundle.schema.num_model_features()),
        reasons_for: args.reasons_for,
        phi: Vec::new(),
    };
    if let Err(e) = writer.header(&mut out.writer).map_err(CliError::io(&args.out)) {
        out.abandon();
        return Err(e);
    }
    let mut validation = Validation::new(&args.input);
    let mut pending: Vec<ValidRecord> = Vec::with_capacity(CHUNK);
    let mut progress = Progress::new("scored");
    let mut rows = 0u64;
    let unknown = if args.ignore_unknown_columns { UnknownColumns::Ignore } else { UnknownColumns::Refuse };
    let result = for_each_record(&args.input, |row, record| {
        rows = row;
        let record = unknown.apply(&bundle.schema, record);
        if let Some(valid) = validation.check(&bundle.schema, row, &record)
            && validation.all_valid()
        {
            pending.push(valid);
            if pending.len() == CHUNK {
                writer.write_chunk(&mut out.writer, &pending).map_err(CliError::io(&args.out))?;
                pending.clear();
            }
        }
        progress.update(row, None);
        Ok(())
    })
    .and_then(|()| validation.finish())
    .and_then(|()| writer.write_chunk(&mut out.writer, &pending).map_err(CliError::io(&args.out)));
    match result {
        Ok(()) => {
            progress.finish(rows);
            out.commit()
        }
        Err(e) => {
            out.abandon();
            Err(e)
        }
    }
}

struct ScoreWriter<'b> {
    bundle: &'b Bundle,
    /// The model compiled once for every chunk.
    compiled: Option<FlatForest>,
    format: Format,
    explain: bool,
    threshold: f64,
    reasons: usize,
    reasons_for: ReasonsFor,
    phi: Vec<f64>,
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
            for name in &self.bundle.schema.model_features {
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

    fn write_chunk(&mut self, out: &mut impl Write, records: &[ValidRecord]) -> std::io::Result<()> {
        let scores = self.bundle.score_records(self.compiled.as_ref(), records);
        // CSV rows of the chunk, quoted by the csv crate, then written out at once.
        let mut csv = CsvOut::new(Vec::with_capacity(if self.format == Format::Csv { 1 << 16 } else { 0 }));
        for (record, score) in records.iter().zip(&scores) {
            let prediction = Bundle::decide(score.probability, self.threshold);
            let points = self.bundle.points(score.probability);
            let want_reasons = self.reasons > 0 && (prediction == 1 || self.reasons_for == ReasonsFor::All);
            if self.explain || want_reasons {
                self.bundle.shap_values(record, &mut self.phi);
            }
            let reasons = if want_reasons {
                self.bundle.reasons_from_shap(record, &self.phi, self.reasons)
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
                        for v in &self.phi {
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
                    let mut line = serde_json::json!({
                        "sk_id_curr": record.id,
                        "raw_score": score.raw_score,
                        "probability": score.probability,
                        "score": points,
                        "prediction": prediction,
                    });
                    if want_reasons {
                        line["reasons"] = serde_json::to_value(&reasons).unwrap_or_default();
                    }
                    if !record.warnings.is_empty() {
                        line["warnings"] = serde_json::to_value(&record.warnings).unwrap_or_default();
                    }
                    if self.explain {
                        let names = self.bundle.schema.model_features.iter().map(String::as_str);
                        for (name, v) in names.chain(["bias"]).zip(&self.phi) {
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
