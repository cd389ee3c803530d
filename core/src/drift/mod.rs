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
/// An input whose key is present in fewer than this share of the scored records is "not sent by
/// the clients" (an optional input nobody sends): reported once, and left out of the verdict.
/// Clients that omit a missing value still send the input in the records where they have it.
pub const NOT_SENT_MAX_SHARE: f64 = 0.01;
/// Smallest effect (Cohen's h, |2 asin √p1 - 2 asin √p0|) of a refusal-rate change that can be
/// `drift` when significant: 0.2 is Cohen's "small" effect (31 % -> 41 %, 16 % -> 24 %).
pub const REFUSAL_DRIFT_EFFECT: f64 = 0.2;
/// Smallest Cohen's h that can be `watch` (31 % -> 36 %).
pub const REFUSAL_WATCH_EFFECT: f64 = 0.1;

/// Alert level; the declaration order is the report order (most urgent first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Drift,
    Watch,
    InsufficientData,
    Ok,
    /// The clients do not send this input (absent from nearly every record): not a verdict.
    NotSent,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Drift => "drift",
            Status::Watch => "watch",
            Status::InsufficientData => "insufficient_data",
            Status::Ok => "ok",
            Status::NotSent => "not_sent",
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
    /// Share of the records whose `inputs` hold this key (even as `null`); `None` when unknown.
    /// Below [`NOT_SENT_MAX_SHARE`] the input has status `not_sent`.
    pub sent_share: Option<f64>,
    #[serde(flatten)]
    pub comparison: Comparison,
}

impl FeatureDrift {
    pub fn new(name: String, comparison: Comparison) -> Self {
        FeatureDrift {
            name,
            status: Status::Ok,
            reasons: Vec::new(),
            p_adjusted: None,
            sent_share: None,
            comparison,
        }
    }

    /// The clients do not send this input (see [`NOT_SENT_MAX_SHARE`]).
    pub fn not_sent(&self) -> bool {
        self.sent_share.is_some_and(|s| s < NOT_SENT_MAX_SHARE)
    }

    fn pvalue(&self) -> Option<f64> {
        if self.not_sent() {
            return None;
        }
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
    if f.not_sent() {
        let share = f.sent_share.unwrap_or(0.0) * 100.0;
        return (
            Status::NotSent,
            alloc::vec![format!("not sent by the clients (present in {share:.1} % of records): not judged")],
        );
    }
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

/// A rate compared with its reference (the refusal rate): two-proportion z-test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateComparison {
    pub reference_rate: f64,
    /// Rows behind the reference rate (training rows, or the reference sample's scored rows).
    pub reference_rows: u64,
    pub current_rate: f64,
    pub current_rows: u64,
    /// Two-sided p-value of the pooled two-proportion z-test (normal approximation).
    pub pvalue: f64,
    /// Effect size: Cohen's h = |2 asin √current - 2 asin √reference|.
    pub cohens_h: f64,
    pub status: Status,
    pub reasons: Vec<String>,
}

/// Compares `current_count / current_rows` with a reference rate measured on `reference_rows`
/// rows: pooled two-proportion z-test, z = (p1 - p0) / sqrt(p (1 - p) (1/n0 + 1/n1)), p-value
/// 2 Φ(-|z|) = erfc(|z| / √2) (as `statsmodels.stats.proportion.proportions_ztest`). Status
/// `drift` when p < [`ALPHA`] and Cohen's h >= [`REFUSAL_DRIFT_EFFECT`], `watch` from
/// [`REFUSAL_WATCH_EFFECT`], `insufficient_data` below [`MIN_CURRENT_ROWS`] rows. The effect
/// floor keeps a large log volume from alerting on a change nobody should act on.
pub fn compare_rate(
    reference_rate: f64,
    reference_rows: u64,
    current_count: u64,
    current_rows: u64,
) -> RateComparison {
    let current_rate = if current_rows == 0 { f64::NAN } else { current_count as f64 / current_rows as f64 };
    let (n0, n1) = (reference_rows as f64, current_rows as f64);
    let pooled = (reference_rate * n0 + current_count as f64) / (n0 + n1);
    let se = libm::sqrt(pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1));
    let diff = current_rate - reference_rate;
    let h =
        libm::fabs(2.0 * libm::asin(libm::sqrt(current_rate)) - 2.0 * libm::asin(libm::sqrt(reference_rate)));
    let pvalue = if current_rows == 0 || reference_rows == 0 {
        f64::NAN
    } else if se > 0.0 {
        libm::erfc(libm::fabs(diff / se) / core::f64::consts::SQRT_2)
    } else if diff == 0.0 {
        1.0
    } else {
        0.0
    };
    let text = format!(
        "refusal rate {:.1} % -> {:.1} % (p {})",
        reference_rate * 100.0,
        current_rate * 100.0,
        fmt_p(pvalue)
    );
    let (status, reasons) = if current_rows < MIN_CURRENT_ROWS || reference_rows == 0 {
        (
            Status::InsufficientData,
            alloc::vec![format!(
                "{current_rows} scored records (< {MIN_CURRENT_ROWS}): refusal rate not tested"
            )],
        )
    } else if pvalue < ALPHA && h >= REFUSAL_DRIFT_EFFECT {
        (Status::Drift, alloc::vec![text])
    } else if pvalue < ALPHA && h >= REFUSAL_WATCH_EFFECT {
        (Status::Watch, alloc::vec![text])
    } else {
        (Status::Ok, Vec::new())
    };
    RateComparison {
        reference_rate,
        reference_rows,
        current_rate,
        current_rows,
        pvalue,
        cohens_h: h,
        status,
        reasons,
    }
}

/// A p-value for people: 0.97, 0.032, 4.1e-6, "< 1e-300".
pub fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        String::from("n/a")
    } else if p >= 0.01 {
        format!("{p:.2}")
    } else if p >= 0.001 {
        format!("{p:.3}")
    } else if p > 1e-300 {
        format!("{p:.1e}")
    } else {
        String::from("< 1e-300")
    }
}

/// The report's overall judgement over the inputs, the score distribution and the refusal rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// Inputs with status `drift` / `watch`, inputs judged (not `not_sent`, not
    /// `insufficient_data`), inputs the clients do not send.
    pub inputs_drifting: usize,
    pub inputs_watch: usize,
    pub inputs_judged: usize,
    pub inputs_not_sent: usize,
    /// Inputs that must drift for the inputs alone to make the verdict `drift`.
    pub min_drift_inputs: usize,
    /// One line per part that is not `ok` ("3 of 10 inputs drift (30 %)", "score distribution:
    /// drift", ...), most urgent first.
    pub reasons: Vec<String>,
}

/// Overall status: `drift` when at least `min_drift_inputs` inputs drift, or the score
/// distribution or the refusal rate drifts; else `watch` when anything is `watch` or drifts
/// (fewer inputs than `min_drift_inputs`); else `ok` when something could be judged; else
/// `insufficient_data`. Inputs that are `not_sent` never count.
pub fn verdict(
    features: &[FeatureDrift],
    score: Option<&FeatureDrift>,
    refusal: Option<&RateComparison>,
    min_drift_inputs: usize,
) -> Verdict {
    let count = |s: Status| features.iter().filter(|f| f.status == s).count();
    let (drifting, watch, not_sent) = (count(Status::Drift), count(Status::Watch), count(Status::NotSent));
    let judged =
        features.iter().filter(|f| !matches!(f.status, Status::NotSent | Status::InsufficientData)).count();
    let min_drift_inputs = min_drift_inputs.max(1);
    let mut parts: Vec<(Status, String)> = Vec::new();
    if drifting > 0 {
        let status = if drifting >= min_drift_inputs { Status::Drift } else { Status::Watch };
        let names: Vec<&str> =
            features.iter().filter(|f| f.status == Status::Drift).map(|f| f.name.as_str()).take(5).collect();
        parts.push((
            status,
            format!(
                "{drifting} of {judged} inputs drift ({:.0} %): {}{}",
                100.0 * drifting as f64 / judged.max(1) as f64,
                names.join(", "),
                if drifting > names.len() { ", ..." } else { "" }
            ),
        ));
    }
    if watch > 0 {
        parts.push((Status::Watch, format!("{watch} of {judged} inputs to watch")));
    }
    if let Some(s) = score.filter(|s| matches!(s.status, Status::Drift | Status::Watch)) {
        parts.push((
            s.status,
            format!("score distribution: {} ({})", s.status.as_str(), s.reasons.join("; ")),
        ));
    }
    if let Some(r) = refusal.filter(|r| matches!(r.status, Status::Drift | Status::Watch)) {
        parts.push((r.status, r.reasons.join("; ")));
    }
    parts.sort_by_key(|p| p.0);
    let anything_judged = judged > 0
        || score.is_some_and(|s| !matches!(s.status, Status::InsufficientData | Status::NotSent))
        || refusal.is_some_and(|r| r.status != Status::InsufficientData);
    let status = match parts.first() {
        Some((s, _)) => *s,
        None if anything_judged => Status::Ok,
        None => Status::InsufficientData,
    };
    Verdict {
        status,
        inputs_drifting: drifting,
        inputs_watch: watch,
        inputs_judged: judged,
        inputs_not_sent: not_sent,
        min_drift_inputs,
        reasons: parts.into_iter().map(|(_, t)| t).collect(),
    }
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

    #[test]
    fn inputs_not_sent_are_not_judged() {
        let mut silent = numeric_feature("silent", 0.0, 0);
        silent.sent_share = Some(0.0);
        let mut features = [numeric_feature("stable", 0.0, 20_000), silent];
        assess(&mut features);
        assert_eq!(features[1].status, Status::NotSent);
        let v = verdict(&features, None, None, 1);
        assert_eq!((v.status, v.inputs_judged, v.inputs_not_sent), (Status::Ok, 1, 1));
    }

    #[test]
    fn refusal_rate_enters_the_verdict() {
        // Pooled z = 26.08663140827364, 2 * scipy.stats.norm.sf(z) = 5.170225905429319e-150;
        // Cohen's h = 1.2485943320219328.
        let r = compare_rate(0.165, 1000, 746, 1000);
        assert_eq!(r.status, Status::Drift);
        assert!((r.pvalue / 5.170_225_905_429_319e-150 - 1.0).abs() < 1e-6, "{}", r.pvalue);
        assert!((r.cohens_h - 1.248_594_332_021_932_8).abs() < 1e-12);
        let same = compare_rate(0.165, 1000, 170, 1000);
        assert_eq!(same.status, Status::Ok);
        let mut features = [numeric_feature("stable", 0.0, 20_000)];
        assess(&mut features);
        assert_eq!(verdict(&features, None, Some(&r), 1).status, Status::Drift);
        assert_eq!(verdict(&features, None, Some(&same), 1).status, Status::Ok);
    }
}
