//! Drift statistics: compare what the model sees in production (the prediction logs) with the
//! training data (the bundle's reference statistics, or a reference sample). Pure functions and
//! streaming accumulators, no I/O: the CLI feeds them, a browser or the worker could too.
//!
//! Per feature:
//! - numeric: two-sample KS statistic and p-value as `scipy.stats.ks_2samp` ([`ks`]), exact
//!   against a reference sample, approximate (labelled) against the bundle's percentiles; PSI on
//!   reference-decile bins ([`numeric::PSI_BINS`] bins, shares floored at
//!   [`stats::PSI_EPSILON`]); change of missing rate;
//! - categorical: PSI over the levels plus an "unknown" bin, chi-square goodness of fit against the
//!   reference shares, Cohen's w; change of missing rate.
//!
//! The KS and chi-square p-values of all features are adjusted together with Benjamini-Hochberg.
//!
//! Alert levels ([`Status`]), per feature, the worst that applies:
//! - `insufficient_data`: fewer than [`MIN_CURRENT_ROWS`] current rows with a value (for the
//!   distribution tests) or in total (for the missing rate): no alert is raised on those numbers.
//! - `drift`: PSI >= [`PSI_DRIFT`]; or adjusted p < [`ALPHA`] with a large effect (KS D >=
//!   [`KS_DRIFT_EFFECT`], Cohen's w >= [`W_DRIFT_EFFECT`]); or a missing rate that moved by at least
//!   [`MISSING_DRIFT`] (absolute).
//! - `watch`: PSI >= [`PSI_WATCH`]; or adjusted p < [`ALPHA`] with at least a small effect (D >=
//!   [`KS_WATCH_EFFECT`], w >= [`W_WATCH_EFFECT`]); or a missing rate moved by >= [`MISSING_WATCH`].
//! - `ok` otherwise.
//!
//! The minimum effect keeps very large log volumes, where any tiny difference is "significant",
//! from alerting on differences nobody should act on.

pub mod categorical;
pub mod ks;
pub mod monitor;
pub mod numeric;
#[cfg(test)]
mod scipy_parity;
pub mod stats;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

pub use categorical::{
    CategoricalAccumulator, CategoricalComparison, CategoricalReference, compare_categorical,
};
pub use ks::{KsMethod, KsResult, ks_2samp};
pub use numeric::{NumericAccumulator, NumericComparison, NumericReference, compare_numeric};

/// Fewer current rows than this: "insufficient data" instead of a verdict.
pub const MIN_CURRENT_ROWS: u64 = 100;
pub const PSI_WATCH: f64 = 0.1;
pub const PSI_DRIFT: f64 = 0.2;
/// Significance level applied to Benjamini-Hochberg adjusted p-values.
pub const ALPHA: f64 = 0.05;
pub const KS_WATCH_EFFECT: f64 = 0.05;
pub const KS_DRIFT_EFFECT: f64 = 0.1;
pub const W_WATCH_EFFECT: f64 = 0.1;
pub const W_DRIFT_EFFECT: f64 = 0.3;
pub const MISSING_WATCH: f64 = 0.05;
pub const MISSING_DRIFT: f64 = 0.10;

/// Alert level; the declaration order is the report order (most urgent first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Drift,
    Watch,
    InsufficientData,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Drift => "drift",
            Status::Watch => "watch",
            Status::InsufficientData => "insufficient_data",
            Status::Ok => "ok",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Comparison {
    Numeric(NumericComparison),
    Categorical(CategoricalComparison),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureDrift {
    pub name: String,
    pub status: Status,
    /// Why the status is what it is, in words.
    pub reasons: Vec<String>,
    /// The feature's test p-value (KS or chi-square) after Benjamini-Hochberg.
    pub p_adjusted: Option<f64>,
    #[serde(flatten)]
    pub comparison: Comparison,
}

impl FeatureDrift {
    pub fn new(name: String, comparison: Comparison) -> Self {
        FeatureDrift { name, status: Status::Ok, reasons: Vec::new(), p_adjusted: None, comparison }
    }

    fn pvalue(&self) -> Option<f64> {
        match &self.comparison {
            Comparison::Numeric(c) if c.current_non_missing >= MIN_CURRENT_ROWS => c.ks.map(|k| k.pvalue),
            Comparison::Categorical(c) if c.current_non_missing >= MIN_CURRENT_ROWS => {
                c.chi_square.as_ref().map(|x| x.pvalue)
            }
            _ => None,
        }
    }
}

/// Adjusts the p-values of all features together (Benjamini-Hochberg), then sets each feature's
/// status and reasons, and sorts the features most urgent first (then by PSI, then by name).
pub fn assess(features: &mut [FeatureDrift]) {
    let raw: Vec<f64> = features.iter().map(|f| f.pvalue().unwrap_or(f64::NAN)).collect();
    let adjusted = stats::benjamini_hochberg(&raw);
    for (f, p) in features.iter_mut().zip(adjusted) {
        f.p_adjusted = if p.is_nan() { None } else { Some(p) };
        let (status, reasons) = judge(f);
        f.status = status;
        f.reasons = reasons;
    }
    features.sort_by(|a, b| {
        a.status.cmp(&b.status).then(psi_of(b).total_cmp(&psi_of(a))).then_with(|| a.name.cmp(&b.name))
    });
}

fn psi_of(f: &FeatureDrift) -> f64 {
    match &f.comparison {
        Comparison::Numeric(c) => c.psi,
        Comparison::Categorical(c) => c.psi,
    }
    .unwrap_or(0.0)
}

fn judge(f: &FeatureDrift) -> (Status, Vec<String>) {
    let (n_cur, rows, psi, ref_missing, cur_missing) = match &f.comparison {
        Comparison::Numeric(c) => {
            (c.current_non_missing, c.current_rows, c.psi, c.reference_missing_rate, c.current_missing_rate)
        }
        Comparison::Categorical(c) => {
            (c.current_non_missing, c.current_rows, c.psi, c.reference_missing_rate, c.current_missing_rate)
        }
    };
    let mut levels: Vec<(Status, String)> = Vec::new();
    if rows >= MIN_CURRENT_ROWS {
        let delta = cur_missing - ref_missing;
        let text = format!("missing rate {:.1} % -> {:.1} %", ref_missing * 100.0, cur_missing * 100.0);
        if delta.abs() >= MISSING_DRIFT {
            levels.push((Status::Drift, text));
        } else if delta.abs() >= MISSING_WATCH {
            levels.push((Status::Watch, text));
        }
    }
    let enough = n_cur >= MIN_CURRENT_ROWS;
    if !enough {
        levels.push((
            Status::InsufficientData,
            format!("{n_cur} current values (< {MIN_CURRENT_ROWS}): distribution not tested"),
        ));
    } else {
        if let Some(psi) = psi {
            if psi >= PSI_DRIFT {
                levels.push((Status::Drift, format!("PSI {psi:.3} >= {PSI_DRIFT}")));
            } else if psi >= PSI_WATCH {
                levels.push((Status::Watch, format!("PSI {psi:.3} >= {PSI_WATCH}")));
            }
        }
        if let Some(p) = f.p_adjusted.filter(|&p| p < ALPHA) {
            let (effect, name, watch, drift) = match &f.comparison {
                Comparison::Numeric(c) => {
                    (c.ks.map_or(0.0, |k| k.statistic), "KS D", KS_WATCH_EFFECT, KS_DRIFT_EFFECT)
                }
                Comparison::Categorical(c) => (
                    c.chi_square.as_ref().map_or(0.0, |x| x.cohens_w),
                    "Cohen's w",
                    W_WATCH_EFFECT,
                    W_DRIFT_EFFECT,
                ),
            };
            let text = format!("adjusted p {p:.2e} < {ALPHA} with {name} {effect:.3}");
            if effect >= drift {
                levels.push((Status::Drift, text));
            } else if effect >= watch {
                levels.push((Status::Watch, text));
            }
        }
    }
    let worst = levels.iter().map(|(s, _)| *s).min().unwrap_or(Status::Ok);
    // A missing-rate alert outranks "insufficient data"; otherwise report what applies.
    let reasons =
        levels.into_iter().filter(|(s, _)| *s <= Status::InsufficientData).map(|(_, t)| t).collect();
    (worst, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_feature(name: &str, shift: f64, n: usize) -> FeatureDrift {
        let reference = NumericReference::from_values((0..5000).map(|i| (i % 100) as f64));
        let mut acc = NumericAccumulator::new(&reference);
        for i in 0..n {
            acc.push((i % 100) as f64 + shift);
        }
        FeatureDrift::new(name.into(), Comparison::Numeric(compare_numeric(&reference, &acc)))
    }

    #[test]
    fn shifted_feature_drifts_and_stable_one_does_not() {
        let mut features = [
            numeric_feature("stable", 0.0, 20_000),
            numeric_feature("shifted", 30.0, 20_000),
            numeric_feature("few", 30.0, 50),
            numeric_feature("slight", 1.0, 20_000),
        ];
        assess(&mut features);
        let by = |n: &str| features.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by("stable").status, Status::Ok, "{:?}", by("stable").reasons);
        assert_eq!(by("shifted").status, Status::Drift);
        assert_eq!(by("few").status, Status::InsufficientData);
        // 1 % shift of a uniform: significant with 20k rows, but below the minimum effect.
        assert_eq!(by("slight").status, Status::Ok, "{:?}", by("slight").reasons);
        assert_eq!(features[0].name, "shifted");
    }
}
