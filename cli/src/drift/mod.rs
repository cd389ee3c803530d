//! `creditscore drift`: the data-drift report (docs/DRIFT.md).
//!
//! Streams the prediction logs (JSONL, bounded memory whatever their length), compares each
//! client input with the training reference using the core's drift statistics, and writes
//! `DIR/drift_report.html` (self-contained, inline SVG, no JavaScript) and `DIR/drift_summary.json`.
//!
//! Exit codes: 0 report written; 3 report written and at least one feature has status `drift`
//! while `--fail-on-drift` is given; 1 I/O problem; 2 bad usage or unusable input (bundle,
//! reference). Malformed log lines never stop the report: they are counted and sampled.

mod html;
mod logs;
mod reference;
#[cfg(test)]
mod simulation;

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use creditscore_core::drift::monitor::{
    LatencyHistogram, PROBABILITY_BINS, Period, ProbabilityHistogram, TimeSeries,
};
use creditscore_core::drift::numeric::PSI_BINS;
use creditscore_core::drift::stats::PSI_EPSILON;
use creditscore_core::drift::{
    self, CategoricalAccumulator, Comparison, Config, FeatureDrift, NumericAccumulator, NumericReference,
    RateComparison, ReadingCounts, Status, Verdict, compare_categorical, compare_numeric,
};
use serde::Serialize;

use crate::error::CliError;
use crate::input::write_atomically;
use creditscore_core::schema::shorten;
use creditscore_core::schema::{InputReading, IssueCode, RawValue};
use logs::{CappedCounter, InputValue, Line, LineReader, MAX_MALFORMED_EXAMPLES, MalformedLine, Num, TsForm};
use reference::{FeatureKind, References};

/// Exit code when `--fail-on-drift` is given and the overall status is `drift`.
pub const DRIFT_EXIT_CODE: i32 = 3;
/// Exit code when the logs hold no usable record (every line malformed, or none at all): the
/// report is still written, with the reasons.
pub const NO_RECORDS_EXIT_CODE: i32 = 4;

/// How a written report ends: `main` turns it into the process exit code (no `process::exit`
/// below `main`, so buffers are flushed and destructors run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Report written; exit 0.
    Written,
    /// No usable log record: exit [`NO_RECORDS_EXIT_CODE`].
    NoUsableRecords,
    /// `--fail-on-drift` and the status is `drift`: exit [`DRIFT_EXIT_CODE`].
    DriftDetected,
}

impl Ending {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Ending::Written => 0,
            Ending::NoUsableRecords => NO_RECORDS_EXIT_CODE as u8,
            Ending::DriftDetected => DRIFT_EXIT_CODE as u8,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Prediction logs, one JSON record per line: files (plain or gzip, `-` reads standard
    /// input) and directories (every *.ndjson, *.ndjson.gz, *.jsonl, *.jsonl.gz file below, sorted
    /// by path); several may follow one --logs, or --logs may be repeated. A record repeated
    /// (same request_id and record_index) counts once.
    #[arg(long, num_args = 1.., required = true)]
    logs: Vec<PathBuf>,
    /// Model bundle (.csb): schema, threshold and, unless --reference is given, the reference.
    #[arg(long)]
    bundle: PathBuf,
    /// Reference sample with the training columns, CSV or Parquet (by the extension .parquet/.pq):
    /// exact KS and reference scores.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Exit with code 3 when the overall status is `drift` (for schedulers).
    #[arg(long)]
    fail_on_drift: bool,
    /// Only records at or after this time (RFC 3339; a date = its midnight UTC; ISO 8601 without
    /// a zone = UTC). Records
    /// without a readable time are then left out (and counted).
    #[arg(long, value_parser = crate::input::time_bound)]
    since: Option<i64>,
    /// Only records before this time (as --since).
    #[arg(long, value_parser = crate::input::time_bound)]
    until: Option<i64>,
    /// Compare only these inputs (comma-separated names); default: every input with a reference.
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Fewer current values than this: `insufficient_data` (default: docs/DRIFT.md, Config).
    #[arg(long)]
    min_rows: Option<u64>,
    /// PSI at or above which a significant shift is `drift` (`watch` from half of it).
    #[arg(long)]
    psi_threshold: Option<f64>,
    /// Significance level of the Benjamini-Hochberg adjusted p-values.
    #[arg(long)]
    alpha: Option<f64>,
    /// Inputs that must drift for the inputs alone to make the overall status `drift`.
    #[arg(long)]
    min_drift_features: Option<usize>,
    /// Also judge the records of each `model_version` on their own (one section each, with its
    /// own verdict); the overall status and exit code stay those of all records.
    #[arg(long)]
    by_version: bool,
}

/// The report's thresholds: the defaults of [`Config`], overridden by the options given.
fn config(args: &Args) -> Result<Config, CliError> {
    let mut cfg = Config::default();
    if let Some(n) = args.min_rows {
        cfg.min_current_rows = n.max(1);
    }
    if let Some(x) = args.psi_threshold {
        if !(x.is_finite() && x > 0.0) {
            return Err(CliError::Usage(format!("--psi-threshold {x}: must be a positive number")));
        }
        cfg.psi_drift = x;
        cfg.psi_watch = x / 2.0;
    }
    if let Some(a) = args.alpha {
        if !(a > 0.0 && a < 1.0) {
            return Err(CliError::Usage(format!("--alpha {a}: must be in (0, 1)")));
        }
        cfg.alpha = a;
    }
    if let Some(n) = args.min_drift_features {
        cfg.min_drift_inputs = n.max(1);
    }
    Ok(cfg)
}

enum Accumulator {
    Numeric(NumericAccumulator),
    Categorical(CategoricalAccumulator, creditscore_core::schema::CategoricalSpec),
}

/// Everything gathered from the logs in one pass.
struct LogStats {
    /// Log files read.
    files: u64,
    /// Records dropped because one with the same request_id and record_index was read before.
    duplicate_records: u64,
    /// Bytes of log text (after decompression).
    bytes: u64,
    lines: u64,
    blank_lines: u64,
    malformed: u64,
    malformed_examples: Vec<MalformedLine>,
    records: u64,
    scored: u64,
    errors: u64,
    refused: u64,
    with_prediction: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    without_ts: u64,
    /// Records left out by --since/--until (or without a time while a window is given).
    outside_window: u64,
    /// Timestamps without a zone, read as UTC.
    ts_naive: u64,
    /// Timestamps that could not be read (the record is kept, without a time).
    ts_unreadable: u64,
    ts_unreadable_examples: Vec<MalformedLine>,
    /// Keys given more than once in a record (last value kept), top level and `inputs`.
    duplicate_keys: u64,
    records_with_duplicate_keys: u64,
    /// Non-finite numbers (NaN, Infinity, 1e400) per input: counted as missing for that input.
    non_finite: CappedCounter,
    error_codes: CappedCounter,
    /// Inputs of a type no feature takes (e.g. a string for a numeric input).
    type_mismatches: CappedCounter,
    model_versions: CappedCounter,
    warnings: CappedCounter,
    latency: LatencyHistogram,
    time: TimeSeries,
    probabilities: ProbabilityHistogram,
}

pub fn run(args: Args) -> Result<Ending, CliError> {
    let cfg = config(&args)?;
    // An empty window is a mistake in the command, not "no record" (GET /logs answers 422 too).
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since >= until
    {
        return Err(CliError::Usage(format!(
            "--since {} is not before --until {}: the window [since, until) is empty",
            format_ts(since),
            format_ts(until)
        )));
    }
    let bundle = crate::input::load_bundle(&args.bundle)?;
    let mut refs = reference::load(&bundle, args.reference.as_deref())?;
    if let Some(names) = &args.features {
        if let Some(bad) = names.iter().find(|n| !refs.features.iter().any(|f| &f.name == *n)) {
            let known: Vec<&str> = refs.features.iter().map(|f| f.name.as_str()).collect();
            let hint = creditscore_core::schema::closest(bad, known.iter().copied())
                .map_or(String::new(), |c| format!(" (did you mean `{c}`?)"));
            return Err(CliError::Usage(format!(
                "--features: `{bad}` is not an input with a reference{hint}"
            )));
        }
        refs.features.retain(|f| names.contains(&f.name));
    }
    let files = logs::expand_inputs(&args.logs).map_err(|(path, e)| CliError::io(&path)(e))?;
    let sources = files.into_iter().map(LogSource::Path).collect();
    let (stats, judged, sections) = analyse(&refs, &cfg, sources, (args.since, args.until), args.by_version)?;
    let mut summary = build_summary(&args, &bundle, &refs, &stats, judged, cfg);
    summary.by_version = sections
        .into_iter()
        .map(|(version, part, j)| VersionSection {
            is_bundle_version: version == bundle.meta().version,
            model_version: version,
            records: part.records,
            scored: part.scored,
            errors: part.errors,
            status: j.verdict.status,
            verdict: j.verdict,
            features: j.features,
            score: j.score,
            refusal: j.refusal,
        })
        .collect();
    if !summary.by_version.is_empty() {
        let parts: Vec<String> =
            summary.by_version.iter().map(|v| format!("{} {}", v.model_version, v.status.as_str())).collect();
        summary.headline.push(format!("by model_version: {}", parts.join(", ")));
    }
    std::fs::create_dir_all(&args.out).map_err(CliError::io(&args.out))?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| CliError::Other(e.to_string()))?;
    write_atomically(&args.out.join("drift_summary.json"), &json)?;
    write_atomically(&args.out.join("drift_report.html"), html::render(&summary).as_bytes())?;

    let count = |s: Status| summary.features.iter().filter(|f| f.status == s).count();
    println!(
        "drift: {} -> {}\n  {} log lines in {} file(s) ({} malformed), {} records ({} duplicates dropped); inputs: {} drift, {} watch, {} insufficient data, {} not sent",
        summary.status.as_str(),
        args.out.join("drift_report.html").display(),
        stats.lines,
        stats.files,
        stats.malformed,
        stats.records,
        stats.duplicate_records,
        count(Status::Drift),
        count(Status::Watch),
        count(Status::InsufficientData),
        count(Status::NotSent),
    );
    for line in &summary.headline {
        println!("  {line}");
    }
    if stats.records == 0 {
        let _ = std::io::stdout().flush();
        let why = match stats.malformed_examples.first() {
            _ if stats.outside_window > 0 => {
                format!("all {} records are outside --since/--until", stats.outside_window)
            }
            Some(m) => format!(
                "{} of {} lines are malformed (line {}: {})",
                stats.malformed, stats.lines, m.line, m.reason
            ),
            None => String::from("the logs are empty"),
        };
        eprintln!("drift: no usable log record: {why}: exit code {NO_RECORDS_EXIT_CODE}");
        return Ok(Ending::NoUsableRecords);
    }
    if args.fail_on_drift && summary.status == Status::Drift {
        let _ = std::io::stdout().flush();
        eprintln!("drift detected ({}): exit code {DRIFT_EXIT_CODE}", summary.verdict.reasons.join("; "));
        return Ok(Ending::DriftDetected);
    }
    Ok(Ending::Written)
}

/// One part of the logs (all of them, or one `model_version`): what is compared with the
/// reference.
struct Part {
    accumulators: Vec<Accumulator>,
    score_acc: NumericAccumulator,
    /// Per input: records whose `inputs` hold the key (even as null).
    sent: Vec<u64>,
    /// Per input: how its values were read (missing, sentinel, unknown levels, invalid by code).
    readings: Vec<ReadingCounts>,
    records: u64,
    errors: u64,
    scored: u64,
    refused: u64,
    with_prediction: u64,
}

impl Part {
    fn new(refs: &References) -> Self {
        let accumulators: Vec<Accumulator> = refs
            .features
            .iter()
            .map(|f| match &f.kind {
                FeatureKind::Numeric { reference, .. } => {
                    Accumulator::Numeric(NumericAccumulator::new(reference))
                }
                FeatureKind::Categorical { reference, spec } => {
                    Accumulator::Categorical(CategoricalAccumulator::new(reference), spec.clone())
                }
            })
            .collect();
        let score_reference = refs
            .score
            .as_ref()
            .map(|s| s.reference.clone())
            .unwrap_or(NumericReference::Sample { sorted: vec![], missing: 0 });
        let n = accumulators.len();
        Part {
            accumulators,
            score_acc: NumericAccumulator::new(&score_reference),
            sent: vec![0; n],
            readings: vec![ReadingCounts::default(); n],
            records: 0,
            errors: 0,
            scored: 0,
            refused: 0,
            with_prediction: 0,
        }
    }

    /// Adds a scored record's probability and decision.
    fn score(&mut self, probability: Option<f64>, prediction: Option<f64>) {
        self.scored += 1;
        if let Some(p) = probability {
            self.score_acc.push(p);
        }
        if let Some(p) = prediction {
            self.with_prediction += 1;
            self.refused += u64::from(p >= 1.0);
        }
    }

    /// Adds input `i` of a scored record, as read by the scorer's rule.
    fn input(&mut self, i: usize, sent: bool, reading: &InputReading<'_>, shown: impl FnOnce() -> String) {
        self.sent[i] += u64::from(sent);
        self.readings[i].add(reading, shown);
        match (&mut self.accumulators[i], *reading) {
            (Accumulator::Numeric(a), InputReading::Number(v)) => a.push(v),
            (Accumulator::Categorical(a, spec), InputReading::Level { code, .. }) => {
                a.push(&spec.levels[code])
            }
            (Accumulator::Categorical(a, _), InputReading::UnknownLevel(t)) => a.push(t),
            (Accumulator::Numeric(a), _) => a.push_missing(),
            (Accumulator::Categorical(a, _), _) => a.push_missing(),
        }
    }

    /// Compares this part with the reference and judges it (its own multiple-testing family).
    fn judge(&self, refs: &References, cfg: &Config) -> Judgement {
        let mut features: Vec<FeatureDrift> = refs
            .features
            .iter()
            .zip(&self.accumulators)
            .zip(&self.sent)
            .zip(&self.readings)
            .map(|(((spec, acc), &sent), current)| {
                let comparison = match (&spec.kind, acc) {
                    (FeatureKind::Numeric { reference, .. }, Accumulator::Numeric(a)) => {
                        Comparison::Numeric(compare_numeric(reference, a))
                    }
                    (FeatureKind::Categorical { reference, .. }, Accumulator::Categorical(a, _)) => {
                        Comparison::Categorical(compare_categorical(reference, a, cfg.min_expected_count))
                    }
                    _ => unreachable!("accumulators are built from the same specs"),
                };
                let mut f = FeatureDrift::new(spec.name.clone(), comparison);
                f.sent_share = (self.scored > 0).then(|| sent as f64 / self.scored as f64);
                f.reference_reading = spec.reading.clone();
                f.current_reading = Some(current.clone());
                f
            })
            .collect();
        // The reference scores are comparable with the logged ones only when the clients send
        // every input the reference was scored with (an unsent input is missing for the model in
        // production, not in the reference).
        let unsent: Vec<String> = features
            .iter()
            .filter(|f| f.sent_share.is_some_and(|s| s < cfg.not_sent_max_share))
            .map(|f| f.name.clone())
            .collect();
        let score_unsent: Vec<String> = refs
            .score
            .as_ref()
            .map(|s| s.inputs.iter().filter(|n| unsent.contains(n)).cloned().collect())
            .unwrap_or_default();
        let comparable = score_unsent.is_empty();
        let mut score = refs.score.as_ref().map(|s| {
            FeatureDrift::new(
                String::from("predicted probability"),
                Comparison::Numeric(compare_numeric(&s.reference, &self.score_acc)),
            )
        });
        let mut refusal = refs.score.as_ref().and_then(|r| {
            let rate = r.refusal_rate?;
            Some(drift::compare_rate(rate, r.rows, self.refused, self.with_prediction))
        });
        let verdict = if comparable {
            drift::judge(&mut features, score.as_mut(), refusal.as_mut(), cfg)
        } else {
            // Shown, not judged: judged apart so that they do not enter the inputs' adjustment.
            let v = drift::judge(&mut features, None, None, cfg);
            drift::judge(&mut [], score.as_mut(), refusal.as_mut(), cfg);
            v
        };
        Judgement { features, score, refusal, score_unsent, verdict }
    }
}

/// Most model versions given their own section with `--by-version`; the records of further
/// versions are pooled into one section (bounded memory: one set of accumulators per section).
const MAX_VERSION_SECTIONS: usize = 20;
/// The section of records without a `model_version`.
const NO_VERSION: &str = "(no model_version)";
/// The section pooling versions beyond [`MAX_VERSION_SECTIONS`].
const OTHER_VERSIONS: &str = "(other versions)";

/// One `model_version`'s records and their judgement (`--by-version`).
type VersionPart = (String, Part, Judgement);

/// Reads the logs and judges them against the reference: the whole report but its writing.
/// With `by_version`, each `model_version` is also judged on its own.
fn analyse(
    refs: &References,
    cfg: &Config,
    sources: Vec<LogSource<'_>>,
    window: (Option<i64>, Option<i64>),
    by_version: bool,
) -> Result<(LogStats, Judgement, Vec<VersionPart>), CliError> {
    let mut all = Part::new(refs);
    let mut versions = by_version.then(std::collections::BTreeMap::new);
    let stats = read_logs(sources, refs, &mut all, versions.as_mut(), window)?;
    let judged = all.judge(refs, cfg);
    let sections = versions
        .unwrap_or_default()
        .into_iter()
        .map(|(v, part)| {
            let j = part.judge(refs, cfg);
            (v, part, j)
        })
        .collect();
    Ok((stats, judged, sections))
}

/// One input of the report: a file (`-` = standard input), or a reader (tests).
pub enum LogSource<'a> {
    Path(PathBuf),
    #[cfg_attr(not(test), allow(dead_code))]
    Reader(Box<dyn std::io::Read + 'a>),
}

fn read_logs(
    sources: Vec<LogSource<'_>>,
    refs: &References,
    all: &mut Part,
    mut versions: Option<&mut std::collections::BTreeMap<String, Part>>,
    (since, until): (Option<i64>, Option<i64>),
) -> Result<LogStats, CliError> {
    // Progress counts the bytes read from disk against the files' sizes (unknown with stdin).
    let total: Option<u64> = sources
        .iter()
        .map(|s| match s {
            LogSource::Path(p) if p != Path::new("-") => std::fs::metadata(p).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    let raw_bytes = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let name_files = sources.len() > 1;
    let mut seen = logs::SeenRecords::default();
    let index: std::collections::HashMap<&str, usize> =
        refs.features.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect();
    // Per input, the position in the record's `inputs` of its last occurrence (last key wins).
    let mut chosen: Vec<Option<usize>> = vec![None; refs.features.len()];
    let mut scratch = Vec::new();
    let mut s = LogStats {
        files: 0,
        duplicate_records: 0,
        bytes: 0,
        lines: 0,
        blank_lines: 0,
        malformed: 0,
        malformed_examples: Vec::new(),
        records: 0,
        scored: 0,
        errors: 0,
        refused: 0,
        with_prediction: 0,
        first_ts: None,
        last_ts: None,
        without_ts: 0,
        outside_window: 0,
        ts_naive: 0,
        ts_unreadable: 0,
        ts_unreadable_examples: Vec::new(),
        duplicate_keys: 0,
        records_with_duplicate_keys: 0,
        non_finite: CappedCounter::new(200),
        error_codes: CappedCounter::new(100),
        type_mismatches: CappedCounter::new(200),
        model_versions: CappedCounter::new(50),
        warnings: CappedCounter::new(1000),
        latency: LatencyHistogram::default(),
        time: TimeSeries::default(),
        probabilities: ProbabilityHistogram::default(),
    };
    let mut progress = ProgressBar::new(total);
    let mut buf = Vec::with_capacity(64 * 1024);
    for source in sources {
        let (name, reader): (PathBuf, Box<dyn std::io::Read>) = match source {
            LogSource::Path(p) if p == Path::new("-") => (p, Box::new(std::io::stdin().lock())),
            LogSource::Path(p) => {
                let file = File::open(&p).map_err(CliError::io(&p))?;
                (p, Box::new(logs::Counting::new(file, raw_bytes.clone())))
            }
            LogSource::Reader(r) => (PathBuf::from("-"), r),
        };
        let reader = logs::decompressed(reader).map_err(CliError::io(&name))?;
        let file = name_files.then(|| name.display().to_string());
        let mut lines = LineReader::new(BufReader::with_capacity(1 << 20, crate::input::without_bom(reader)));
        s.files += 1;
        let mut line_no = 0u64;
        loop {
            let line = lines.next_line(&mut buf).map_err(CliError::io(&name))?;
            let malformed = |s: &mut LogStats, line: u64, reason: String| {
                s.malformed += 1;
                if s.malformed_examples.len() < MAX_MALFORMED_EXAMPLES {
                    s.malformed_examples.push(MalformedLine {
                        file: file.clone(),
                        line,
                        reason: shorten(&reason, 200),
                    });
                }
            };
            line_no += 1;
            match line {
                Line::End => break,
                Line::TooLong(n) => {
                    s.lines += 1;
                    malformed(
                        &mut s,
                        line_no,
                        format!("line of {n} bytes exceeds the {} byte limit", logs::MAX_LINE_BYTES),
                    );
                    continue;
                }
                Line::Complete => s.lines += 1,
            }
            if s.lines.is_multiple_of(4096) {
                progress.update(raw_bytes.get(), s.lines);
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                s.blank_lines += 1;
                continue;
            }
            let record = match logs::parse_line(&buf, &mut scratch) {
                Ok(r) => r,
                Err(reason) => {
                    malformed(&mut s, line_no, reason);
                    continue;
                }
            };
            let epoch = match record.ts.as_deref() {
                None => None,
                Some(ts) => match logs::parse_timestamp(ts) {
                    Some((t, form)) => {
                        s.ts_naive += u64::from(form == TsForm::Naive);
                        Some(t)
                    }
                    None => {
                        s.ts_unreadable += 1;
                        if s.ts_unreadable_examples.len() < MAX_MALFORMED_EXAMPLES {
                            s.ts_unreadable_examples.push(MalformedLine {
                                file: file.clone(),
                                line: line_no,
                                reason: format!("ts `{}` is not a timestamp", shorten(ts, 40)),
                            });
                        }
                        None
                    }
                },
            };
            if since.is_some() || until.is_some() {
                let inside =
                    epoch.is_some_and(|t| since.is_none_or(|a| t >= a) && until.is_none_or(|b| t < b));
                if !inside {
                    s.outside_window += 1;
                    continue;
                }
            }
            // A copy of a record already read (at-least-once delivery, overlapping files).
            if let Some(id) = record.request_id.as_deref()
                && !seen.insert(id, record.record_index)
            {
                s.duplicate_records += 1;
                continue;
            }
            s.records += 1;
            let mut duplicates = u64::from(record.duplicate_keys);
            match epoch {
                Some(t) => {
                    s.first_ts = Some(s.first_ts.map_or(t, |f| f.min(t)));
                    s.last_ts = Some(s.last_ts.map_or(t, |l| l.max(t)));
                }
                None => s.without_ts += 1,
            }
            if let Some(v) = &record.model_version {
                s.model_versions.add(v);
            }
            let mut part = versions.as_deref_mut().map(|m| {
                let key = record.model_version.as_deref().unwrap_or(NO_VERSION);
                let key =
                    if m.contains_key(key) || m.len() < MAX_VERSION_SECTIONS { key } else { OTHER_VERSIONS };
                m.entry(key.to_owned()).or_insert_with(|| Part::new(refs))
            });
            all.records += 1;
            if let Some(p) = part.as_deref_mut() {
                p.records += 1;
            }
            if let Some(l) = record.latency_us.and_then(Num::finite) {
                s.latency.push(l);
            }
            if let Some(error) = &record.error {
                s.errors += 1;
                all.errors += 1;
                if let Some(p) = part.as_deref_mut() {
                    p.errors += 1;
                }
                s.error_codes.add(error.code.as_deref().unwrap_or("(no code)"));
                if let Some(t) = epoch {
                    s.time.add(t, 1, 0, 1);
                }
                s.duplicate_keys += duplicates;
                s.records_with_duplicate_keys += u64::from(duplicates > 0);
                continue;
            }
            s.scored += 1;
            let probability = record.probability.and_then(Num::finite);
            if let Some(p) = probability {
                s.probabilities.push(p);
            }
            let prediction = record.prediction.and_then(Num::finite);
            let refused = prediction.is_some_and(|p| p >= 1.0);
            if prediction.is_some() {
                s.with_prediction += 1;
                s.refused += u64::from(refused);
            }
            all.score(probability, prediction);
            if let Some(p) = part.as_deref_mut() {
                p.score(probability, prediction);
            }
            if let Some(t) = epoch {
                s.time.add(t, 1, u64::from(refused), 0);
            }
            for w in &record.warnings {
                s.warnings.add(&format!("{}\t{}", w.field, w.code));
            }
            let inputs: &[(std::borrow::Cow<'_, str>, InputValue<'_>)] =
                record.inputs.as_ref().map_or(&[], |i| i.0.as_slice());
            chosen.iter_mut().for_each(|x| *x = None);
            for (k, (name, _)) in inputs.iter().enumerate() {
                let Some(&i) = index.get(name.as_ref()) else { continue };
                duplicates += u64::from(chosen[i].is_some());
                chosen[i] = Some(k);
            }
            s.duplicate_keys += duplicates;
            s.records_with_duplicate_keys += u64::from(duplicates > 0);
            for (i, spec) in refs.features.iter().enumerate() {
                let field = &spec.field;
                let (name, value) = match chosen[i] {
                    Some(k) => {
                        let (name, value) = &inputs[k];
                        (name.as_ref(), Some(value))
                    }
                    None => (field.name.as_str(), None),
                };
                // The scorer's own reading (InputField::read), as for the reference sample.
                let raw = value.map(|v| match v {
                    InputValue::Number(x) => RawValue::Number(x.as_f64().unwrap_or(f64::NAN)),
                    InputValue::NonFinite => RawValue::Number(f64::NAN),
                    InputValue::Text(t) => RawValue::String(t),
                    InputValue::Bool(b) => RawValue::Bool(*b),
                    InputValue::Null => RawValue::Null,
                    InputValue::Other(_) => RawValue::Composite,
                });
                let reading = field.read(raw);
                let shown = || match value {
                    Some(InputValue::Text(t)) => t.to_string(),
                    Some(InputValue::Number(x)) => x.to_string(),
                    Some(InputValue::NonFinite) => String::from("non-finite number"),
                    Some(InputValue::Bool(b)) => b.to_string(),
                    _ => String::from("an array or object"),
                };
                match reading {
                    InputReading::Invalid(IssueCode::NotFinite) => s.non_finite.add(name),
                    InputReading::Invalid(IssueCode::WrongType) => s.type_mismatches.add(name),
                    _ => {}
                }
                all.input(i, value.is_some(), &reading, shown);
                if let Some(p) = part.as_deref_mut() {
                    p.input(i, value.is_some(), &reading, shown);
                }
            }
        }
        s.bytes += lines.bytes_read;
    }
    progress.finish(s.bytes, s.lines);
    Ok(s)
}

/// Progress on stderr, only when it is a terminal: bytes read of the file, lines and rate.
struct ProgressBar {
    enabled: bool,
    total: Option<u64>,
    started: Instant,
    last: Instant,
}

impl ProgressBar {
    fn new(total: Option<u64>) -> Self {
        let now = Instant::now();
        ProgressBar { enabled: std::io::stderr().is_terminal(), total, started: now, last: now }
    }

    fn update(&mut self, bytes: u64, lines: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let rate = lines as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let mut err = std::io::stderr().lock();
        let _ = match self.total {
            Some(t) if t > 0 => {
                let frac = (bytes as f64 / t as f64).min(1.0);
                let filled = (frac * 30.0) as usize;
                write!(
                    err,
                    "\rdrift [{}{}] {:5.1}%  {lines} lines  {rate:.0} lines/s ",
                    "#".repeat(filled),
                    "-".repeat(30 - filled),
                    frac * 100.0
                )
            }
            _ => write!(err, "\rdrift: {lines} lines  {rate:.0} lines/s "),
        };
    }

    fn finish(&self, _bytes: u64, lines: u64) {
        if self.enabled {
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!("\rdrift: {lines} lines read in {secs:.1} s{}", " ".repeat(40));
        }
    }
}

#[derive(Serialize)]
pub struct Summary {
    pub tool: String,
    /// Overall status (see [`drift::verdict`]): inputs, score distribution and refusal rate.
    pub status: Status,
    /// What a reader must know first, one sentence each (the verdict's reasons, another model
    /// version, inputs not sent, records not read).
    pub headline: Vec<String>,
    pub verdict: Verdict,
    pub exit_code_on_drift: i32,
    pub logs: LogSummary,
    pub bundle: BundleSummary,
    pub reference: ReferenceSummary,
    pub thresholds: Thresholds,
    /// Most urgent first.
    pub features: Vec<FeatureDrift>,
    pub skipped_features: Vec<Skipped>,
    pub score: ScoreSummary,
    pub latency_us: LatencySummary,
    pub warnings: Vec<WarningCount>,
    pub warnings_other: u64,
    pub type_mismatches: Vec<(String, u64)>,
    /// With `--by-version`: the records of each `model_version` judged on their own.
    pub by_version: Vec<VersionSection>,
}

/// The report of one `model_version`'s records (`--by-version`).
#[derive(Serialize)]
pub struct VersionSection {
    /// The logged version; `(no model_version)` for records without one, `(other versions)` for
    /// the versions beyond the first 20 seen.
    pub model_version: String,
    /// Whether it is the bundle's own version.
    pub is_bundle_version: bool,
    pub records: u64,
    pub scored: u64,
    pub errors: u64,
    /// This version's status (inputs, score distribution and refusal rate, as the overall one).
    pub status: Status,
    pub verdict: Verdict,
    /// Most urgent first.
    pub features: Vec<FeatureDrift>,
    pub score: Option<FeatureDrift>,
    pub refusal: Option<RateComparison>,
}

#[derive(Serialize)]
pub struct LogSummary {
    /// The `--logs` arguments, comma-separated.
    pub path: String,
    /// Files read (a directory contributes each log file below it).
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    pub blank_lines: u64,
    pub malformed_lines: u64,
    pub malformed_examples: Vec<MalformedLine>,
    /// Unique records used (inside --since/--until, duplicates dropped).
    pub records: u64,
    /// Records dropped as copies of one already read: same `request_id` and `record_index`
    /// (at-least-once delivery of the queue path, overlapping pulls).
    pub duplicate_records: u64,
    pub scored: u64,
    pub errors: u64,
    pub error_share: Option<f64>,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub records_without_ts: u64,
    /// Records left out by --since/--until.
    pub records_outside_window: u64,
    /// Timestamps without a time zone, read as UTC.
    pub records_with_naive_ts: u64,
    /// Records kept without a time because their `ts` could not be read.
    pub records_with_unreadable_ts: u64,
    pub unreadable_ts_examples: Vec<MalformedLine>,
    /// Keys repeated within a record (the last value is used, as Python's json does).
    pub duplicate_keys: u64,
    pub records_with_duplicate_keys: u64,
    /// Non-finite numbers (NaN, Infinity, 1e400) per input, counted as missing for that input only.
    pub non_finite_inputs: Vec<(String, u64)>,
    pub errors_by_code: Vec<(String, u64)>,
    pub model_versions: Vec<(String, u64)>,
}

#[derive(Serialize)]
pub struct BundleSummary {
    /// The bundle's scorecard scale (score points of a probability).
    pub score_scale: creditscore_core::scorecard::ScoreScale,
    pub path: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub threshold: f64,
}

#[derive(Serialize)]
pub struct ReferenceSummary {
    pub origin: String,
    pub exact_ks: bool,
}

#[derive(Serialize)]
pub struct Skipped {
    pub feature: String,
    pub reason: String,
}

#[derive(Serialize)]
pub struct Thresholds {
    /// Every threshold of the verdict (defaults from `Config`, overridden by options).
    #[serde(flatten)]
    pub config: Config,
    pub psi_bins: usize,
    pub psi_epsilon: f64,
    /// `--since` / `--until` as given (RFC 3339 UTC).
    pub since: Option<String>,
    pub until: Option<String>,
    /// `--features`, when given.
    pub features: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct ScoreSummary {
    pub reference_refusal_rate: Option<f64>,
    pub current_refusal_rate: Option<f64>,
    /// Refusal rate (logged `prediction` = 1) against the reference's.
    pub refusal: Option<RateComparison>,
    /// Whether the score comparison and the refusal rate enter the verdict: not when the clients
    /// do not send inputs the reference scores were computed with (listed here).
    pub comparable: bool,
    pub reference_inputs_not_sent: Vec<String>,
    /// Predicted-probability distribution against the reference scores (its own BH family).
    pub comparison: Option<FeatureDrift>,
    pub histogram_bins: usize,
    pub current_histogram: Vec<u64>,
    /// Reference share per histogram bin (empty without score reference).
    pub reference_histogram: Vec<f64>,
    /// The chart's periods, over a robust range (core `TimeSeries::chart`).
    pub over_time: Vec<Period>,
    /// Records whose time lies far outside the bulk of the logs (a client with a wrong clock):
    /// counted, not drawn.
    pub time_outliers: TimeOutliers,
}

#[derive(Serialize)]
pub struct TimeOutliers {
    pub records: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// Percentiles come from 2 %-wide log buckets.
    pub relative_resolution: f64,
}

#[derive(Serialize)]
pub struct WarningCount {
    pub field: String,
    pub code: String,
    pub count: u64,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn format_ts(epoch: i64) -> String {
    creditscore_core::time::rfc3339_utc_seconds(epoch)
}

/// What the statistics say, before it is written up.
struct Judgement {
    features: Vec<FeatureDrift>,
    score: Option<FeatureDrift>,
    refusal: Option<RateComparison>,
    /// Inputs the reference scores use that the clients do not send.
    score_unsent: Vec<String>,
    verdict: Verdict,
}

fn build_summary(
    args: &Args,
    bundle: &creditscore_core::Bundle,
    refs: &References,
    s: &LogStats,
    judged: Judgement,
    config: Config,
) -> Summary {
    let Judgement { features, score, refusal, score_unsent, verdict } = judged;
    let mut headline: Vec<String> = Vec::new();
    headline.extend(verdict.reasons.iter().cloned());
    let versions = s.model_versions.sorted();
    let other: u64 =
        versions.iter().filter(|(v, _)| *v != bundle.meta().version).map(|(_, c)| c).sum::<u64>()
            + s.model_versions.other;
    if other > 0 {
        let names: Vec<&str> = versions
            .iter()
            .filter(|(v, _)| *v != bundle.meta().version)
            .map(|(v, _)| v.as_str())
            .take(3)
            .collect();
        headline.push(format!(
            "{other} of {} records come from another model version than the bundle's `{}`: {}",
            s.records,
            bundle.meta().version,
            names.join(", ")
        ));
    }
    if verdict.inputs_not_sent > 0 {
        headline.push(format!("{} inputs are not sent by the clients (not judged)", verdict.inputs_not_sent));
    }
    if !score_unsent.is_empty() {
        headline.push(format!(
            "score distribution and refusal rate not judged: the reference scores use {} inputs the clients do not send (give --reference with the inputs they send)",
            score_unsent.len()
        ));
    }
    let rejected: Vec<String> = features
        .iter()
        .filter_map(|f| {
            let r = f.reference_reading.as_ref()?;
            (r.invalid_total() > 0).then(|| format!("{} {}", f.name, describe_invalid(r)))
        })
        .collect();
    if !rejected.is_empty() {
        let total: u64 = features
            .iter()
            .filter_map(|f| f.reference_reading.as_ref())
            .map(ReadingCounts::invalid_total)
            .sum();
        headline.push(format!(
            "{total} reference cells are values the scorer rejects, left out as missing: {}",
            rejected.join("; ")
        ));
    }
    if s.malformed > 0 {
        headline.push(format!("{} of {} lines are not usable records (see below)", s.malformed, s.lines));
    }
    if s.ts_naive > 0 {
        headline.push(format!("{} timestamps have no time zone: read as UTC", s.ts_naive));
    }
    let chart = s.time.chart(60);
    let status = verdict.status;
    let reference_histogram = match &refs.score {
        Some(r) => reference_histogram(&r.reference),
        None => Vec::new(),
    };
    let mut warnings: Vec<WarningCount> = s
        .warnings
        .sorted()
        .into_iter()
        .map(|(k, count)| {
            let (field, code) = k.split_once('\t').unwrap_or((k.as_str(), ""));
            WarningCount { field: field.to_owned(), code: code.to_owned(), count }
        })
        .collect();
    warnings.truncate(200);
    Summary {
        tool: format!("creditscore drift {}", env!("CARGO_PKG_VERSION")),
        status,
        headline,
        verdict,
        exit_code_on_drift: DRIFT_EXIT_CODE,
        logs: LogSummary {
            path: args.logs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            files: s.files,
            bytes: s.bytes,
            lines: s.lines,
            blank_lines: s.blank_lines,
            malformed_lines: s.malformed,
            malformed_examples: s.malformed_examples.clone(),
            records: s.records,
            duplicate_records: s.duplicate_records,
            scored: s.scored,
            errors: s.errors,
            error_share: (s.records > 0).then(|| s.errors as f64 / s.records as f64),
            first_ts: s.first_ts.map(format_ts),
            last_ts: s.last_ts.map(format_ts),
            records_without_ts: s.without_ts,
            records_outside_window: s.outside_window,
            records_with_naive_ts: s.ts_naive,
            records_with_unreadable_ts: s.ts_unreadable,
            unreadable_ts_examples: s.ts_unreadable_examples.clone(),
            duplicate_keys: s.duplicate_keys,
            records_with_duplicate_keys: s.records_with_duplicate_keys,
            non_finite_inputs: s.non_finite.sorted(),
            errors_by_code: s.error_codes.sorted(),
            model_versions: versions,
        },
        bundle: BundleSummary {
            score_scale: bundle.score_scale(),
            path: args.bundle.display().to_string(),
            name: bundle.meta().name.clone(),
            version: bundle.meta().version.clone(),
            sha256: bundle.sha256().to_string(),
            threshold: bundle.threshold().get(),
        },
        reference: ReferenceSummary { origin: refs.origin.clone(), exact_ks: refs.exact },
        thresholds: Thresholds {
            config,
            psi_bins: PSI_BINS,
            psi_epsilon: PSI_EPSILON,
            since: args.since.map(format_ts),
            until: args.until.map(format_ts),
            features: args.features.clone(),
        },
        features,
        skipped_features: refs
            .skipped
            .iter()
            .map(|(f, r)| Skipped { feature: f.clone(), reason: r.clone() })
            .collect(),
        score: ScoreSummary {
            reference_refusal_rate: refs.score.as_ref().and_then(|r| r.refusal_rate),
            current_refusal_rate: (s.with_prediction > 0)
                .then(|| s.refused as f64 / s.with_prediction as f64),
            refusal,
            comparable: score_unsent.is_empty(),
            reference_inputs_not_sent: score_unsent,
            comparison: score,
            histogram_bins: PROBABILITY_BINS,
            current_histogram: s.probabilities.counts.clone(),
            reference_histogram,
            over_time: chart.periods,
            time_outliers: TimeOutliers {
                records: chart.outside_records,
                first: chart.outside_first.map(format_ts),
                last: chart.outside_last.map(format_ts),
            },
        },
        latency_us: LatencySummary {
            count: s.latency.count(),
            mean: finite(s.latency.mean()),
            p50: finite(s.latency.quantile(0.5)),
            p90: finite(s.latency.quantile(0.9)),
            p99: finite(s.latency.quantile(0.99)),
            max: finite(s.latency.max()),
            relative_resolution: creditscore_core::drift::monitor::LATENCY_BUCKET_GROWTH - 1.0,
        },
        warnings,
        warnings_other: s.warnings.other,
        type_mismatches: s.type_mismatches.sorted(),
        by_version: Vec::new(),
    }
}

/// "12 (wrong_type 10, not_finite 2; e.g. `abc`)".
pub(crate) fn describe_invalid(r: &ReadingCounts) -> String {
    let codes: Vec<String> = r.invalid.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let example = r.invalid_example.as_deref().map_or(String::new(), |e| format!("; e.g. `{e}`"));
    format!("{} ({}{example})", r.invalid_total(), codes.join(", "))
}

/// Reference share of each probability-histogram bin ([a, b), the last bin closed at 1).
fn reference_histogram(reference: &NumericReference) -> Vec<f64> {
    (0..PROBABILITY_BINS)
        .map(|i| {
            let (a, b) = (i as f64 / PROBABILITY_BINS as f64, (i + 1) as f64 / PROBABILITY_BINS as f64);
            let upper = if i + 1 == PROBABILITY_BINS { 1.0 } else { reference.share_below(b) };
            (upper - reference.share_below(a)).max(0.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_ts(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_ts(creditscore_core::time::parse_rfc3339("2026-11-27T01:02:03Z").unwrap()),
            "2026-11-27T01:02:03Z"
        );
        assert_eq!(
            format_ts(creditscore_core::time::parse_rfc3339("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29T23:59:59Z"
        );
    }
}
