//! Reason codes: the features that pushed an application furthest towards refusal.
//!
//! They are the largest positive exact TreeSHAP contributions ([`crate::shap::tree_shap`], the
//! values `POST /explain` returns; positive = towards default, raw-score units), so a refused
//! client's reasons are the same numbers an analyst sees in the full explanation. Each reason
//! carries a stable code (`<FEATURE>.<direction>`), the value scored (the one sent, or the
//! field's schema default when it was left out), the typical value from the
//! bundle's reference statistics (training median, or modal level) and a plain sentence. A
//! derived feature is reported through the inputs it is computed from (a ratio names both).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Serialize;

use crate::bundle::{Bundle, ReferenceDistribution};
use crate::predict::FeatureValue;
use crate::schema::{DerivedOp, InputKind, ValidRecord};

/// Reasons given for a refused application when the caller does not ask for a number.
pub const DEFAULT_REASONS: usize = 4;

/// How many reasons a prediction gets: `requested` when the caller asked (`?reasons=N`, 0 =
/// none), else [`DEFAULT_REASONS`] for a refused application (`prediction` 1) and none for an
/// accepted one. Every adapter (HTTP API, npm, CLI) follows this rule.
pub fn reasons_wanted(requested: Option<usize>, prediction: u8) -> usize {
    requested.unwrap_or(if prediction == 1 { DEFAULT_REASONS } else { 0 })
}

/// One reason: a model feature that pushed the score towards refusal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// Stable code `<FEATURE>.<direction>`; direction is `low` / `high` (numeric value below /
    /// above the typical one), `value` (numeric, no typical value known), `level` (a category),
    /// `missing`, or `flag` (a 0/1 indicator such as a sentinel flag).
    pub code: String,
    /// Model feature name.
    pub feature: String,
    /// The feature's value as the model saw it: the one sent, or the field's schema default when
    /// it was left out (a level for a category, null when missing).
    pub value: FeatureValue,
    /// Training median (numeric) or most frequent level (categorical); for a ratio, difference
    /// or product, the same operation on its inputs' typical values; null when unknown.
    pub typical: Option<FeatureValue>,
    /// The inputs a derived feature comes from, each with its value and typical value; empty
    /// for a feature that is itself an input.
    pub inputs: Vec<ReasonInput>,
    /// SHAP value (raw-score / log-odds units, > 0: towards default).
    pub contribution: f64,
    /// Plain sentence, e.g. "EXT_SOURCE_3 is low: 0.21, typical 0.51".
    pub sentence: String,
}

/// An input behind a derived feature's [`Reason`] (e.g. AMT_ANNUITY and AMT_INCOME_TOTAL of an
/// annuity-to-income ratio).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonInput {
    /// Input name.
    pub name: String,
    /// The value scored, as the model saw it: the one sent, or the input's schema default when it
    /// was left out (a level for a category, null when missing).
    pub value: FeatureValue,
    /// Training median (numeric) or most frequent level (categorical) from the bundle's
    /// reference statistics; null when the bundle has none for this input.
    pub typical: Option<FeatureValue>,
}

impl Bundle {
    /// The top `n` reasons of `record`, computing its SHAP values by walking the trees (the
    /// reference path; adapters use [`crate::CompiledModel::reasons`]); see
    /// [`Bundle::reasons_from_shap`].
    pub fn reasons(&self, record: &ValidRecord, n: usize) -> Vec<Reason> {
        if n == 0 {
            return Vec::new();
        }
        let mut phi = Vec::new();
        self.shap_values(record, &mut phi);
        self.reasons_from_shap(record, &phi, n)
    }

    /// The (at most) `n` model features with the largest positive SHAP value in `phi` (one per
    /// model feature, as [`Bundle::shap_values`] gives; a trailing bias entry is ignored), largest
    /// first, ties in model order. Features that pushed towards approval are never reasons, so
    /// fewer than `n` may come back.
    pub fn reasons_from_shap(&self, record: &ValidRecord, phi: &[f64], n: usize) -> Vec<Reason> {
        let nf = self.schema().model_features.len().min(phi.len());
        let mut order: Vec<usize> = (0..nf).filter(|&i| phi[i] > 0.0).collect();
        crate::order::sort_indices(&mut order, &|a, b| phi[b].total_cmp(&phi[a]));
        order.truncate(n);
        order.into_iter().map(|i| self.reason(record, i, phi[i])).collect()
    }

    fn reason(&self, record: &ValidRecord, index: usize, contribution: f64) -> Reason {
        let feature = &self.schema().model_features[index];
        let raw = record.features.get(index).copied().unwrap_or(f64::NAN);
        let value = self.feature_value(feature, raw);
        let derived = self.schema().derived.iter().find(|d| &d.name == feature).map(|d| &d.op);
        let typical = self.typical_value(feature);
        let inputs: Vec<ReasonInput> = derived
            .map(|op| {
                op.arguments()
                    .into_iter()
                    .map(|name| ReasonInput {
                        name: name.to_string(),
                        value: self.feature_value(name, self.schema().value_of(record, name)),
                        typical: self.typical_value(name),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let is_flag = matches!(derived, Some(DerivedOp::SentinelFlag { .. } | DerivedOp::IsMissing { .. }));
        let direction = match (&value, &typical) {
            _ if is_flag => "flag",
            (FeatureValue::Missing, _) => "missing",
            (FeatureValue::Category(_), _) => "level",
            (FeatureValue::Number(v), Some(FeatureValue::Number(t))) if v < t => "low",
            (FeatureValue::Number(v), Some(FeatureValue::Number(t))) if v > t => "high",
            _ => "value",
        };
        let label = match derived {
            Some(DerivedOp::Ratio { numerator, denominator }) => format!("{numerator} / {denominator}"),
            Some(DerivedOp::Difference { left, right }) => format!("{left} - {right}"),
            Some(DerivedOp::Product { left, right }) => format!("{left} x {right}"),
            _ => feature.clone(),
        };
        let mut sentence = match derived {
            Some(DerivedOp::SentinelFlag { input }) => match value {
                FeatureValue::Number(v) if v != 0.0 => format!("{input} holds its special (sentinel) value"),
                _ => format!("{input} does not hold its special (sentinel) value"),
            },
            Some(DerivedOp::IsMissing { input }) => match value {
                FeatureValue::Number(v) if v != 0.0 => format!("{input} is missing"),
                _ => format!("{input} is given"),
            },
            _ => {
                let shown = show(&value);
                let mut s = match direction {
                    "low" | "high" => format!("{label} is {direction}: {shown}"),
                    _ => format!("{label} is {shown}"),
                };
                if let Some(t) = &typical {
                    s.push_str(&format!(", typical {}", show(t)));
                }
                s
            }
        };
        if !inputs.is_empty() && !is_flag {
            let parts: Vec<String> = inputs
                .iter()
                .map(|i| match &i.typical {
                    Some(t) => format!("{} {}, typical {}", i.name, show(&i.value), show(t)),
                    None => format!("{} {}", i.name, show(&i.value)),
                })
                .collect();
            sentence.push_str(&format!(" ({})", parts.join("; ")));
        }
        Reason {
            code: format!("{feature}.{direction}"),
            feature: feature.clone(),
            value,
            typical,
            inputs,
            contribution,
            sentence,
        }
    }

    /// Typical value of an input (training median or modal level, from the reference statistics)
    /// or of a ratio / difference / product (the operation applied to its inputs' typical values).
    pub fn typical_value(&self, name: &str) -> Option<FeatureValue> {
        if let Some(d) = self.schema().derived.iter().find(|d| d.name == name) {
            let number = |n: &str| match self.typical_value(n) {
                Some(FeatureValue::Number(v)) => Some(v),
                _ => None,
            };
            let v = match &d.op {
                DerivedOp::Ratio { numerator, denominator } => {
                    let (a, b) = (number(numerator)?, number(denominator)?);
                    if b == 0.0 {
                        return None;
                    }
                    a / b
                }
                DerivedOp::Difference { left, right } => number(left)? - number(right)?,
                DerivedOp::Product { left, right } => number(left)? * number(right)?,
                DerivedOp::SentinelFlag { .. } | DerivedOp::IsMissing { .. } => return None,
            };
            return v.is_finite().then_some(FeatureValue::Number(v));
        }
        let stats = self.reference().as_ref()?.features.iter().find(|f| f.name == name)?;
        match &stats.distribution {
            ReferenceDistribution::Numeric { quantiles, .. } => {
                let q = quantiles;
                if q.is_empty() {
                    return None;
                }
                // quantiles[k] is the k/(len-1) quantile: the median is the middle one (or the
                // mean of the two middle ones for an even count).
                let last = q.len() - 1;
                let median = (q[last / 2] + q[last.div_ceil(2)]) / 2.0;
                median.is_finite().then_some(FeatureValue::Number(median))
            }
            ReferenceDistribution::Categorical { levels, proportions } => {
                let (best, _) = proportions.iter().enumerate().filter(|(i, _)| *i < levels.len()).fold(
                    (None, f64::NEG_INFINITY),
                    |(b, bp), (i, &p)| if p > bp { (Some(i), p) } else { (b, bp) },
                );
                let level = &levels[best?];
                // Report the level the way the schema spells it when it is known there.
                let spelled = match self.schema().input(name).map(|f| &f.kind) {
                    Some(InputKind::Categorical(c)) => c.levels.iter().find(|l| *l == level).unwrap_or(level),
                    _ => level,
                };
                Some(FeatureValue::Category(spelled.clone()))
            }
        }
    }
}

/// A value for a sentence: a level as is, "missing", or a number with 4 significant digits
/// (2 decimals at most from 1000 up), trailing zeros trimmed.
fn show(value: &FeatureValue) -> String {
    match value {
        FeatureValue::Missing => "missing".into(),
        FeatureValue::Category(level) => level.clone(),
        FeatureValue::Number(v) => number(*v),
    }
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = libm::fabs(v);
    let decimals = if a == 0.0 || a >= 1000.0 {
        2
    } else {
        (3 - libm::floor(libm::log10(a)) as i32).clamp(0, 8) as usize
    };
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{FeatureReference, ReferenceStats};
    use crate::test_support::sample_bundle;
    use alloc::vec;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.21000000000000002), "0.21");
        assert_eq!(number(0.5046764611069502), "0.5047");
        assert_eq!(number(406597.5), "406597.5");
        assert_eq!(number(-9461.0), "-9461");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(12.3456), "12.35");
        assert_eq!(number(0.000123456), "0.0001235");
    }

    fn with_reference(b: Bundle) -> Bundle {
        let (mut spec, ensemble) = b.into_parts();
        spec.reference = Some(ReferenceStats {
            rows: 10,
            features: vec![
                FeatureReference {
                    name: "x".into(),
                    missing_rate: 0.0,
                    distribution: ReferenceDistribution::Numeric {
                        quantiles: (0..=100).map(|k| k as f64 / 100.0).collect(),
                        mean: 0.5,
                        std: 0.29,
                    },
                },
                FeatureReference {
                    name: "c".into(),
                    missing_rate: 0.0,
                    distribution: ReferenceDistribution::Categorical {
                        levels: vec!["a".into(), "b".into()],
                        proportions: vec![0.3, 0.7],
                    },
                },
            ],
            score: None,
        });
        Bundle::new(spec, ensemble).unwrap()
    }

    #[test]
    fn reasons_are_the_positive_contributions_largest_first() {
        let b = with_reference(sample_bundle());
        // x = 0.9 goes right (leaf 2.0): phi_x > 0; c = a goes... c only matters left of x.
        let rec = b
            .schema()
            .validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.9, "c": "a"}), "data.")
            .unwrap();
        let e = b.explain(&rec);
        let expected: Vec<(String, f64)> = e
            .contributions
            .iter()
            .filter(|c| c.contribution > 0.0)
            .map(|c| (c.feature.clone(), c.contribution))
            .collect();
        let reasons = b.reasons(&rec, 4);
        let got: Vec<(String, f64)> = reasons.iter().map(|r| (r.feature.clone(), r.contribution)).collect();
        assert_eq!(got, expected);
        assert!(!reasons.is_empty());
        let x = &reasons[0];
        assert_eq!(x.code, "x.high");
        assert_eq!(x.typical, Some(FeatureValue::Number(0.5)));
        assert_eq!(x.sentence, "x is high: 0.9, typical 0.5");
        assert!(b.reasons(&rec, 0).is_empty());
        assert!(b.reasons(&rec, 1).len() <= 1);
    }

    #[test]
    fn categorical_missing_and_derived_sentences() {
        use crate::schema::DerivedFeature;
        let (mut spec, ensemble) = with_reference(sample_bundle()).into_parts();
        spec.schema.derived.push(DerivedFeature {
            name: "x_over_x".into(),
            op: DerivedOp::Ratio { numerator: "x".into(), denominator: "x".into() },
        });
        let b = Bundle::new(spec, ensemble).unwrap();
        let rec = b
            .schema()
            .validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.2, "c": "a"}), "data.")
            .unwrap();
        let phi = [0.0, 0.3, 0.0];
        let r = &b.reasons_from_shap(&rec, &phi, 4)[0];
        assert_eq!(r.code, "c.level");
        assert_eq!(r.sentence, "c is a, typical b");
        // A derived feature named through its inputs (not a model feature here: asked directly).
        assert_eq!(b.schema().value_of(&rec, "x_over_x"), 1.0);
        assert_eq!(b.typical_value("x_over_x"), Some(FeatureValue::Number(1.0)));
        let no_ref = sample_bundle();
        let rec =
            no_ref.schema().validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.2}), "data.").unwrap();
        let r = &no_ref.reasons_from_shap(&rec, &[0.0, 0.1, 0.0], 4)[0];
        assert_eq!((r.code.as_str(), r.typical.as_ref()), ("c.missing", None));
        assert_eq!(r.sentence, "c is missing");
    }
}
