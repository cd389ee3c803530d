//! False-alarm and power simulation of the overall verdict (issue 10, fault 4), through the same
//! pipeline as `creditscore drift` (log lines parsed, accumulated, judged), in process.
//!
//! Traffic: clients that send the default bundle's 10 required inputs, each drawn from the
//! bundle's reference percentiles (inverse CDF, linear between percentiles) and missing rates,
//! scored by the bundle (probability, refusal at its threshold), as JSON log lines.
//! - reference = the bundle's statistics: windows of n in {100, 200, 1000} without drift, and
//!   with EXT_SOURCE_2 lowered by 0.15 at n = 1000;
//! - reference = a 2,000-row sample drawn alike (exact two-sample tests; score and refusal rate
//!   judged): windows without drift, and with the refusal rate doubled at n = 1000.
//!
//! Passes when the share of no-drift windows whose overall status is `drift` is <= 5 % at every
//! n, and the share of shifted windows that are `drift` is >= 95 %. Run with `--nocapture` to see
//! the measured shares.

use std::io::Write;

use creditscore_core::Bundle;
use creditscore_core::bundle::ReferenceDistribution;
use creditscore_core::drift::{Config, Status};
use creditscore_core::schema::{InputKind, RawValue};

use super::reference::{self, References};

const WINDOWS: usize = 200;

/// SplitMix64: a small seeded generator, so the simulation is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone)]
enum Value {
    Number(f64),
    Level(String),
    Null,
}

struct Traffic {
    bundle: Bundle,
    /// (name, required input spec index, reference distribution, missing rate)
    inputs: Vec<(String, usize, ReferenceDistribution, f64)>,
}

impl Traffic {
    fn new() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/default.csb");
        let bundle = crate::input::load_bundle(std::path::Path::new(path)).expect("default bundle");
        let stats = bundle.reference().expect("reference statistics");
        let inputs = bundle
            .schema()
            .inputs
            .iter()
            .enumerate()
            .filter(|(_, f)| f.required)
            .filter_map(|(i, f)| {
                let r = stats.features.iter().find(|r| r.name == f.name)?;
                Some((f.name.clone(), i, r.distribution.clone(), r.missing_rate))
            })
            .collect();
        Traffic { bundle, inputs }
    }

    fn record(&self, rng: &mut Rng, ext_source_2_shift: f64) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (name, i, dist, missing) in &self.inputs {
            let field = &self.bundle.schema().inputs[*i];
            let InputKind::Numeric(spec) = &field.kind else {
                let ReferenceDistribution::Categorical { levels, proportions } = dist else { unreachable!() };
                let (u, mut acc) = (rng.next(), 0.0);
                let total: f64 = proportions.iter().sum();
                let k = proportions.iter().position(|p| {
                    acc += p / total;
                    u < acc
                });
                out.push((name.clone(), Value::Level(levels[k.unwrap_or(levels.len() - 1)].clone())));
                continue;
            };
            if rng.next() < *missing {
                if field.nullable {
                    out.push((name.clone(), Value::Null));
                    continue;
                }
                if let Some(s) = spec.sentinel {
                    out.push((name.clone(), Value::Number(s)));
                    continue;
                }
            }
            let ReferenceDistribution::Numeric { quantiles, .. } = dist else { unreachable!() };
            let pos = rng.next() * (quantiles.len() - 1) as f64;
            let lo = (pos as usize).min(quantiles.len() - 2);
            let mut v = quantiles[lo] + (quantiles[lo + 1] - quantiles[lo]) * (pos - lo as f64);
            if name == "EXT_SOURCE_2" {
                v += ext_source_2_shift;
            }
            v = v.max(spec.valid_min.unwrap_or(f64::MIN)).min(spec.valid_max.unwrap_or(f64::MAX));
            if spec.integer {
                v = v.round();
            }
            out.push((name.clone(), Value::Number(v)));
        }
        out
    }

    fn probability(&self, record: &[(String, Value)]) -> f64 {
        let schema = &self.bundle.schema();
        let fields = std::iter::once((schema.id_field.as_str(), RawValue::Number(100_000.0))).chain(
            record.iter().map(|(n, v)| {
                let raw = match v {
                    Value::Number(x) => RawValue::Number(*x),
                    Value::Level(l) => RawValue::String(l),
                    Value::Null => RawValue::Null,
                };
                (n.as_str(), raw)
            }),
        );
        let valid = schema.validate(fields, "").expect("drawn records are valid");
        self.bundle.score(&valid).probability
    }

    /// `n` log lines; `refusal_boost` > 0 refuses that many more records at random (on top of
    /// the model's decision), a changed decision rule.
    fn lines(&self, rng: &mut Rng, n: usize, ext_source_2_shift: f64, refusal_boost: f64) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let record = self.record(rng, ext_source_2_shift);
            let p = self.probability(&record);
            let refused = p >= self.bundle.threshold().get() || rng.next() < refusal_boost;
            let inputs: serde_json::Map<String, serde_json::Value> = record
                .into_iter()
                .map(|(n, v)| {
                    let v = match v {
                        Value::Number(x) => serde_json::Value::from(x),
                        Value::Level(l) => serde_json::Value::from(l),
                        Value::Null => serde_json::Value::Null,
                    };
                    (n, v)
                })
                .collect();
            let line = serde_json::json!({
                "ts": format!("2026-11-20T00:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "model_version": self.bundle.meta().version,
                "inputs": inputs,
                "probability": p,
                "prediction": u8::from(refused),
            });
            let mut bytes = line.to_string().into_bytes();
            bytes.push(b'\n');
            out.push(bytes);
        }
        out
    }

    /// A reference sample of `rows` rows drawn alike, as a CSV file.
    fn reference_csv(&self, rng: &mut Rng, rows: usize, path: &std::path::Path) {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let names: Vec<&str> = self.inputs.iter().map(|(n, ..)| n.as_str()).collect();
        writeln!(f, "{}", names.join(",")).unwrap();
        for _ in 0..rows {
            let cells: Vec<String> = self
                .record(rng, 0.0)
                .into_iter()
                .map(|(_, v)| match v {
                    Value::Number(x) => format!("{x}"),
                    Value::Level(l) => l,
                    Value::Null => String::new(),
                })
                .collect();
            writeln!(f, "{}", cells.join(",")).unwrap();
        }
    }
}

/// Scored log lines drawn once; a window is `n` lines picked at random from the pool (scoring
/// every window's records afresh would make the test minutes long in a debug build). The pool is
/// much larger than a window, so its own sampling error is negligible next to the window's.
struct Pool(Vec<Vec<u8>>);

impl Pool {
    fn window(&self, rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n * 400);
        for _ in 0..n {
            out.extend_from_slice(&self.0[(rng.next() * self.0.len() as f64) as usize]);
        }
        out
    }
}

/// Share of `windows` windows whose overall status is `drift`, and what is named first.
fn drift_share(
    pool: &Pool,
    refs: &References,
    rng: &mut Rng,
    n: usize,
    windows: usize,
) -> (f64, std::collections::BTreeMap<String, usize>) {
    let cfg = Config::default();
    let mut drifts = 0;
    let mut first = std::collections::BTreeMap::new();
    for _ in 0..windows {
        let lines = pool.window(rng, n);
        let (_, judged, _) = super::analyse(
            refs,
            &cfg,
            vec![super::LogSource::Reader(Box::new(&lines[..]))],
            (None, None),
            false,
        )
        .unwrap();
        if judged.verdict.status == Status::Drift {
            drifts += 1;
            let what = match judged.features.first() {
                Some(f) if f.status == Status::Drift => f.name.clone(),
                _ => String::from("(score or refusal rate)"),
            };
            *first.entry(what).or_insert(0) += 1;
        }
    }
    (drifts as f64 / windows as f64, first)
}

#[test]
fn verdict_false_alarms_and_power() {
    let traffic = Traffic::new();
    let mut rng = Rng(2026);
    let bundle_refs = reference::load(&traffic.bundle, None).unwrap();
    let dir = std::env::temp_dir().join(format!("creditscore-drift-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("reference.csv");
    traffic.reference_csv(&mut rng, 2000, &csv);
    let sample_refs = reference::load(&traffic.bundle, Some(&csv)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let pool = Pool(traffic.lines(&mut rng, 20_000, 0.0, 0.0));
    let shifted = Pool(traffic.lines(&mut rng, 5_000, -0.15, 0.0));
    let rate = sample_refs.score.as_ref().and_then(|s| s.refusal_rate).unwrap();
    // Refusing another `boost` of the accepted ones doubles the rate: r + (1 - r) b = 2 r.
    let boosted = Pool(traffic.lines(&mut rng, 5_000, 0.0, rate / (1.0 - rate)));

    let mut failures = Vec::new();
    for (label, refs) in [("bundle reference", &bundle_refs), ("2,000-row reference sample", &sample_refs)] {
        for n in [100, 200, 1000] {
            let (share, first) = drift_share(&pool, refs, &mut rng, n, WINDOWS);
            eprintln!(
                "no drift, {label}, n = {n}: {:.1} % of {WINDOWS} windows drift {first:?}",
                share * 100.0
            );
            if share > 0.05 {
                failures.push(format!("{label}, n = {n}: false-alarm share {share}"));
            }
        }
    }
    let power_windows = WINDOWS / 2;
    let (share, first) = drift_share(&shifted, &bundle_refs, &mut rng, 1000, power_windows);
    eprintln!(
        "EXT_SOURCE_2 - 0.15, bundle reference, n = 1000: {:.1} % of {power_windows} windows drift {first:?}",
        share * 100.0
    );
    if share < 0.95 || first.get("EXT_SOURCE_2").copied().unwrap_or(0) * 100 < 95 * power_windows {
        failures.push(format!("EXT_SOURCE_2 shift: power {share}, first named {first:?}"));
    }
    let (share, first) = drift_share(&boosted, &sample_refs, &mut rng, 1000, power_windows);
    eprintln!(
        "refusal rate x2 ({:.1} % -> {:.1} %), reference sample, n = 1000: {:.1} % of {power_windows} windows drift {first:?}",
        rate * 100.0,
        rate * 200.0,
        share * 100.0
    );
    if share < 0.95 {
        failures.push(format!("refusal rate x2: power {share}"));
    }
    assert!(failures.is_empty(), "{failures:?}");
}
