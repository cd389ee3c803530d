//! [`CompiledModel`]: a checked bundle together with the forms of its trees that scoring and
//! explaining use, so that no adapter can pair a bundle with another model's compiled trees.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::bundle::{Bundle, BundleError};
use crate::ensemble::FlatForest;
use crate::predict::{Explanation, Prediction, Score};
use crate::reasons::Reason;
use crate::reasons::reasons_wanted;
use crate::schema::ValidRecord;
use crate::shap::ShapForest;

/// A bundle and its compiled trees: what every adapter (HTTP service, npm package, CLI, Python
/// package, benchmark) scores and explains with.
///
/// - The [`FlatForest`] (branchless batch layout) is built once, by [`CompiledModel::new`]; a
///   model it cannot hold is scored by walking the trees (same bits).
/// - The [`ShapForest`] (TreeSHAP path data and subset tables) is built on the first call that
///   explains (an explanation, SHAP values or reason codes), so a model loaded only to score
///   does not pay for it. Every adapter explains through it, so all give the same SHAP bits
///   (the precomputed form rounds differently from [`Bundle::explain`]'s walk, within a few ulps).
///
/// `Send + Sync`: one instance serves every thread of a batch.
pub struct CompiledModel {
    bundle: Bundle,
    flat: Option<FlatForest>,
    // `once_cell::race::OnceBox` rather than `std::sync::OnceLock`: the core is `no_std`, and the
    // model must be shareable between threads; two threads that race build the same value and
    // one is kept.
    shap: once_cell::race::OnceBox<ShapForest>,
}

impl core::fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CompiledModel")
            .field("bundle", &self.bundle.meta().name)
            .field("sha256", &self.bundle.sha256())
            .field("flat", &self.flat.is_some())
            .field("shap_built", &self.shap.get().is_some())
            .finish()
    }
}

impl From<Bundle> for CompiledModel {
    fn from(bundle: Bundle) -> Self {
        CompiledModel::new(bundle)
    }
}

impl CompiledModel {
    /// Compiles a checked bundle ([`Bundle::from_bytes`] returns one) for scoring.
    pub fn new(bundle: Bundle) -> CompiledModel {
        CompiledModel { flat: bundle.ensemble().flatten(), bundle, shap: once_cell::race::OnceBox::new() }
    }

    /// Decodes, checks and compiles a `.csb` bundle (errors as [`Bundle::from_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<CompiledModel, BundleError> {
        Bundle::from_bytes(bytes).map(CompiledModel::new)
    }

    /// The bundle: metadata, schema, threshold, reference statistics.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The compiled batch layout, `None` when the model does not fit it (see [`FlatForest`]).
    pub fn flat_forest(&self) -> Option<&FlatForest> {
        self.flat.as_ref()
    }

    /// The TreeSHAP path data of this model's trees, built now if no call has needed it yet (a
    /// server or benchmark calls it to pay the build before the first request).
    pub fn shap_forest(&self) -> &ShapForest {
        self.shap.get_or_init(|| Box::new(ShapForest::new(self.bundle.ensemble())))
    }

    /// Scores one record validated by this bundle's schema (its `features` in model order).
    pub fn score(&self, record: &ValidRecord) -> Score {
        let raw_score = match &self.flat {
            Some(flat) => flat.raw_score(&record.features),
            None => self.bundle.ensemble().raw_score(&record.features),
        };
        self.bundle.score_of(raw_score)
    }

    /// Scores many feature rows (row-major, model order, `rows.len()` a multiple of the model's
    /// feature count) into `out`, one [`Score`] per row, with the compiled trees walked over
    /// blocks of rows; same bits as [`CompiledModel::score`] row by row.
    pub fn score_rows(&self, rows: &[f64], out: &mut Vec<Score>) {
        let mut raw = Vec::new();
        match &self.flat {
            Some(flat) => flat.raw_scores(rows, &mut raw),
            None => self.bundle.ensemble().raw_scores(rows, &mut raw),
        }
        out.clear();
        out.extend(raw.into_iter().map(|r| self.bundle.score_of(r)));
    }

    /// Validated records scored together (see [`CompiledModel::score_rows`]), one score each.
    pub fn score_records(&self, records: &[ValidRecord]) -> Vec<Score> {
        let rows: Vec<f64> = records.iter().flat_map(|r| r.features.iter().copied()).collect();
        let mut scores = Vec::with_capacity(records.len());
        self.score_rows(&rows, &mut scores);
        scores
    }

    /// Raw SHAP values of `record` into `out`: one per model feature (model order), then the
    /// bias; raw-score (log-odds) units (see [`CompiledModel::row_shap_values`]).
    pub fn shap_values(&self, record: &ValidRecord, out: &mut Vec<f64>) {
        self.row_shap_values(&record.features, out);
    }

    /// Raw SHAP values of one feature row (`num_features` values in model order, NaN =
    /// missing, as [`crate::Ensemble::raw_score`] takes) into `out`: one per model feature, then
    /// the bias; raw-score (log-odds) units. Exact path-dependent TreeSHAP from the path data
    /// built once per model ([`CompiledModel::shap_forest`]): the values of
    /// [`crate::shap::tree_shap`] up to rounding, the same bits on every target.
    pub fn row_shap_values(&self, row: &[f64], out: &mut Vec<f64>) {
        crate::shap::tree_shap_precomputed(self.bundle.ensemble(), self.shap_forest(), row, out);
    }

    /// Scores one record and attributes its raw score to the model features (see
    /// [`Explanation`]); contributions sorted by decreasing |contribution|.
    pub fn explain(&self, record: &ValidRecord) -> Explanation {
        let mut phi = Vec::new();
        self.shap_values(record, &mut phi);
        self.bundle.explanation_from_shap(record, &phi)
    }

    /// The top `n` reason codes of `record` (see [`Bundle::reasons_from_shap`]); none for `n` 0
    /// (and then no SHAP values are computed).
    pub fn reasons(&self, record: &ValidRecord, n: usize) -> Vec<Reason> {
        if n == 0 {
            return Vec::new();
        }
        let mut phi = Vec::new();
        self.shap_values(record, &mut phi);
        self.bundle.reasons_from_shap(record, &phi, n)
    }
}

impl CompiledModel {
    /// The [`Prediction`] of a validated `record` and its `score` (from
    /// [`CompiledModel::score`] or [`CompiledModel::score_records`]) at `threshold`, with every
    /// part set: the decision, the score points, and `reasons` as [`reasons_wanted`] decides
    /// from `reasons` (`None` = the default: [`crate::DEFAULT_REASONS`] for a refused record).
    pub fn prediction(
        &self,
        record: ValidRecord,
        score: Score,
        threshold: f64,
        reasons: Option<usize>,
    ) -> Prediction {
        let prediction = Bundle::decide(score.probability, threshold);
        let n = reasons_wanted(reasons, prediction);
        Prediction {
            base_value: None,
            contributions: None,
            prediction,
            probability: score.probability,
            raw_score: Some(score.raw_score),
            reasons: (n > 0).then(|| self.reasons(&record, n)),
            score: self.bundle.points(score.probability),
            sk_id_curr: record.id,
            threshold: Some(threshold),
            warnings: Some(record.warnings),
        }
    }

    /// The explained [`Prediction`] of a validated `record` at `threshold`: the decision, score
    /// points, raw score, SHAP bias and contributions ([`CompiledModel::explain`]); no reasons.
    pub fn explained(&self, record: ValidRecord, threshold: f64) -> Prediction {
        let Explanation { base_value, raw_score, probability, contributions } = self.explain(&record);
        Prediction {
            base_value: Some(base_value),
            contributions: Some(contributions),
            prediction: Bundle::decide(probability, threshold),
            probability,
            raw_score: Some(raw_score),
            reasons: None,
            score: self.bundle.points(probability),
            sk_id_curr: record.id,
            threshold: Some(threshold),
            warnings: Some(record.warnings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CompiledModel;
    use crate::test_support::sample_bundle;
    use alloc::vec::Vec;

    #[test]
    fn compiled_paths_give_the_bundle_walks_bits() {
        let b = sample_bundle();
        let model = CompiledModel::new(b.clone());
        assert!(model.flat_forest().is_some());
        let rec = b
            .schema()
            .validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.2, "c": "b"}), "data.")
            .unwrap();
        assert_eq!(model.score(&rec), b.score(&rec));
        let rows: Vec<f64> = (0..100).flat_map(|i| [i as f64 / 100.0, (i % 3) as f64]).collect();
        let (mut batch, mut single) = (Vec::new(), Vec::new());
        model.score_rows(&rows, &mut batch);
        b.score_rows(&rows, &mut single);
        assert_eq!(batch, single, "the compiled batch path gives the same bits");
        let e = model.explain(&rec);
        let walk = b.explain(&rec);
        assert_eq!(e.contributions.len(), walk.contributions.len());
        for (c, w) in e.contributions.iter().zip(&walk.contributions) {
            assert_eq!(c.feature, w.feature);
            assert!((c.contribution - w.contribution).abs() < 1e-12);
        }
        assert_eq!(model.reasons(&rec, 0), Vec::new());
    }

    #[test]
    fn treeshap_data_is_built_by_the_first_call_that_explains() {
        let b = sample_bundle();
        let rec = b.schema().validate_json(&serde_json::json!({"SK_ID_CURR": 1, "x": 0.2}), "data.").unwrap();
        let model = CompiledModel::new(b);
        model.score(&rec);
        assert_eq!(model.reasons(&rec, 0), Vec::new());
        assert!(model.shap.get().is_none(), "loading and scoring do not build it");
        model.explain(&rec);
        assert!(model.shap.get().is_some());
    }

    #[test]
    fn is_shareable_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<CompiledModel>();
    }
}
