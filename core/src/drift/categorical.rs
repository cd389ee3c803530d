//! Categorical features: level shares of the reference against streamed current counts (PSI over
//! the levels plus an "unknown" bin, chi-square goodness of fit, Cohen's w, missing rate).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

use super::numeric::PsiBin;
use super::stats::{chi_square_homogeneity, psi};

/// Most distinct unknown levels remembered by name (the rest are only counted).
pub const MAX_UNKNOWN_LEVELS: usize = 20;
/// Longest unknown level name kept (bytes).
pub const MAX_LEVEL_NAME_BYTES: usize = 64;

/// Reference distribution of a categorical input: the bundle's level proportions, or counts from a
/// reference sample.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoricalReference {
    /// The schema's levels, in schema order.
    pub levels: Vec<String>,
    /// Share of each level among non-missing reference values.
    pub shares: Vec<f64>,
    /// Non-missing reference rows, levels the schema does not know included.
    pub non_missing: u64,
    /// Share of reference rows where the input is missing, in [0, 1].
    pub missing_rate: f64,
    /// Share of the non-missing reference values that are no level of the schema (pooled into
    /// OTHER with the current window's unknown levels).
    pub unknown_share: f64,
}

impl CategoricalReference {
    /// From counted reference values (levels in schema order), values that are no level, and
    /// missing values.
    pub fn from_counts(levels: Vec<String>, counts: &[u64], unknown: u64, missing: u64) -> Self {
        let total: u64 = counts.iter().sum::<u64>() + unknown;
        let shares = counts.iter().map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 }).collect();
        let rows = total + missing;
        CategoricalReference {
            levels,
            shares,
            non_missing: total,
            missing_rate: if rows == 0 { 0.0 } else { missing as f64 / rows as f64 },
            unknown_share: if total == 0 { 0.0 } else { unknown as f64 / total as f64 },
        }
    }
}

/// Streaming level counts of the current values of one categorical input (bounded memory: unknown
/// level names are capped at [`MAX_UNKNOWN_LEVELS`] of [`MAX_LEVEL_NAME_BYTES`] each).
#[derive(Clone, Debug)]
pub struct CategoricalAccumulator {
    levels: Vec<String>,
    counts: Vec<u64>,
    unknown: u64,
    unknown_names: BTreeMap<String, u64>,
    missing: u64,
}

impl CategoricalAccumulator {
    /// Empty counts over the reference's levels.
    pub fn new(reference: &CategoricalReference) -> Self {
        let levels = reference.levels.clone();
        let counts = vec![0; levels.len()];
        CategoricalAccumulator { levels, counts, unknown: 0, unknown_names: BTreeMap::new(), missing: 0 }
    }

    /// Counts one non-missing value, by exact level name (the caller has already matched
    /// spellings with [`crate::schema::CategoricalSpec::match_value`]); other names count as
    /// unknown.
    pub fn push(&mut self, level: &str) {
        match self.levels.iter().position(|l| l == level) {
            Some(i) => self.counts[i] += 1,
            None => {
                self.unknown += 1;
                if let Some(c) = self.unknown_names.get_mut(level) {
                    *c += 1;
                } else if self.unknown_names.len() < MAX_UNKNOWN_LEVELS {
                    // Names are kept short: a hostile log cannot make the report large.
                    let name = crate::schema::truncate(level, MAX_LEVEL_NAME_BYTES);
                    *self.unknown_names.entry(String::from(name)).or_default() += 1;
                }
            }
        }
    }

    /// Counts one missing value (absent, null, or a dataset code for "not available").
    pub fn push_missing(&mut self) {
        self.missing += 1;
    }

    /// Non-missing values counted (known and unknown levels).
    pub fn non_missing(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.unknown
    }
}

/// Result of the chi-square test of homogeneity over a categorical input's bins
/// (`scipy.stats.chi2_contingency([reference, current], correction=False)`, scipy 1.17).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChiSquare {
    /// Pearson's statistic.
    pub statistic: f64,
    /// Its upper tail under χ²(`dof`).
    pub pvalue: f64,
    /// Degrees of freedom: bins with data on either side, minus 1.
    pub dof: usize,
    /// Cohen's w = sqrt(sum (current share - reference share)^2 / reference share) over the bins
    /// the reference has: the effect size, independent of the sample sizes.
    pub cohens_w: f64,
}

/// A categorical input's reference and current distributions compared ([`compare_categorical`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategoricalComparison {
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
    /// PSI over `bins` (shares floored at [`super::stats::PSI_EPSILON`]); `None` without current
    /// values or with a single bin.
    pub psi: Option<f64>,
    /// One bin per level expected at least `min_expected_count` times in the current window, then
    /// OTHER pooling the rarer levels and the levels the reference does not have (when any).
    pub bins: Vec<PsiBin>,
    /// Two-sample chi-square test of homogeneity over the same bins (reference counts = shares
    /// times reference values).
    pub chi_square: Option<ChiSquare>,
    /// Share of the current non-missing values that are no level of the reference, in [0, 1].
    pub unknown_share: f64,
    /// Unknown level names and their counts (at most [`MAX_UNKNOWN_LEVELS`] names, each cut to
    /// [`MAX_LEVEL_NAME_BYTES`]).
    pub unknown_levels: BTreeMap<String, u64>,
    /// Levels pooled into OTHER because they are rare.
    pub pooled_levels: Vec<String>,
}

/// Compares the current level counts with the reference (see the module docs of `drift`): levels
/// whose expected current count (reference share x current values) is below `min_expected_count`
/// are pooled into OTHER with the unknown levels, so that one applicant in a 0.02 % level is not
/// a drift; PSI and the chi-square test of homogeneity run over the pooled bins.
pub fn compare_categorical(
    reference: &CategoricalReference,
    current: &CategoricalAccumulator,
    min_expected_count: f64,
) -> CategoricalComparison {
    let n_cur = current.non_missing();
    let rows = n_cur + current.missing;
    let share = |c: u64| if n_cur == 0 { 0.0 } else { c as f64 / n_cur as f64 };
    let mut bins: Vec<PsiBin> = Vec::new();
    let mut counts: Vec<(f64, f64)> = Vec::new();
    let (mut other_ref, mut other_cur) = (reference.unknown_share, current.unknown);
    let mut pooled = Vec::new();
    for (i, level) in reference.levels.iter().enumerate() {
        let r = reference.shares.get(i).copied().unwrap_or(0.0);
        if r * (n_cur as f64) < min_expected_count {
            other_ref += r;
            other_cur += current.counts[i];
            if r > 0.0 || current.counts[i] > 0 {
                pooled.push(level.clone());
            }
            continue;
        }
        bins.push(PsiBin {
            label: level.clone(),
            reference_share: r,
            current_share: share(current.counts[i]),
        });
        counts.push((r * reference.non_missing as f64, current.counts[i] as f64));
    }
    if other_ref > 0.0 || other_cur > 0 {
        let label = if pooled.is_empty() {
            String::from("OTHER (levels not in the reference)")
        } else {
            alloc::format!("OTHER ({} rare levels, and unknown ones)", pooled.len())
        };
        bins.push(PsiBin { label, reference_share: other_ref, current_share: share(other_cur) });
        counts.push((other_ref * reference.non_missing as f64, other_cur as f64));
    }
    let psi_value = if n_cur > 0 && bins.len() > 1 {
        let r: Vec<f64> = bins.iter().map(|b| b.reference_share).collect();
        let c: Vec<f64> = bins.iter().map(|b| b.current_share).collect();
        Some(psi(&r, &c))
    } else {
        None
    };
    let (r, c): (Vec<f64>, Vec<f64>) = counts.into_iter().unzip();
    let chi_square = chi_square_homogeneity(&r, &c).map(|(statistic, pvalue, dof)| ChiSquare {
        statistic,
        pvalue,
        dof,
        cohens_w: libm::sqrt(
            bins.iter()
                .filter(|b| b.reference_share > 0.0)
                .map(|b| {
                    (b.current_share - b.reference_share) * (b.current_share - b.reference_share)
                        / b.reference_share
                })
                .sum::<f64>(),
        ),
    });
    CategoricalComparison {
        reference_non_missing: reference.non_missing,
        current_non_missing: n_cur,
        current_rows: rows,
        reference_missing_rate: reference.missing_rate,
        current_missing_rate: if rows == 0 { f64::NAN } else { current.missing as f64 / rows as f64 },
        psi: psi_value,
        bins,
        chi_square,
        unknown_share: share(current.unknown),
        unknown_levels: current.unknown_names.clone(),
        pooled_levels: pooled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_levels_raise_psi_and_chi_square() {
        let r = CategoricalReference::from_counts(vec!["F".into(), "M".into()], &[658, 342], 0, 0);
        let mut same = CategoricalAccumulator::new(&r);
        let mut shifted = CategoricalAccumulator::new(&r);
        for i in 0..1000 {
            same.push(if i % 1000 < 658 { "F" } else { "M" });
            shifted.push(if i % 1000 < 300 { "F" } else { "M" });
        }
        shifted.push("X");
        shifted.push_missing();
        let a = compare_categorical(&r, &same, 5.0);
        let b = compare_categorical(&r, &shifted, 5.0);
        assert!(a.psi.unwrap() < 1e-6);
        assert!(a.chi_square.as_ref().unwrap().pvalue > 0.99);
        assert!(b.psi.unwrap() > 0.2);
        assert!(b.chi_square.as_ref().unwrap().pvalue < 1e-10);
        assert_eq!(b.unknown_levels.get("X"), Some(&1));
        assert_eq!(b.current_rows, 1002);
    }
}
