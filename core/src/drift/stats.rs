//! Small statistics used by the drift report: chi-square tail, Benjamini-Hochberg, PSI.

use alloc::vec;
use alloc::vec::Vec;
use libm::{exp, lgamma, log};

/// Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): series for x < a + 1,
/// Lentz continued fraction otherwise (relative accuracy about 1e-14).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || a <= 0.0 || x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let log_prefactor = -x + a * log(x) - lgamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (1.0 - sum * exp(log_prefactor)).clamp(0.0, 1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (exp(log_prefactor) * h).clamp(0.0, 1.0)
    }
}

/// Survival function of the chi-square distribution (scipy `chi2.sf(x, df)`).
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, x / 2.0)
}

/// Chi-square goodness of fit of observed counts against expected proportions (renormalised over
/// the categories given), as `scipy.stats.chisquare(observed, expected_counts)`. Returns
/// (statistic, p-value, degrees of freedom); `None` with fewer than two categories or no counts.
pub fn chi_square_gof(observed: &[u64], expected_share: &[f64]) -> Option<(f64, f64, usize)> {
    let total: u64 = observed.iter().sum();
    let share_sum: f64 = expected_share.iter().sum();
    if observed.len() != expected_share.len()
        || observed.len() < 2
        || total == 0
        || share_sum.is_nan()
        || share_sum <= 0.0
    {
        return None;
    }
    let mut stat = 0.0;
    for (&o, &p) in observed.iter().zip(expected_share) {
        let e = total as f64 * p / share_sum;
        if e.is_nan() || e <= 0.0 {
            return None;
        }
        let diff = o as f64 - e;
        stat += diff * diff / e;
    }
    let df = observed.len() - 1;
    Some((stat, chi2_sf(stat, df as f64), df))
}

/// Two-sample chi-square test of homogeneity of a 2 x K table (reference counts, current counts),
/// as `scipy.stats.chi2_contingency([reference, current], correction=False)`. Reference counts may
/// be fractional (shares times rows, for the bundle's statistics). Columns empty on both sides are
/// dropped. Returns (statistic, p-value, dof); `None` with fewer than two columns or an empty side.
pub fn chi_square_homogeneity(reference: &[f64], current: &[f64]) -> Option<(f64, f64, usize)> {
    let cols: Vec<(f64, f64)> =
        reference.iter().zip(current).map(|(&r, &c)| (r, c)).filter(|&(r, c)| r + c > 0.0).collect();
    let (nr, nc): (f64, f64) = cols.iter().fold((0.0, 0.0), |(a, b), &(r, c)| (a + r, b + c));
    if cols.len() < 2 || !(nr > 0.0 && nc > 0.0) {
        return None;
    }
    let n = nr + nc;
    let mut stat = 0.0;
    for &(r, c) in &cols {
        let col = r + c;
        let (er, ec) = (nr * col / n, nc * col / n);
        stat += (r - er) * (r - er) / er + (c - ec) * (c - ec) / ec;
    }
    let dof = cols.len() - 1;
    Some((stat, chi2_sf(stat, dof as f64), dof))
}

/// Pooled two-proportion z-test of a current count against a reference rate measured on
/// `reference_rows` rows: z = (|p1 - p0| - (1/n0 + 1/n1) / 2) / sqrt(p (1 - p) (1/n0 + 1/n1))
/// with Yates' continuity correction, two-sided p-value erfc(z / √2) (as R's `prop.test`, which
/// reports the same test as a chi-square), and Cohen's h
/// |2 asin √p1 - 2 asin √p0|. Returns (p-value, h); the p-value is NaN when a side is empty.
pub fn two_proportion_test(
    reference_rate: f64,
    reference_rows: u64,
    current_count: u64,
    current_rows: u64,
) -> (f64, f64) {
    if current_rows == 0 || reference_rows == 0 || reference_rate.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let (n0, n1) = (reference_rows as f64, current_rows as f64);
    let current_rate = current_count as f64 / n1;
    let pooled = (reference_rate * n0 + current_count as f64) / (n0 + n1);
    let se = libm::sqrt(pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1));
    let diff = current_rate - reference_rate;
    // Yates' continuity correction (as R's `prop.test(correct = TRUE)`): the normal tail of a
    // binomial count is otherwise too light at n = 100 (1.2 % of no-drift windows below p = 0.005).
    let corrected = (libm::fabs(diff) - 0.5 * (1.0 / n0 + 1.0 / n1)).max(0.0);
    let p = if se > 0.0 {
        libm::erfc(corrected / se / core::f64::consts::SQRT_2)
    } else if diff == 0.0 {
        1.0
    } else {
        0.0
    };
    let h =
        libm::fabs(2.0 * libm::asin(libm::sqrt(current_rate)) - 2.0 * libm::asin(libm::sqrt(reference_rate)));
    (p, h)
}

/// Benjamini-Hochberg adjusted p-values (scipy `false_discovery_control(p, method="bh")`), in the
/// input order. NaN inputs stay NaN and do not count as tests.
pub fn benjamini_hochberg(pvalues: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..pvalues.len()).filter(|&i| !pvalues[i].is_nan()).collect();
    order.sort_by(|&a, &b| pvalues[a].total_cmp(&pvalues[b]));
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; pvalues.len()];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let value = pvalues[i] * m / (rank + 1) as f64;
        running = running.min(value);
        adjusted[i] = running.clamp(0.0, 1.0);
    }
    adjusted
}

/// Smallest share a PSI bin is given, so that an empty bin gives a large but finite term.
pub const PSI_EPSILON: f64 = 1e-4;

/// Population stability index: sum over bins of (cur - ref) * ln(cur / ref), each share floored
/// at [`PSI_EPSILON`] (shares are not renormalised after flooring).
pub fn psi(reference_share: &[f64], current_share: &[f64]) -> f64 {
    reference_share
        .iter()
        .zip(current_share)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_EPSILON), c.max(PSI_EPSILON));
            (c - r) * log(c / r)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2_known_values() {
        // scipy.stats.chi2.sf(3.84145882069412, 1) = 0.05
        assert!((chi2_sf(3.841_458_820_694_124, 1.0) - 0.05).abs() < 1e-12);
        // chi2.sf(10, 10) = 0.44049328506521257
        assert!((chi2_sf(10.0, 10.0) - 0.440_493_285_065_212_57).abs() < 1e-12);
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }

    #[test]
    fn homogeneity_test_matches_scipy() {
        // scipy.stats.chi2_contingency([[30, 50, 20], [25, 40, 35]], correction=False)
        let (s, p, dof) = chi_square_homogeneity(&[30.0, 50.0, 20.0], &[25.0, 40.0, 35.0]).unwrap();
        assert!((s - 5.656_565_656_565_656).abs() < 1e-12 && (p - 0.059_114_275_927_513_36).abs() < 1e-12);
        assert_eq!(dof, 2);
        // Fractional reference counts, and an empty column dropped: [[300.5, 49.5], [40, 60]].
        let (s, p, dof) = chi_square_homogeneity(&[300.5, 0.0, 49.5], &[40.0, 0.0, 60.0]).unwrap();
        assert!(
            (s - 88.830_745_622_731_65).abs() < 1e-9 && (p / 4.300_793_431_417_891e-21 - 1.0).abs() < 1e-9
        );
        assert_eq!(dof, 1);
    }

    #[test]
    fn bh_matches_hand_computation() {
        let adj = benjamini_hochberg(&[0.01, 0.04, 0.03, f64::NAN]);
        // sorted 0.01, 0.03, 0.04 with m = 3: 0.03, 0.045, 0.04 -> monotone 0.03, 0.04, 0.04
        assert!((adj[0] - 0.03).abs() < 1e-15);
        assert!((adj[1] - 0.04).abs() < 1e-15);
        assert!((adj[2] - 0.04).abs() < 1e-15);
        assert!(adj[3].is_nan());
    }

    #[test]
    fn psi_is_zero_for_equal_shares_and_grows_with_shift() {
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert!(psi(&[0.5, 0.5], &[0.9, 0.1]) > 0.2);
        assert!(psi(&[0.5, 0.5, 0.0], &[0.5, 0.4, 0.1]).is_finite());
    }
}
