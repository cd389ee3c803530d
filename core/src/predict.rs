//! What every adapter calls: score, decide and explain a validated record with a bundle.

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use crate::bundle::Bundle;
use crate::schema::{InputKind, ValidRecord};

/// The model's output for one record.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Score {
    /// Raw score (margin): the intercept plus the trees' leaf values, in log-odds units for the
    /// logistic link.
    pub raw_score: f64,
    /// Probability of default in [0, 1]: the raw score through the model's link
    /// ([`crate::Ensemble::probability`]), bit-equal to the library's `predict_proba`.
    pub probability: f64,
}

/// A model feature's value as the model saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FeatureValue {
    /// A numeric value in the input's unit (or a derived feature's value).
    Number(f64),
    /// A categorical input's level (its code turned back into the level's name).
    Category(String),
    /// Absent, null, a sentinel, or a derived feature that could not be computed.
    Missing,
}

/// One model feature's share of a record's raw score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    /// Model feature name (an input or a derived feature).
    pub feature: String,
    /// The value the model saw.
    pub value: FeatureValue,
    /// SHAP value in raw-score (log-odds) units.
    pub contribution: f64,
}

/// A scored record with its SHAP values: path-dependent TreeSHAP (Lundberg et al. 2018,
/// "Consistent individualized feature attribution for tree ensembles", Algorithm 2; see
/// [`crate::shap`]), the values LightGBM's `pred_contrib` and XGBoost's `pred_contribs` return.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// Expected raw score over the training data (SHAP bias), in raw-score units.
    pub base_value: f64,
    /// As [`Score::raw_score`].
    pub raw_score: f64,
    /// As [`Score::probability`].
    pub probability: f64,
    /// One entry per model feature, largest |contribution| first; base_value plus their sum is
    /// raw_score up to rounding.
    pub contributions: Vec<Contribution>,
}

/// One scored record as every adapter reports it: an entry of the HTTP API's `predictions` and
/// `explanations` arrays, of the npm package's `predict`/`predictMany`/`explain` results, a line of
/// `creditscore predict`'s JSONL. The one definition of these fields; the npm package's
/// TypeScript declarations are checked against it (wasm/src/api/tests.rs).
///
/// Which optional parts an adapter sends is part of its contract (docs/API.md, the `.d.ts`):
/// the HTTP API leaves out `raw_score` (on `/predict`) and `threshold` (it is in the body) and
/// sends `warnings` only when there are some; the npm package sends every part it has.
///
/// Fields are declared in alphabetical order so that the JSON keys come out in the order the
/// HTTP API has always sent them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// Expected raw score over the training data (SHAP bias), raw-score units; explanations only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_value: Option<f64>,
    /// One per model feature, largest |contribution| first; explanations only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributions: Option<Vec<Contribution>>,
    /// 1 = predicted default = refuse (probability >= threshold), 0 = accept.
    pub prediction: u8,
    /// Probability of default in [0, 1] (see [`Score::probability`]).
    pub probability: f64,
    /// Raw score (margin, log-odds units; see [`Score::raw_score`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_score: Option<f64>,
    /// Reason codes ([`crate::reasons`]): for a refused record, or for every record when a number
    /// was asked; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<crate::reasons::Reason>>,
    /// Score points on the bundle's scorecard scale ([`Bundle::points`]; higher = safer).
    pub score: f64,
    /// The record's id (`SK_ID_CURR`), null when it has none.
    pub sk_id_curr: Option<i64>,
    /// The threshold the decision used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Plausible values outside what training saw, scored and reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<crate::schema::Warning>>,
}

impl Prediction {
    /// The item as the HTTP API sends it: no `threshold` (the body has it), `warnings` only when
    /// there are some, and `raw_score` only in an explanation.
    pub fn for_http(mut self) -> Prediction {
        self.threshold = None;
        if self.warnings.as_ref().is_some_and(Vec::is_empty) {
            self.warnings = None;
        }
        if self.contributions.is_none() {
            self.raw_score = None;
        }
        self
    }
}

/// A decision threshold: a probability of default in [0, 1] (refuse at or above it), by
/// construction ([`Threshold::new`]). Serialises as the number.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Threshold(f64);

impl Threshold {
    /// `probability` as a threshold; `None` when it is not in [0, 1] (NaN included).
    pub fn new(probability: f64) -> Option<Threshold> {
        (0.0..=1.0).contains(&probability).then_some(Threshold(probability))
    }

    /// The probability.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Whether `threshold` is a usable decision threshold ([`Threshold::new`] accepts it).
pub fn valid_threshold(threshold: f64) -> bool {
    Threshold::new(threshold).is_some()
}

impl Bundle {
    /// Scores one record validated by this bundle's schema (its `features` in model order) by
    /// walking the trees: the reference path. Adapters score with [`crate::CompiledModel`].
    pub fn score(&self, record: &ValidRecord) -> Score {
        self.score_of(self.ensemble().raw_score(&record.features))
    }

    /// Scores many feature rows (row-major, model order) at once; same bits as [`Bundle::score`].
    pub fn score_rows(&self, rows: &[f64], out: &mut Vec<Score>) {
        let mut raw = Vec::new();
        self.ensemble().raw_scores(rows, &mut raw);
        out.clear();
        out.extend(raw.into_iter().map(|r| self.score_of(r)));
    }

    /// A raw score with its probability through the model's link.
    pub(crate) fn score_of(&self, raw_score: f64) -> Score {
        Score { raw_score, probability: self.ensemble().probability(raw_score) }
    }

    /// 1 = predicted default = refuse, when probability >= threshold.
    pub fn decide(probability: f64, threshold: f64) -> u8 {
        u8::from(probability >= threshold)
    }

    /// Raw SHAP values by walking the trees (the reference path; adapters use
    /// [`crate::CompiledModel::shap_values`]): one per model feature, then the bias.
    pub fn shap_values(&self, record: &ValidRecord, out: &mut Vec<f64>) {
        crate::shap::tree_shap(self.ensemble(), &record.features, out);
    }

    /// Scores one record and attributes its raw score to the model features (see
    /// [`Explanation`]); contributions sorted by decreasing |contribution|. Walks the trees (the
    /// reference path); adapters use [`crate::CompiledModel::explain`].
    pub fn explain(&self, record: &ValidRecord) -> Explanation {
        let mut phi = Vec::new();
        self.shap_values(record, &mut phi);
        self.explanation_from_shap(record, &phi)
    }

    /// The [`Explanation`] of `record` from its SHAP values `phi` (one per model feature, then
    /// the bias); the score is the tree walk's.
    pub(crate) fn explanation_from_shap(&self, record: &ValidRecord, phi: &[f64]) -> Explanation {
        let score = self.score(record);
        let n = self.ensemble().num_features;
        let features = &self.schema().model_features;
        let shown = n.min(features.len()).min(record.features.len());
        // Largest |contribution| first, ties in model order.
        let mut order: Vec<usize> = (0..shown).collect();
        crate::order::sort_indices(&mut order, &|a, b| phi[b].abs().total_cmp(&phi[a].abs()));
        let contributions: Vec<Contribution> = order
            .into_iter()
            .map(|i| Contribution {
                feature: features[i].clone(),
                value: self.feature_value(&features[i], record.features[i]),
                contribution: phi[i],
            })
            .collect();
        Explanation {
            base_value: phi[n],
            raw_score: score.raw_score,
            probability: score.probability,
            contributions,
        }
    }

    /// Presents a model feature value: category codes as their level.
    pub fn feature_value(&self, feature: &str, value: f64) -> FeatureValue {
        if value.is_nan() {
            return FeatureValue::Missing;
        }
        if let Some(InputKind::Categorical(c)) = self.schema().input(feature).map(|f| &f.kind)
            && value >= 0.0
            && let Some(level) = c.levels.get(value as usize)
        {
            return FeatureValue::Category(level.clone());
        }
        FeatureValue::Number(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sample_bundle;
    use alloc::vec::Vec;

    #[test]
    fn explanation_adds_up_and_is_sorted() {
        let b = sample_bundle();
        let rec = b
            .schema()
            .validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.2, "c": "b"}), "data.")
            .unwrap();
        let s = b.score(&rec);
        assert_eq!(s.raw_score, -1.0 + 0.25);
        let e = b.explain(&rec);
        let total: f64 = e.base_value + e.contributions.iter().map(|c| c.contribution).sum::<f64>();
        assert!((total - s.raw_score).abs() < 1e-12);
        assert!(e.contributions[0].contribution.abs() >= e.contributions[1].contribution.abs());
        assert_eq!(e.contributions[0].feature, "x", "phi_x = -1.0 outweighs phi_c = -0.8");
        assert_eq!(serde_json::to_value(&e.contributions[1].value).unwrap(), serde_json::json!("b"));
        let rows: Vec<f64> = (0..100).flat_map(|i| [i as f64 / 100.0, (i % 3) as f64]).collect();
        let (mut batch, mut single) = (Vec::new(), Vec::new());
        crate::CompiledModel::new(b.clone()).score_rows(&rows, &mut batch);
        b.score_rows(&rows, &mut single);
        assert_eq!(batch, single, "the compiled batch path gives the same bits");
        assert_eq!(crate::Bundle::decide(0.5, 0.5), 1);
        assert_eq!(crate::Bundle::decide(0.49, 0.5), 0);
    }
}
