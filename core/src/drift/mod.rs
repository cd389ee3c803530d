//! Drift statistics: compare what the model sees in production (the prediction logs) with the
//! training data (the bundle's reference statistics, or a reference sample). Pure functions and
//! streaming accumulators, no I/O: the CLI feeds them, a browser or the worker could too.
//!
//! Tests per input (docs/DRIFT.md gives the reason for each choice):
//! - numeric: two-sample KS as `scipy.stats.ks_2samp` ([`ks`]), exact against a reference
//!   sample; against the bundle's percentiles the statistic is approximate and its p-value is not
//!   used (shown as approximate). PSI on reference-decile bins ([`numeric::PSI_BINS`] bins, shares
//!   floored at [`stats::PSI_EPSILON`]), judged against its sampling distribution: without drift
//!   n PSI is asymptotically χ²(B - 1) like Pearson's statistic on the same bins (Yurdakul 2018,
//!   "Statistical properties of the population stability index"); Pearson's chi-square test of
//!   those bins (two-sample with a reference sample) gives the p-value, as its tail is accurate at
//!   small n, so PSI alone never alarms on the noise of a small window;
//! - categorical: levels whose expected current count is below [`Config::min_expected_count`]
//!   are pooled into OTHER (with unknown levels); two-sample chi-square test of homogeneity
//!   (`scipy.stats.chi2_contingency(correction=False)` on reference and current counts), Cohen's
//!   w; PSI over the pooled levels, judged as above;
//! - missing rate (absent, null, sentinel, non-finite): two-proportion z-test;
//! - the score distribution is judged like a numeric input, the refusal rate by a two-proportion
//!   z-test with Cohen's h ([`compare_rate`]).
//!
//! Multiple testing, in two stages (see [`judge`]): the tests of one input are one family
//! (Bonferroni within it); the families of the whole report (every input, the score, the refusal
//! rate) are adjusted together with Benjamini-Hochberg, which keeps the chance of any false alarm
//! near [`Config::alpha`] when nothing drifts (measured: cli/src/drift/simulation.rs). A test alarms when its adjusted p < alpha AND its effect
//! reaches the floor (PSI, KS D, Cohen's w, missing-rate change, Cohen's h): `drift` from the drift
//! floor, `watch` from the watch floor. The floor keeps very large log volumes, where any tiny
//! difference is "significant", from alerting on differences nobody should act on.
//!
//! Statuses ([`Status`]): `drift`, `watch`, `ok`; `insufficient_data` (fewer than
//! [`Config::min_current_rows`] current values); `reference_too_small` (fewer than
//! [`Config::min_reference_rows`] reference values); `not_sent` (the clients do not send it).

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
use numeric::PsiBin;
pub use numeric::{NumericAccumulator, NumericComparison, NumericReference, compare_numeric};

/// Every threshold of the drift report with its default: the one place they are set. The CLI
/// overrides some from its options and prints them all in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Fewer current values than this: `insufficient_data` instead of a verdict (default 100).
    pub min_current_rows: u64,
    /// Fewer reference values than this: `reference_too_small` (default 100).
    pub min_reference_rows: u64,
    /// Significance level of the Benjamini-Hochberg adjusted p-values (default 0.05).
    pub alpha: f64,
    /// PSI effect floors (defaults 0.1 / 0.2, the usual credit-scoring rule of thumb).
    pub psi_watch: f64,
    /// PSI floor of `drift` (default 0.2); see `psi_watch`.
    pub psi_drift: f64,
    /// KS D effect floors (defaults 0.05 / 0.1).
    pub ks_watch_effect: f64,
    /// KS D floor of `drift` (default 0.1); see `ks_watch_effect`.
    pub ks_drift_effect: f64,
    /// Cohen's w effect floors of the categorical chi-square (defaults 0.1 / 0.3: small / medium).
    pub cohens_w_watch: f64,
    /// Cohen's w floor of `drift` (default 0.3, a medium effect); see `cohens_w_watch`.
    pub cohens_w_drift: f64,
    /// Missing-rate change floors, absolute (defaults 0.05 / 0.10).
    pub missing_watch: f64,
    /// Missing-rate change floor of `drift` (default 0.10, i.e. 10 percentage points); see
    /// `missing_watch`.
    pub missing_drift: f64,
    /// An input whose key is present in fewer than this share of the scored records is "not sent
    /// by the clients" and not judged (default 0.01). Clients that omit a missing value still send
    /// the input in the records where they have it.
    pub not_sent_max_share: f64,
    /// Cohen's h floors of a refusal-rate change (defaults 0.1 / 0.2: 31 % -> 36 % / -> 41 %).
    pub refusal_watch_h: f64,
    /// Cohen's h floor of `drift` for the refusal rate (default 0.2); see `refusal_watch_h`.
    pub refusal_drift_h: f64,
    /// Categorical levels expected fewer times than this in the current window are pooled into
    /// OTHER (default 5, Cochran's rule for chi-square tests).
    pub min_expected_count: f64,
    /// Inputs that must drift for the inputs alone to make the overall status `drift` (default 1;
    /// fewer drifting inputs make it `watch`).
    pub min_drift_inputs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_current_rows: 100,
            min_reference_rows: 100,
            alpha: 0.05,
            psi_watch: 0.1,
            psi_drift: 0.2,
            ks_watch_effect: 0.05,
            ks_drift_effect: 0.1,
            cohens_w_watch: 0.1,
            cohens_w_drift: 0.3,
            missing_watch: 0.05,
            missing_drift: 0.10,
            not_sent_max_share: 0.01,
            refusal_watch_h: 0.1,
            refusal_drift_h: 0.2,
            min_expected_count: 5.0,
            min_drift_inputs: 1,
        }
    }
}

/// Alert level; the declaration order is the report order (most urgent first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A test is significant (adjusted p < [`Config::alpha`]) and its effect reaches the drift
    /// floor.
    Drift,
    /// A test is significant and its effect reaches the watch floor, not the drift floor.
    Watch,
    /// Fewer than [`Config::min_current_rows`] current values: not tested.
    InsufficientData,
    /// Too few reference values to compare with: not a verdict.
    ReferenceTooSmall,
    /// Judged: no significant test reaches a floor.
    Ok,
    /// The clients do not send this input (absent from nearly every record): not a verdict.
    NotSent,
}

impl Status {
    /// The snake_case name used in the JSON summary and the HTML report (`insufficient_data`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Drift => "drift",
            Status::Watch => "watch",
            Status::InsufficientData => "insufficient_data",
            Status::ReferenceTooSmall => "reference_too_small",
            Status::Ok => "ok",
            Status::NotSent => "not_sent",
        }
    }
}

/// The statistics of one input (JSON: `type` plus the variant's fields, inline in the feature).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Comparison {
    /// A numeric input or the score: KS, PSI on reference deciles, missing rate.
    Numeric(NumericComparison),
    /// A categorical input: chi-square of homogeneity, PSI over the (pooled) levels, missing rate.
    Categorical(CategoricalComparison),
}

/// One test of a feature: its effect, p-value, and the p-value after Benjamini-Hochberg over the
/// whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestResult {
    /// `ks`, `psi`, `chi_square` or `missing_rate`.
    pub test: &'static str,
    /// KS D, PSI, Cohen's w, or the absolute missing-rate change.
    pub effect: f64,
    /// The test's own p-value: KS (`scipy.stats.ks_2samp`), Pearson's chi-square on the PSI's
    /// bins (`psi`), the chi-square test of homogeneity (`chi_square`), the two-proportion
    /// z-test (`missing_rate`).
    pub pvalue: f64,
    /// After [`judge`]'s two stages (Bonferroni within the input, Benjamini-Hochberg across the
    /// report), in [0, 1].
    pub p_adjusted: f64,
    /// `drift`, `watch` or `ok`: `p_adjusted` against [`Config::alpha`] and `effect` against the
    /// test's floors.
    pub status: Status,
}

/// The drift judgement of one input (or of the score distribution, named "predicted
/// probability" by the CLI): its statistics, tests, status and the reasons in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureDrift {
    /// Input name, as in the schema.
    pub name: String,
    /// Most urgent status of its tests (set by [`judge`]).
    pub status: Status,
    /// Why the status is what it is, in words.
    pub reasons: Vec<String>,
    /// Smallest adjusted p-value of the feature's tests.
    pub p_adjusted: Option<f64>,
    /// The tests run (none for `not_sent` and `reference_too_small`; a test whose p-value is not
    /// finite is left out).
    pub tests: Vec<TestResult>,
    /// Share of the records whose `inputs` hold this key (even as `null`); `None` when unknown.
    /// Below [`Config::not_sent_max_share`] the input has status `not_sent`.
    pub sent_share: Option<f64>,
    /// How the reference sample's cells of this input were read (`None` for the bundle's
    /// statistics, which hold no raw cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_reading: Option<ReadingCounts>,
    /// How the logged values of this input were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_reading: Option<ReadingCounts>,
    /// The statistics the tests are computed from.
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// How the values of one input were read on one side (reference cells or logged values), by
/// the scorer's rule [`crate::schema::InputField::read`]: nothing unparseable goes silently
/// missing. Invalid values are left out of the distributions (as missing) and counted here.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReadingCounts {
    /// Values read (reference rows, or records that were scored).
    pub rows: u64,
    /// Absent, null or empty.
    pub missing: u64,
    /// The dataset's "not available" code (DAYS_EMPLOYED = 365243, XNA): missing for the model,
    /// shown on its own because a change in its share is a change in the population.
    pub sentinel: u64,
    /// Text no level, alias or code matches (compared as unknown levels, pooled into OTHER).
    pub unknown_levels: u64,
    /// Values the scorer rejects, by issue code (`wrong_type`, `not_finite`, `not_integer`,
    /// `out_of_range`).
    pub invalid: Vec<(String, u64)>,
    /// The first invalid value, as received (at most 60 characters).
    pub invalid_example: Option<String>,
}

impl ReadingCounts {
    /// Counts one reading; `shown` gives the received text for the example.
    pub fn add(&mut self, reading: &crate::schema::InputReading<'_>, shown: impl FnOnce() -> String) {
        use crate::schema::InputReading as R;
        self.rows += 1;
        match reading {
            R::Missing => self.missing += 1,
            R::Sentinel => self.sentinel += 1,
            R::UnknownLevel(_) => self.unknown_levels += 1,
            R::Invalid(code) => {
                let code = code.as_str();
                match self.invalid.iter_mut().find(|(c, _)| c == code) {
                    Some((_, n)) => *n += 1,
                    None => self.invalid.push((String::from(code), 1)),
                }
                if self.invalid_example.is_none() {
                    self.invalid_example = Some(String::from(crate::schema::truncate(&shown(), 60)));
                }
            }
            R::Number(_) | R::Level { .. } => {}
        }
    }

    /// Values the scorer rejects, all codes.
    pub fn invalid_total(&self) -> u64 {
        self.invalid.iter().map(|(_, n)| n).sum()
    }

    /// Share of the rows holding the dataset's "not available" code.
    pub fn sentinel_share(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.sentinel as f64 / self.rows as f64)
    }
}

impl FeatureDrift {
    /// An input not judged yet (status `ok`, no tests): [`judge`] plans and concludes its tests.
    pub fn new(name: String, comparison: Comparison) -> Self {
        FeatureDrift {
            name,
            status: Status::Ok,
            reasons: Vec::new(),
            p_adjusted: None,
            tests: Vec::new(),
            sent_share: None,
            reference_reading: None,
            current_reading: None,
            comparison,
        }
    }

    fn counts(&self) -> (u64, u64, u64, f64, f64) {
        match &self.comparison {
            Comparison::Numeric(c) => (
                c.reference_non_missing,
                c.current_non_missing,
                c.current_rows,
                c.reference_missing_rate,
                c.current_missing_rate,
            ),
            Comparison::Categorical(c) => (
                c.reference_non_missing,
                c.current_non_missing,
                c.current_rows,
                c.reference_missing_rate,
                c.current_missing_rate,
            ),
        }
    }

    fn psi(&self) -> Option<f64> {
        match &self.comparison {
            Comparison::Numeric(c) => c.psi,
            Comparison::Categorical(c) => c.psi,
        }
    }

    /// The feature's tests (p-values not yet adjusted), per the rules of the module docs.
    fn plan_tests(&mut self, cfg: &Config) {
        self.tests.clear();
        self.reasons.clear();
        if self.sent_share.is_some_and(|s| s < cfg.not_sent_max_share) {
            let share = self.sent_share.unwrap_or(0.0) * 100.0;
            self.status = Status::NotSent;
            self.reasons
                .push(format!("not sent by the clients (present in {share:.1} % of records): not judged"));
            return;
        }
        let (n_ref, n_cur, rows, ref_missing, cur_missing) = self.counts();
        if n_ref < cfg.min_reference_rows {
            self.status = Status::ReferenceTooSmall;
            self.reasons
                .push(format!("{n_ref} reference values (< {}): not compared", cfg.min_reference_rows));
            return;
        }
        let mut push = |test, effect: f64, pvalue: f64| {
            if pvalue.is_finite() {
                self.tests.push(TestResult { test, effect, pvalue, p_adjusted: pvalue, status: Status::Ok });
            }
        };
        if rows >= cfg.min_current_rows && ref_missing < 1.0 {
            // Reference rows behind the missing rate: the non-missing values and the missing ones.
            let ref_rows = libm::round(n_ref as f64 / (1.0 - ref_missing)) as u64;
            let missing = libm::round(cur_missing * rows as f64) as u64;
            let (p, _) = stats::two_proportion_test(ref_missing, ref_rows, missing, rows);
            push("missing_rate", libm::fabs(cur_missing - ref_missing), p);
        }
        if n_cur < cfg.min_current_rows {
            return;
        }
        // PSI's significance: Pearson's chi-square test on the PSI's own bins (n PSI is
        // asymptotically the same statistic, but its chi-square tail is 2.5 times too light at
        // n = 100 with 10 bins; Pearson's is within 10 %).
        let binned = |bins: &[PsiBin]| {
            let r: Vec<f64> = bins.iter().map(|b| b.reference_share * n_ref as f64).collect();
            let c: Vec<f64> = bins.iter().map(|b| b.current_share * n_cur as f64).collect();
            stats::chi_square_homogeneity(&r, &c).map_or(f64::NAN, |x| x.1)
        };
        match &self.comparison {
            Comparison::Numeric(c) => {
                if let (Some(k), false) = (c.ks, c.ks_approximate) {
                    push("ks", k.statistic, k.pvalue);
                }
                if let Some(psi) = c.psi {
                    push("psi", psi, binned(&c.psi_bins));
                }
            }
            Comparison::Categorical(c) => {
                if let Some(x) = &c.chi_square {
                    push("chi_square", x.cohens_w, x.pvalue);
                    // Same bins, same test: PSI is judged on the chi-square's p-value.
                    if let Some(psi) = c.psi {
                        push("psi", psi, x.pvalue);
                    }
                }
            }
        }
    }

    /// Status and reasons from the adjusted p-values of the planned tests.
    fn conclude(&mut self, cfg: &Config) {
        if matches!(self.status, Status::NotSent | Status::ReferenceTooSmall) {
            return;
        }
        let (_, n_cur, _, ref_missing, cur_missing) = self.counts();
        let mut worst = Status::Ok;
        let mut reasons: Vec<(Status, String)> = Vec::new();
        for t in &mut self.tests {
            let (watch, drift) = match t.test {
                "ks" => (cfg.ks_watch_effect, cfg.ks_drift_effect),
                "psi" => (cfg.psi_watch, cfg.psi_drift),
                "chi_square" => (cfg.cohens_w_watch, cfg.cohens_w_drift),
                _ => (cfg.missing_watch, cfg.missing_drift),
            };
            let significant = t.p_adjusted < cfg.alpha;
            t.status = if significant && t.effect >= drift {
                Status::Drift
            } else if significant && t.effect >= watch {
                Status::Watch
            } else {
                Status::Ok
            };
            if t.status != Status::Ok {
                let p = fmt_p(t.p_adjusted);
                let text = match t.test {
                    "ks" => format!("KS D {:.3} (adjusted p {p})", t.effect),
                    "psi" => format!(
                        "PSI {:.3} >= {} (adjusted p {p})",
                        t.effect,
                        if t.status == Status::Drift { drift } else { watch }
                    ),
                    "chi_square" => format!("level shares moved: Cohen's w {:.3} (adjusted p {p})", t.effect),
                    _ => format!(
                        "missing rate {:.1} % -> {:.1} % (adjusted p {p})",
                        ref_missing * 100.0,
                        cur_missing * 100.0
                    ),
                };
                reasons.push((t.status, text));
                worst = worst.min(t.status);
            }
        }
        self.p_adjusted = self.tests.iter().map(|t| t.p_adjusted).reduce(f64::min);
        if worst == Status::Ok && n_cur < cfg.min_current_rows {
            worst = Status::InsufficientData;
            reasons.push((
                Status::InsufficientData,
                format!("{n_cur} current values (< {}): distribution not tested", cfg.min_current_rows),
            ));
        }
        reasons.sort_by_key(|r| r.0);
        self.status = worst;
        self.reasons = reasons.into_iter().map(|(_, t)| t).collect();
    }
}

/// Judges every feature and the score distribution, and sets their statuses (the refusal rate
/// comes judged from [`compare_rate`] and is adjusted here too): all p-values adjusted together
/// (Benjamini-Hochberg), then each test against its effect floor. Features are sorted most urgent
/// first (then by PSI, then by name). Returns the overall [`Verdict`].
pub fn judge(
    features: &mut [FeatureDrift],
    mut score: Option<&mut FeatureDrift>,
    mut refusal: Option<&mut RateComparison>,
    cfg: &Config,
) -> Verdict {
    for f in features.iter_mut() {
        f.plan_tests(cfg);
    }
    if let Some(s) = score.as_deref_mut() {
        s.plan_tests(cfg);
    }
    // Two stages (Benjamini & Bogomolov 2014, "Selective inference on multiple families of
    // hypotheses"): each feature is a family whose p-value is the Bonferroni minimum of its tests;
    // the families (features, score, refusal rate) are adjusted together with Benjamini-Hochberg;
    // within the R of M families found significant, a test counts at level alpha R / M.
    let family_p = |f: &FeatureDrift| {
        let k = f.tests.len() as f64;
        f.tests.iter().map(|t| (t.pvalue * k).min(1.0)).reduce(f64::min).unwrap_or(f64::NAN)
    };
    let mut raw: Vec<f64> = features.iter().chain(score.as_deref()).map(family_p).collect();
    if let Some(r) = refusal.as_deref() {
        raw.push(if r.current_rows >= cfg.min_current_rows { r.pvalue } else { f64::NAN });
    }
    let adjusted = stats::benjamini_hochberg(&raw);
    let families = adjusted.iter().filter(|p| !p.is_nan()).count() as f64;
    let selected = adjusted.iter().filter(|&&p| p < cfg.alpha).count() as f64;
    let mut next = adjusted.into_iter();
    for f in features.iter_mut().chain(score.as_deref_mut()) {
        let family = next.next().unwrap_or(f64::NAN);
        let k = f.tests.len() as f64;
        for t in &mut f.tests {
            let bonferroni = (t.pvalue * k).min(1.0);
            t.p_adjusted = if family < cfg.alpha {
                (bonferroni * families / selected).min(1.0)
            } else {
                family.max(bonferroni)
            };
        }
        f.conclude(cfg);
    }
    if let Some(r) = refusal.as_deref_mut() {
        r.p_adjusted = next.next().unwrap_or(f64::NAN);
        r.conclude(cfg);
    }
    features.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then(b.psi().unwrap_or(0.0).total_cmp(&a.psi().unwrap_or(0.0)))
            .then_with(|| a.name.cmp(&b.name))
    });
    verdict(features, score.as_deref(), refusal.as_deref(), cfg.min_drift_inputs)
}

/// A rate compared with its reference (the refusal rate): two-proportion z-test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateComparison {
    /// The reference rate, in [0, 1] (the bundle's `refusal_rate`, or the reference sample's).
    pub reference_rate: f64,
    /// Rows behind the reference rate (training rows, or the reference sample's scored rows).
    pub reference_rows: u64,
    /// `current_count / current_rows`, in [0, 1]; NaN without current rows.
    pub current_rate: f64,
    /// Current rows behind the rate (log records with a prediction).
    pub current_rows: u64,
    /// Two-sided p-value of the pooled two-proportion z-test (normal approximation).
    pub pvalue: f64,
    /// After Benjamini-Hochberg with the report's other tests (set by [`judge`]).
    pub p_adjusted: f64,
    /// Effect size: Cohen's h = |2 asin √current - 2 asin √reference|.
    pub cohens_h: f64,
    /// `drift`, `watch`, `ok` or `insufficient_data` (set by [`judge`]).
    pub status: Status,
    /// Why, in words (empty when `ok`).
    pub reasons: Vec<String>,
}

/// Compares `current_count / current_rows` with a reference rate measured on `reference_rows`
/// rows ([`stats::two_proportion_test`]); [`judge`] then sets the status: `drift` when the
/// adjusted p < alpha and Cohen's h >= [`Config::refusal_drift_h`], `watch` from
/// [`Config::refusal_watch_h`], `insufficient_data` below [`Config::min_current_rows`] rows.
pub fn compare_rate(
    reference_rate: f64,
    reference_rows: u64,
    current_count: u64,
    current_rows: u64,
) -> RateComparison {
    let current_rate = if current_rows == 0 { f64::NAN } else { current_count as f64 / current_rows as f64 };
    let (pvalue, h) = stats::two_proportion_test(reference_rate, reference_rows, current_count, current_rows);
    RateComparison {
        reference_rate,
        reference_rows,
        current_rate,
        current_rows,
        pvalue,
        p_adjusted: pvalue,
        cohens_h: h,
        status: Status::Ok,
        reasons: Vec::new(),
    }
}

impl RateComparison {
    fn conclude(&mut self, cfg: &Config) {
        let text = format!(
            "refusal rate {:.1} % -> {:.1} % (adjusted p {})",
            self.reference_rate * 100.0,
            self.current_rate * 100.0,
            fmt_p(self.p_adjusted)
        );
        let significant = self.p_adjusted < cfg.alpha;
        (self.status, self.reasons) = if self.current_rows < cfg.min_current_rows || self.reference_rows == 0
        {
            (
                Status::InsufficientData,
                alloc::vec![format!(
                    "{} scored records (< {}): refusal rate not tested",
                    self.current_rows, cfg.min_current_rows
                )],
            )
        } else if significant && self.cohens_h >= cfg.refusal_drift_h {
            (Status::Drift, alloc::vec![text])
        } else if significant && self.cohens_h >= cfg.refusal_watch_h {
            (Status::Watch, alloc::vec![text])
        } else {
            (Status::Ok, Vec::new())
        };
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
    /// Overall status: `drift`, `watch`, `ok` or `insufficient_data` (rule at [`judge`]'s verdict).
    pub status: Status,
    /// Inputs with status `drift`.
    pub inputs_drifting: usize,
    /// Inputs with status `watch`.
    pub inputs_watch: usize,
    /// Inputs judged (neither `not_sent` nor `insufficient_data`).
    pub inputs_judged: usize,
    /// Inputs the clients do not send (`not_sent`).
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
fn verdict(
    features: &[FeatureDrift],
    score: Option<&FeatureDrift>,
    refusal: Option<&RateComparison>,
    min_drift_inputs: usize,
) -> Verdict {
    let count = |s: Status| features.iter().filter(|f| f.status == s).count();
    let (drifting, watch, not_sent) = (count(Status::Drift), count(Status::Watch), count(Status::NotSent));
    let judged =
        features.iter().filter(|f| matches!(f.status, Status::Drift | Status::Watch | Status::Ok)).count();
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
        || score.is_some_and(|s| matches!(s.status, Status::Drift | Status::Watch | Status::Ok))
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
        let v = judge(&mut features, None, None, &Config::default());
        let by = |n: &str| features.iter().find(|f| f.name == n).unwrap();
        assert_eq!(by("stable").status, Status::Ok, "{:?}", by("stable").reasons);
        assert_eq!(by("shifted").status, Status::Drift);
        assert_eq!(by("few").status, Status::InsufficientData);
        // 1 % shift of a uniform: significant with 20k rows, but below the minimum effect.
        assert_eq!(by("slight").status, Status::Ok, "{:?}", by("slight").reasons);
        assert_eq!(features[0].name, "shifted");
        assert_eq!((v.status, v.inputs_drifting, v.inputs_judged), (Status::Drift, 1, 3));
    }

    #[test]
    fn inputs_not_sent_are_not_judged() {
        let mut silent = numeric_feature("silent", 0.0, 0);
        silent.sent_share = Some(0.0);
        let mut features = [numeric_feature("stable", 0.0, 20_000), silent];
        let v = judge(&mut features, None, None, &Config::default());
        assert_eq!(features[1].status, Status::NotSent);
        assert_eq!((v.status, v.inputs_judged, v.inputs_not_sent), (Status::Ok, 1, 1));
    }

    #[test]
    fn small_reference_is_not_compared() {
        let reference = NumericReference::from_values((0..40).map(f64::from));
        let mut acc = NumericAccumulator::new(&reference);
        (0..1000).for_each(|i| acc.push(f64::from(i % 40) + 100.0));
        let mut f = [FeatureDrift::new("x".into(), Comparison::Numeric(compare_numeric(&reference, &acc)))];
        let v = judge(&mut f, None, None, &Config::default());
        assert_eq!(f[0].status, Status::ReferenceTooSmall);
        assert_eq!(v.status, Status::InsufficientData);
    }

    #[test]
    fn refusal_rate_enters_the_verdict() {
        // scipy.stats.chi2_contingency([[165, 835], [746, 254]], correction=True).pvalue =
        // 1.669156843916518e-149 (the continuity-corrected two-proportion test);
        // Cohen's h = 1.2485943320219328.
        let mut r = compare_rate(0.165, 1000, 746, 1000);
        assert!((r.pvalue / 1.669_156_843_916_518e-149 - 1.0).abs() < 1e-6, "{}", r.pvalue);
        assert!((r.cohens_h - 1.248_594_332_021_932_8).abs() < 1e-12);
        let mut same = compare_rate(0.165, 1000, 170, 1000);
        let mut features = [numeric_feature("stable", 0.0, 20_000)];
        assert_eq!(judge(&mut features, None, Some(&mut r), &Config::default()).status, Status::Drift);
        assert_eq!(r.status, Status::Drift);
        assert_eq!(judge(&mut features, None, Some(&mut same), &Config::default()).status, Status::Ok);
    }
}
