//! Builds a small but complete bundle for the drift tests and benchmark, with reference
//! statistics computed from a reference CSV (as the training export does): 101 percentiles,
//! missing rates, level shares, and the percentiles of the bundle's own scores on that CSV.
//!
//! `cargo run -p creditscore-cli --example drift_fixture_bundle -- REF.csv OUT.csb`
//!
//! Inputs: AMT_CREDIT, AMT_ANNUITY, EXT_SOURCE_2, DAYS_EMPLOYED (sentinel 365243), CODE_GENDER,
//! FLAG_OWN_CAR; the trees are a hand-written stand-in for a trained model (the default model
//! comes from the training pipeline).

use std::collections::BTreeMap;
use std::process::ExitCode;

use creditscore_core::bundle::{
    BundleSpec, FeatureReference, Metadata, ReferenceDistribution, ReferenceStats, ScoreReference,
};
use creditscore_core::schema::{CategoricalSpec, InputField, InputKind, NumericSpec, RawValue, Schema};
use creditscore_core::test_support::{
    aliases, categorical_input, levels, numeric_input, split_in_set, split_le,
};
use creditscore_core::{Arithmetic, Bundle, Ensemble, Link, Node, Tree};

// Every input is optional and nullable: drift logs carry whatever the clients sent.
fn numeric(name: &str, spec: NumericSpec) -> InputField {
    numeric_input(name, false, true, spec)
}

fn categorical(name: &str, names: &[&str], spellings: &[(&str, &str)]) -> InputField {
    categorical_input(
        name,
        false,
        true,
        CategoricalSpec { levels: levels(names), aliases: aliases(spellings), ..Default::default() },
    )
}

fn split(feature: u32, threshold: f64, left: i32, right: i32) -> Node {
    split_le(feature, threshold, true, left, right, 100.0)
}

fn leaves(values: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (values.to_vec(), vec![10.0; values.len()])
}

fn ensemble() -> Ensemble {
    // Features: 0 AMT_CREDIT, 1 AMT_ANNUITY, 2 EXT_SOURCE_2, 3 DAYS_EMPLOYED, 4 CODE_GENDER, 5 FLAG_OWN_CAR
    let (v1, c1) = leaves(&[1.2, 0.2, -0.9]);
    let t1 = Tree {
        nodes: vec![split(2, 0.3, -1, 1), split(2, 0.6, -2, -3)],
        leaf_values: v1,
        leaf_covers: c1,
        cat_words: vec![],
    };
    let (v2, c2) = leaves(&[-0.25, 0.35]);
    let t2 = Tree {
        nodes: vec![split(0, 600_000.0, -1, -2)],
        leaf_values: v2,
        leaf_covers: c2,
        cat_words: vec![],
    };
    let (v3, c3) = leaves(&[0.3, -0.15]);
    let t3 = Tree {
        nodes: vec![split_in_set(4, -1, -2, 100.0)],
        leaf_values: v3,
        leaf_covers: c3,
        cat_words: vec![0b10], // level 1 = "M"
    };
    let (v4, c4) = leaves(&[0.4, -0.1]);
    let t4 =
        Tree { nodes: vec![split(3, -1000.0, -2, -1)], leaf_values: v4, leaf_covers: c4, cat_words: vec![] };
    Ensemble {
        num_features: 6,
        trees: vec![t1, t2, t3, t4],
        base_score: -2.0,
        arithmetic: Arithmetic::F64,
        link: Link::Sigmoid { scale: 1.0 },
        zero_small_inputs: false,
    }
}

fn schema() -> Schema {
    let inputs = vec![
        numeric(
            "AMT_CREDIT",
            NumericSpec { valid_min: Some(0.0), unit: "currency".into(), ..Default::default() },
        ),
        numeric(
            "AMT_ANNUITY",
            NumericSpec { valid_min: Some(0.0), unit: "currency".into(), ..Default::default() },
        ),
        numeric(
            "EXT_SOURCE_2",
            NumericSpec { valid_min: Some(0.0), valid_max: Some(1.0), ..Default::default() },
        ),
        numeric(
            "DAYS_EMPLOYED",
            NumericSpec {
                integer: true,
                sentinel: Some(365_243.0),
                unit: "days".into(),
                ..Default::default()
            },
        ),
        categorical("CODE_GENDER", &["F", "M"], &[]),
        categorical("FLAG_OWN_CAR", &["N", "Y"], &[("No", "N"), ("Yes", "Y")]),
    ];
    let names = inputs.iter().map(|f| f.name.clone()).collect();
    Schema::new("SK_ID_CURR".into(), false, inputs, vec![], names).expect("fixture schema is valid")
}

/// numpy's default (linear) quantiles at k/100.
fn percentiles(sorted: &[f64]) -> Vec<f64> {
    (0..=100)
        .map(|k| {
            let pos = k as f64 / 100.0 * (sorted.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        })
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [reference, out] = args.as_slice() else {
        eprintln!("usage: drift_fixture_bundle REF.csv OUT.csb");
        return ExitCode::from(2);
    };
    match build(reference, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn build(reference: &str, out: &str) -> Result<(), String> {
    let schema = schema();
    let threshold = 0.3;
    let spec = BundleSpec {
        meta: Metadata {
            name: "drift-fixture".into(),
            version: "test-1".into(),
            created: "2026-11-27T00:00:00Z".into(),
            source: "hand-written test model".into(),
            metrics: BTreeMap::new(),
            training: serde_json::json!({"data": "synthetic drift fixture"}).into(),
            score_scale: None,
            iterations: None,
        },
        schema: schema.spec().clone(),
        threshold,
        selection: None,
        reference: None,
    };
    let bundle = Bundle::new(spec, ensemble()).map_err(|e| e.to_string())?;
    let mut reader = csv::Reader::from_path(reference).map_err(|e| format!("{reference}: {e}"))?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let mut numeric: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
    let mut cats: BTreeMap<String, (Vec<u64>, u64)> = BTreeMap::new();
    let mut scores = Vec::new();
    let mut rows = 0u64;
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        rows += 1;
        let fields: Vec<(&str, RawValue<'_>)> = headers
            .iter()
            .zip(record.iter())
            .filter(|(h, _)| schema.input(h).is_some())
            .map(|(h, v)| (h, RawValue::Cell(v)))
            .collect();
        let valid = schema.validate(fields.iter().copied(), "").map_err(|e| format!("row {rows}: {e:?}"))?;
        scores.push(bundle.score(&valid).probability);
        for (h, v) in &fields {
            let RawValue::Cell(cell) = v else { continue };
            match &schema.input(h).expect("filtered").kind {
                InputKind::Numeric(spec) => {
                    let e = numeric.entry(h.to_string()).or_default();
                    match cell.parse::<f64>() {
                        Ok(x) if x.is_finite() && Some(x) != spec.sentinel => e.0.push(x),
                        _ => e.1 += 1,
                    }
                }
                InputKind::Categorical(spec) => {
                    let e = cats.entry(h.to_string()).or_insert_with(|| (vec![0; spec.levels.len()], 0));
                    match spec.levels.iter().position(|l| l == cell) {
                        Some(i) => e.0[i] += 1,
                        None => e.1 += 1,
                    }
                }
            }
        }
    }
    if rows < 2 {
        return Err("the reference needs at least 2 rows".into());
    }
    let mut features = Vec::new();
    for field in &schema.inputs {
        let name = &field.name;
        if let Some((values, missing)) = numeric.get_mut(name) {
            values.sort_by(f64::total_cmp);
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            features.push(FeatureReference {
                name: name.clone(),
                missing_rate: *missing as f64 / rows as f64,
                distribution: ReferenceDistribution::Numeric { quantiles: percentiles(values), mean, std },
            });
        } else if let Some((counts, missing)) = cats.get(name) {
            let total: u64 = counts.iter().sum();
            let InputKind::Categorical(spec) = &field.kind else { continue };
            features.push(FeatureReference {
                name: name.clone(),
                missing_rate: *missing as f64 / rows as f64,
                distribution: ReferenceDistribution::Categorical {
                    levels: spec.levels.clone(),
                    proportions: counts.iter().map(|&c| c as f64 / total.max(1) as f64).collect(),
                },
            });
        }
    }
    scores.sort_by(f64::total_cmp);
    let refusal_rate = scores.iter().filter(|&&p| p >= threshold).count() as f64 / scores.len() as f64;
    let (mut spec, ensemble) = bundle.into_parts();
    spec.reference = Some(ReferenceStats {
        rows,
        features,
        score: Some(ScoreReference { quantiles: percentiles(&scores), refusal_rate }),
    });
    let mut bundle = Bundle::new(spec, ensemble).map_err(|e| e.to_string())?;
    let bytes = bundle.to_bytes().map_err(|e| e.to_string())?;
    std::fs::write(out, bytes).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("wrote {out}: {rows} reference rows, refusal rate {refusal_rate:.3}");
    Ok(())
}
