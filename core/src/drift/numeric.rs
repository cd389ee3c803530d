//! Numeric features: a reference (exact sample or quantile summary), a streaming accumulator for
//! the current values, and their comparison (KS, PSI, missing rate, chart points).
//!
//! Bounded memory, exact KS: the accumulator does not keep current values. It counts them against
//! the reference's distinct values `r_0 < r_1 < ...` (per `r_k`: values equal to it, values
//! strictly between `r_{k-1}` and it, and values above the last). The reference ECDF is constant
//! between two reference values and the current ECDF is monotone there, so the supremum of
//! |F_ref - F_cur| is reached at some `r_k` or just below it: both are known from these counts.
//! The KS statistic against an exact reference sample is therefore exact for any number of current
//! rows, with memory proportional to the number of distinct reference values (not to the logs).
//! Against a quantile summary (the bundle's 101 percentiles) the reference CDF is only known at the
//! percentiles; the statistic is then an approximation that can be off by up to the largest gap
//! between consecutive percentile levels (0.01 for percentiles) and is labelled approximate.

use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use super::ks::{ExtremeDiff, KsResult, ks_from_extremes, ks_from_statistic};
use super::stats::psi;

/// Number of PSI bins (reference deciles; fewer when deciles coincide).
pub const PSI_BINS: usize = 10;
/// Most points drawn per ECDF curve.
pub const CHART_POINTS: usize = 200;

/// Reference distribution of a numeric input (or of the score), in the input's own unit.
#[derive(Clone, Debug, PartialEq)]
pub enum NumericReference {
    /// Exact reference sample: sorted non-missing values and the count of missing ones.
    Sample {
        /// Finite values, ascending.
        sorted: Vec<f64>,
        /// Missing (or non-finite) values.
        missing: u64,
    },
    /// Quantile summary: `quantiles[k]` is the k/(len-1) quantile of the non-missing values.
    Quantiles {
        /// Ascending, finite (the bundle's 101 percentiles).
        quantiles: Vec<f64>,
        /// Reference rows the summary describes (missing ones included).
        rows: u64,
        /// Share of those rows missing, in [0, 1].
        missing_rate: f64,
        /// Mean of the non-missing values (NaN when unknown).
        mean: f64,
    },
}

impl NumericReference {
    /// From raw values; NaN (and infinities) count as missing.
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        let mut missing = 0;
        let mut sorted = Vec::new();
        for v in values {
            if v.is_finite() { sorted.push(v) } else { missing += 1 }
        }
        sorted.sort_unstable_by(f64::total_cmp);
        NumericReference::Sample { sorted, missing }
    }

    /// From a quantile summary; non-finite quantiles are dropped and the rest sorted.
    pub fn from_quantiles(quantiles: &[f64], rows: u64, missing_rate: f64, mean: f64) -> Self {
        let mut q: Vec<f64> = quantiles.iter().copied().filter(|v| v.is_finite()).collect();
        q.sort_unstable_by(f64::total_cmp);
        let missing_rate = if missing_rate.is_finite() { missing_rate.clamp(0.0, 1.0) } else { 0.0 };
        NumericReference::Quantiles { quantiles: q, rows, missing_rate, mean }
    }

    /// Whether this is a sample (exact KS) rather than a quantile summary (approximate KS).
    pub fn is_exact(&self) -> bool {
        matches!(self, NumericReference::Sample { .. })
    }

    /// Number of non-missing reference values.
    pub fn non_missing(&self) -> u64 {
        match self {
            NumericReference::Sample { sorted, .. } => sorted.len() as u64,
            NumericReference::Quantiles { quantiles, rows, missing_rate, .. } => {
                if quantiles.is_empty() {
                    0
                } else {
                    libm::round(*rows as f64 * (1.0 - missing_rate)).max(1.0) as u64
                }
            }
        }
    }

    /// Share of the non-missing reference values strictly below `x`, in [0, 1] (the left limit
    /// of the reference CDF at `x`). Exact for a sample (a step function). For a quantile summary,
    /// the CDF is taken as `k / (len - 1)` at `quantiles[k]` and linear between them: 0 up to the
    /// first quantile, 1 above the last. 0 when there are no values. The drift report's score
    /// histogram takes each bin's reference share as the difference of two of these.
    pub fn share_below(&self, x: f64) -> f64 {
        match self {
            NumericReference::Sample { sorted, .. } if !sorted.is_empty() => {
                sorted.partition_point(|&v| v < x) as f64 / sorted.len() as f64
            }
            NumericReference::Quantiles { quantiles, .. } if !quantiles.is_empty() => {
                let k = quantiles.partition_point(|&q| q < x);
                if k == 0 {
                    0.0
                } else if k >= quantiles.len() {
                    1.0
                } else {
                    let (lo, hi) = (quantiles[k - 1], quantiles[k]);
                    let frac = if hi > lo { (x - lo) / (hi - lo) } else { 1.0 };
                    ((k - 1) as f64 + frac) / (quantiles.len() - 1) as f64
                }
            }
            _ => 0.0,
        }
    }

    /// Share of reference rows missing, in [0, 1].
    pub fn missing_rate(&self) -> f64 {
        match self {
            NumericReference::Sample { sorted, missing } => {
                let total = sorted.len() as u64 + missing;
                if total == 0 { 0.0 } else { *missing as f64 / total as f64 }
            }
            NumericReference::Quantiles { missing_rate, .. } => *missing_rate,
        }
    }

    fn mean(&self) -> f64 {
        match self {
            NumericReference::Sample { sorted, .. } if !sorted.is_empty() => {
                sorted.iter().sum::<f64>() / sorted.len() as f64
            }
            NumericReference::Sample { .. } => f64::NAN,
            NumericReference::Quantiles { mean, .. } => *mean,
        }
    }

    /// Sorted distinct values at which the current data is counted.
    fn edges(&self) -> Vec<f64> {
        let values = match self {
            NumericReference::Sample { sorted, .. } => sorted,
            NumericReference::Quantiles { quantiles, .. } => quantiles,
        };
        let mut edges: Vec<f64> = Vec::new();
        for &v in values {
            if edges.last() != Some(&v) {
                edges.push(v);
            }
        }
        edges
    }

    /// Reference CDF just below and at each edge, as shares.
    fn cdf_at_edges(&self, edges: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
        match self {
            NumericReference::Sample { sorted, .. } => {
                let n = sorted.len() as f64;
                let mut counts_le = Vec::with_capacity(edges.len());
                let mut i = 0;
                for &e in edges {
                    while i < sorted.len() && sorted[i] <= e {
                        i += 1;
                    }
                    counts_le.push(i as u64);
                }
                let le: Vec<f64> = counts_le.iter().map(|&c| c as f64 / n).collect();
                let lt: Vec<f64> = (0..edges.len()).map(|k| if k == 0 { 0.0 } else { le[k - 1] }).collect();
                (lt, le, counts_le)
            }
            NumericReference::Quantiles { quantiles, .. } => {
                let steps = (quantiles.len().max(2) - 1) as f64;
                let mut lt = Vec::with_capacity(edges.len());
                let mut le = Vec::with_capacity(edges.len());
                for &e in edges {
                    let first = quantiles.partition_point(|&q| q < e);
                    let after = quantiles.partition_point(|&q| q <= e);
                    lt.push(first as f64 / steps);
                    le.push(((after.max(1) - 1) as f64 / steps).min(1.0));
                }
                (lt, le, Vec::new())
            }
        }
    }
}

/// Streaming counts of current values against the reference's edges.
#[derive(Clone, Debug)]
pub struct NumericAccumulator {
    edges: Vec<f64>,
    /// Values equal to `edges[k]`.
    at: Vec<u64>,
    /// Values strictly between `edges[k-1]` and `edges[k]`; the last entry: above the last edge.
    between: Vec<u64>,
    missing: u64,
    count: u64,
    sum: f64,
}

impl NumericAccumulator {
    /// Empty counts against the reference's distinct values (memory: one pair of counters per
    /// distinct reference value).
    pub fn new(reference: &NumericReference) -> Self {
        let edges = reference.edges();
        let n = edges.len();
        NumericAccumulator { edges, at: vec![0; n], between: vec![0; n + 1], missing: 0, count: 0, sum: 0.0 }
    }

    /// Adds one value; NaN and infinities count as missing.
    pub fn push(&mut self, value: f64) {
        if !value.is_finite() {
            self.missing += 1;
            return;
        }
        self.count += 1;
        self.sum += value;
        let i = self.edges.partition_point(|&e| e < value);
        if i < self.edges.len() && self.edges[i] == value {
            self.at[i] += 1;
        } else {
            self.between[i] += 1;
        }
    }

    /// Counts one missing value (absent, null, or the input's sentinel).
    pub fn push_missing(&mut self) {
        self.missing += 1;
    }

    /// Finite values counted.
    pub fn non_missing(&self) -> u64 {
        self.count
    }

    /// Values counted, missing ones included.
    pub fn rows(&self) -> u64 {
        self.count + self.missing
    }

    /// Current counts below and at each edge.
    fn cumulative(&self) -> (Vec<u64>, Vec<u64>) {
        let mut lt = Vec::with_capacity(self.edges.len());
        let mut le = Vec::with_capacity(self.edges.len());
        let mut acc = 0u64;
        for k in 0..self.edges.len() {
            acc += self.between[k];
            lt.push(acc);
            acc += self.at[k];
            le.push(acc);
        }
        (lt, le)
    }
}

/// One bin of a PSI: its shares of the reference and current non-missing values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PsiBin {
    /// Bin label, e.g. "(0.25, 0.5]".
    pub label: alloc::string::String,
    /// Share of the reference values in the bin, in [0, 1].
    pub reference_share: f64,
    /// Share of the current values in the bin, in [0, 1].
    pub current_share: f64,
}

/// A point of the two ECDF curves drawn in the HTML report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EcdfPoint {
    /// A reference value (the input's unit).
    pub x: f64,
    /// Reference ECDF at `x`: share of reference values <= x.
    pub reference: f64,
    /// Current ECDF at `x`: share of current values <= x.
    pub current: f64,
}

/// A numeric input's reference and current distributions compared ([`compare_numeric`]). Means
/// are in the input's unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumericComparison {
    /// Non-missing reference values.
    pub reference_non_missing: u64,
    /// Non-missing current values.
    pub current_non_missing: u64,
    /// Current values, missing ones included.
    pub current_rows: u64,
    /// Share of reference rows missing, in [0, 1].
    pub reference_missing_rate: f64,
    /// Share of current rows missing, in [0, 1]; NaN without current rows.
    pub current_missing_rate: f64,
    /// Mean of the non-missing reference values (NaN when unknown).
    pub reference_mean: f64,
    /// Mean of the non-missing current values (NaN without any).
    pub current_mean: f64,
    /// KS test; `None` when either side has no values.
    pub ks: Option<KsResult>,
    /// True when the reference is a quantile summary (statistic within 0.01, p-value indicative).
    pub ks_approximate: bool,
    /// PSI over `psi_bins`, sum of (cur - ref) ln(cur / ref) with shares floored at
    /// [`super::stats::PSI_EPSILON`]; `None` when either side has no values.
    pub psi: Option<f64>,
    /// Bins between the reference deciles ([`PSI_BINS`] at most; fewer when deciles coincide),
    /// right-closed, the last one open above.
    pub psi_bins: Vec<PsiBin>,
    /// Chart points (HTML only; left out of the JSON summary).
    #[serde(skip_serializing)]
    pub ecdf: Vec<EcdfPoint>,
    /// Where the two distributions differ most (the KS point), in shares at or below a value.
    pub largest_gap: Option<CdfGap>,
    /// Overlaid histogram: [`HISTOGRAM_BINS`] equal-width bins over the chart range (the
    /// reference's 0.5 % to 99.5 % span; the first and last bins also hold the values beyond).
    pub histogram: Vec<HistogramBin>,
}

/// Number of bins of the overlaid histogram of a numeric input.
pub const HISTOGRAM_BINS: usize = 24;

/// The value where the reference and current CDFs are furthest apart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CdfGap {
    /// A reference edge (a reference value, or a percentile with the bundle's statistics).
    pub x: f64,
    /// Share of the reference values at or below `x`.
    pub reference_share: f64,
    /// Share of the current values at or below `x`.
    pub current_share: f64,
}

/// One bin `[lo, hi)` of the overlaid histogram, as shares of each side's non-missing values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HistogramBin {
    /// Lower bound (included).
    pub lo: f64,
    /// Upper bound (excluded; the last bin includes it).
    pub hi: f64,
    /// Share of the reference values in the bin.
    pub reference_share: f64,
    /// Share of the current values in the bin.
    pub current_share: f64,
}

/// Compares the current values with the reference: two-sided KS (exact against a sample,
/// approximate against a quantile summary; see the module docs), PSI on reference-decile bins,
/// missing rates, means and the chart points.
pub fn compare_numeric(reference: &NumericReference, current: &NumericAccumulator) -> NumericComparison {
    let edges = &current.edges;
    let n_ref = reference.non_missing();
    let n_cur = current.count;
    let (cur_lt, cur_le) = current.cumulative();
    let (ref_lt, ref_le, ref_counts_le) = reference.cdf_at_edges(edges);
    let have_both = n_ref > 0 && n_cur > 0 && !edges.is_empty();

    let ks = if !have_both {
        None
    } else if reference.is_exact() {
        let mut best = ExtremeDiff::default();
        for k in 0..edges.len() {
            let ref_lt_count = if k == 0 { 0 } else { ref_counts_le[k - 1] };
            best.observe(ref_lt_count, n_ref, cur_lt[k], n_cur);
            best.observe(ref_counts_le[k], n_ref, cur_le[k], n_cur);
        }
        // Current values above the last reference value: the reference CDF is 1 there.
        Some(ks_from_extremes(n_ref, n_cur, &best))
    } else {
        let mut d: f64 = 0.0;
        for k in 0..edges.len() {
            d = d.max((ref_lt[k] - cur_lt[k] as f64 / n_cur as f64).abs());
            d = d.max((ref_le[k] - cur_le[k] as f64 / n_cur as f64).abs());
        }
        Some(ks_from_statistic(n_ref, n_cur, d))
    };

    let (psi_value, psi_bins) = if have_both {
        let cuts = psi_cut_indices(reference, edges);
        let mut bins = Vec::with_capacity(cuts.len() + 1);
        let (mut prev_ref, mut prev_cur) = (0.0, 0.0);
        let mut prev_label = alloc::string::String::from("-inf");
        for &k in &cuts {
            let r = ref_le[k];
            let c = cur_le[k] as f64 / n_cur as f64;
            let label = fmt_num(edges[k]);
            bins.push(PsiBin {
                label: alloc::format!("({prev_label}, {label}]"),
                reference_share: r - prev_ref,
                current_share: c - prev_cur,
            });
            (prev_ref, prev_cur, prev_label) = (r, c, label);
        }
        bins.push(PsiBin {
            label: alloc::format!("({prev_label}, inf)"),
            reference_share: 1.0 - prev_ref,
            current_share: 1.0 - prev_cur,
        });
        let r: Vec<f64> = bins.iter().map(|b| b.reference_share).collect();
        let c: Vec<f64> = bins.iter().map(|b| b.current_share).collect();
        (Some(psi(&r, &c)), bins)
    } else {
        (None, Vec::new())
    };

    let ecdf = if have_both { ecdf_points(reference, edges, &ref_le, &cur_le, n_cur) } else { Vec::new() };
    // The KS point in words: the edge where the shares at or below it differ most.
    let largest_gap = if have_both {
        (0..edges.len())
            .map(|k| CdfGap {
                x: edges[k],
                reference_share: ref_le[k],
                current_share: cur_le[k] as f64 / n_cur as f64,
            })
            .max_by(|a, b| {
                (a.current_share - a.reference_share)
                    .abs()
                    .total_cmp(&(b.current_share - b.reference_share).abs())
            })
    } else {
        None
    };
    let histogram = if have_both { histogram(reference, edges, &ref_le, &cur_le, n_cur) } else { Vec::new() };
    let rows = current.rows();
    NumericComparison {
        reference_non_missing: n_ref,
        current_non_missing: n_cur,
        current_rows: rows,
        reference_missing_rate: reference.missing_rate(),
        current_missing_rate: if rows == 0 { f64::NAN } else { current.missing as f64 / rows as f64 },
        reference_mean: reference.mean(),
        current_mean: if n_cur == 0 { f64::NAN } else { current.sum / n_cur as f64 },
        ks,
        ks_approximate: !reference.is_exact(),
        psi: psi_value,
        psi_bins,
        ecdf,
        largest_gap,
        histogram,
    }
}

/// Equal-width bins over the chart range; each side's share per bin from its CDF at the bin
/// edges. A reference sample's CDF is a step function (exact shares); with percentiles both CDFs
/// are known at the percentiles only and are interpolated linearly between them.
fn histogram(
    reference: &NumericReference,
    edges: &[f64],
    ref_le: &[f64],
    cur_le: &[u64],
    n_cur: u64,
) -> Vec<HistogramBin> {
    let (lo, hi) = chart_range(reference);
    if hi.partial_cmp(&lo) != Some(core::cmp::Ordering::Greater) {
        return Vec::new();
    }
    let exact = reference.is_exact();
    // CDF (share at or below x) of a side given its values at the edges.
    let cdf = |x: f64, at: &dyn Fn(usize) -> f64| -> f64 {
        let k = edges.partition_point(|&e| e <= x);
        if k == 0 {
            return 0.0;
        }
        if exact || k == edges.len() || edges[k - 1] == x {
            return at(k - 1);
        }
        let (x0, x1) = (edges[k - 1], edges[k]);
        at(k - 1) + (at(k) - at(k - 1)) * (x - x0) / (x1 - x0)
    };
    let r = |k: usize| ref_le[k];
    let c = |k: usize| cur_le[k] as f64 / n_cur as f64;
    let width = (hi - lo) / HISTOGRAM_BINS as f64;
    (0..HISTOGRAM_BINS)
        .map(|i| {
            let a = lo + i as f64 * width;
            let b = if i + 1 == HISTOGRAM_BINS { hi } else { a + width };
            // Values beyond the range go to the first and last bins.
            let below = |f: &dyn Fn(usize) -> f64, x: f64| if i == 0 { 0.0 } else { cdf(x, f) };
            let upto =
                |f: &dyn Fn(usize) -> f64, x: f64| if i + 1 == HISTOGRAM_BINS { 1.0 } else { cdf(x, f) };
            HistogramBin {
                lo: a,
                hi: b,
                reference_share: (upto(&r, b) - below(&r, a)).max(0.0),
                current_share: (upto(&c, b) - below(&c, a)).max(0.0),
            }
        })
        .collect()
}

/// The chart range: the reference's 0.5 % to 99.5 % span, so that outliers do not flatten it.
fn chart_range(reference: &NumericReference) -> (f64, f64) {
    match reference {
        NumericReference::Sample { sorted, .. } if !sorted.is_empty() => {
            let at = |p: f64| sorted[libm::floor(p * (sorted.len() - 1) as f64) as usize];
            (at(0.005), at(0.995))
        }
        NumericReference::Quantiles { quantiles, .. } if !quantiles.is_empty() => {
            (quantiles[0], quantiles[quantiles.len() - 1])
        }
        _ => (f64::NAN, f64::NAN),
    }
}

/// Edge indices of the reference deciles (distinct), used as right-closed PSI bin bounds.
fn psi_cut_indices(reference: &NumericReference, edges: &[f64]) -> Vec<usize> {
    let mut cuts: Vec<usize> = Vec::new();
    for i in 1..PSI_BINS {
        let p = i as f64 / PSI_BINS as f64;
        let value = match reference {
            NumericReference::Sample { sorted, .. } => {
                sorted[libm::floor(p * (sorted.len() - 1) as f64) as usize]
            }
            NumericReference::Quantiles { quantiles, .. } => {
                quantiles[libm::floor(p * (quantiles.len() - 1) as f64 + 1e-9) as usize]
            }
        };
        let k = edges.partition_point(|&e| e < value);
        // The largest value is not a cut: the last bin is open above.
        if k + 1 < edges.len() && cuts.last() != Some(&k) {
            cuts.push(k);
        }
    }
    // A constant reference (or one whose deciles all sit on its largest value) still gets a bin
    // above that value, so that current values beyond it give a PSI above 0.
    if cuts.is_empty() && !edges.is_empty() {
        let top = match reference {
            NumericReference::Sample { sorted, .. } => sorted.last().copied(),
            NumericReference::Quantiles { quantiles, .. } => quantiles.last().copied(),
        };
        if let Some(top) = top {
            let k = edges.partition_point(|&e| e < top);
            if k < edges.len() {
                cuts.push(k);
            }
        }
    }
    cuts
}

fn ecdf_points(
    reference: &NumericReference,
    edges: &[f64],
    ref_le: &[f64],
    cur_le: &[u64],
    n_cur: u64,
) -> Vec<EcdfPoint> {
    let (lo, hi) = chart_range(reference);
    let inside: Vec<usize> = (0..edges.len()).filter(|&k| edges[k] >= lo && edges[k] <= hi).collect();
    let step = inside.len().div_ceil(CHART_POINTS).max(1);
    inside
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == inside.len() - 1)
        .map(|(_, &k)| EcdfPoint {
            x: edges[k],
            reference: ref_le[k],
            current: cur_le[k] as f64 / n_cur as f64,
        })
        .collect()
}

/// Short, stable number formatting for labels.
pub fn fmt_num(v: f64) -> alloc::string::String {
    if v == libm::trunc(v) && v.abs() < 1e15 {
        alloc::format!("{}", v as i64)
    } else if v.abs() >= 1e-3 && v.abs() < 1e6 {
        let s = alloc::format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        alloc::string::String::from(s)
    } else {
        alloc::format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::ks::ks_2samp;
    use super::*;

    #[test]
    fn share_below_sample_quantiles_and_empty() {
        let sample = NumericReference::from_values([3.0, 1.0, 2.0, 2.0, f64::NAN]);
        let got: Vec<f64> = [0.0, 1.0, 2.0, 2.5, 3.0, 3.5].iter().map(|&x| sample.share_below(x)).collect();
        assert_eq!(got, [0.0, 0.0, 0.25, 0.75, 0.75, 1.0]);
        // Percentiles 0, 10, 20 (k/2 at quantiles[k]), linear between, tied quantiles jump.
        let q = NumericReference::from_quantiles(&[0.0, 10.0, 20.0], 100, 0.0, 10.0);
        let got: Vec<f64> =
            [-1.0, 0.0, 5.0, 10.0, 15.0, 20.0, 21.0].iter().map(|&x| q.share_below(x)).collect();
        assert_eq!(got, [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]);
        let tied = NumericReference::from_quantiles(&[0.0, 5.0, 5.0, 10.0], 100, 0.0, 5.0);
        assert_eq!(tied.share_below(5.0), 1.0 / 3.0);
        assert_eq!(tied.share_below(5.5), (2.0 + 0.1) / 3.0);
        let one = NumericReference::from_quantiles(&[5.0], 10, 0.0, 5.0);
        assert_eq!((one.share_below(5.0), one.share_below(6.0)), (0.0, 1.0));
        for empty in [
            NumericReference::from_values([f64::NAN]),
            NumericReference::from_quantiles(&[], 0, 0.0, f64::NAN),
        ] {
            assert_eq!(empty.share_below(1.0), 0.0);
        }
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn streaming_ks_equals_sample_ks_with_ties_and_outside_values() {
        let mut s = 7;
        let reference: Vec<f64> = (0..3000).map(|_| libm::floor(lcg(&mut s) * 50.0)).collect();
        let current: Vec<f64> = (0..20_000).map(|_| libm::floor(lcg(&mut s) * 60.0) - 5.0).collect();
        let r = NumericReference::from_values(reference.iter().copied());
        let mut acc = NumericAccumulator::new(&r);
        current.iter().for_each(|&v| acc.push(v));
        let streamed = compare_numeric(&r, &acc).ks.unwrap();
        let direct = ks_2samp(&reference, &current).unwrap();
        assert_eq!(streamed.statistic, direct.statistic);
        assert_eq!(streamed.pvalue, direct.pvalue);
    }

    #[test]
    fn quantile_reference_approximates_exact_statistic() {
        let mut s = 3;
        let reference: Vec<f64> = (0..50_000).map(|_| lcg(&mut s)).collect();
        let r = NumericReference::from_values(reference.iter().copied());
        let NumericReference::Sample { sorted, .. } = &r else { unreachable!() };
        let q: Vec<f64> = (0..=100).map(|k| sorted[k * (sorted.len() - 1) / 100]).collect();
        let rq = NumericReference::from_quantiles(&q, 50_000, 0.0, 0.5);
        let mut exact = NumericAccumulator::new(&r);
        let mut approx = NumericAccumulator::new(&rq);
        for _ in 0..5000 {
            let v = lcg(&mut s) * 0.8 + 0.1;
            exact.push(v);
            approx.push(v);
        }
        let e = compare_numeric(&r, &exact);
        let a = compare_numeric(&rq, &approx);
        assert!(a.ks_approximate && !e.ks_approximate);
        assert!((e.ks.unwrap().statistic - a.ks.unwrap().statistic).abs() <= 0.011);
        assert!((e.psi.unwrap() - a.psi.unwrap()).abs() < 0.02, "{:?} {:?}", e.psi, a.psi);
        assert_eq!(e.psi_bins.len(), PSI_BINS);
    }

    #[test]
    fn psi_on_a_constant_reference_sees_new_values() {
        let r = NumericReference::from_values([3.0; 500]);
        let mut acc = NumericAccumulator::new(&r);
        (0..200).for_each(|i| acc.push(if i % 2 == 0 { 3.0 } else { 7.0 }));
        let c = compare_numeric(&r, &acc);
        // Bins (-inf, 3] and (3, inf): shares 1, 0 against 0.5, 0.5 (0 floored at 1e-4).
        let expected = (0.5 - 1.0) * libm::log(0.5) + (0.5 - 1e-4) * libm::log(0.5 / 1e-4);
        assert!((c.psi.unwrap() - expected).abs() < 1e-12, "{:?}", c.psi);
    }

    #[test]
    fn largest_gap_and_histogram_follow_the_samples() {
        let reference: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let r = NumericReference::from_values(reference.iter().copied());
        let mut acc = NumericAccumulator::new(&r);
        (0..500).for_each(|i| acc.push(i as f64 / 1000.0 * 0.8));
        let c = compare_numeric(&r, &acc);
        let g = c.largest_gap.unwrap();
        assert!((g.current_share - g.reference_share).abs() - c.ks.unwrap().statistic < 1e-12);
        assert_eq!(c.histogram.len(), HISTOGRAM_BINS);
        let sum = |f: fn(&HistogramBin) -> f64| c.histogram.iter().map(f).sum::<f64>();
        assert!((sum(|b| b.reference_share) - 1.0).abs() < 1e-12);
        assert!((sum(|b| b.current_share) - 1.0).abs() < 1e-12);
        // Current values stop at 0.4: the bins above 0.4 hold none of them.
        assert!(c.histogram.iter().filter(|b| b.lo > 0.41).all(|b| b.current_share == 0.0));
    }

    #[test]
    fn missing_values_are_counted_not_compared() {
        let r = NumericReference::from_values([1.0, 2.0, f64::NAN, 3.0]);
        let mut acc = NumericAccumulator::new(&r);
        acc.push(2.0);
        acc.push_missing();
        acc.push(f64::NAN);
        let c = compare_numeric(&r, &acc);
        assert_eq!(c.current_non_missing, 1);
        assert!((c.current_missing_rate - 2.0 / 3.0).abs() < 1e-15);
        assert!((c.reference_missing_rate - 0.25).abs() < 1e-15);
    }
}
