//! Float-bit helpers: XGBoost's "round to f32, then `<`" rewritten as an f64 `<=` bound, the
//! neighbouring floats, and what each library does to an input value before any tree sees it.

use super::{Arithmetic, LIGHTGBM_ZERO_THRESHOLD};

/// The largest f64 `b` with `(b as f32) < t` for an f32 value `t` (held as f64): XGBoost's
/// "round to f32, then compare with `<`" becomes `v <= b`. `None` when `t` is not a finite f32.
pub(super) fn f32_less_bound(t: f64) -> Option<f64> {
    let t32 = t as f32;
    if !t32.is_finite() || t32 as f64 != t {
        return None;
    }
    let below = |v: f64| (v as f32) < t32;
    // Candidate: the midpoint between t and the f32 below it (exact in f64), or just under it.
    let prev = prev_f32(t32);
    let mut b = if prev.is_finite() { (prev as f64 + t) / 2.0 } else { -f64::MAX };
    if !below(b) {
        b = next_down(b);
    }
    if below(b) && !below(next_up(b)) {
        return Some(b);
    }
    // Not expected; a bisection over the ordered f64 values settles it.
    let key = |v: f64| {
        let bits = v.to_bits();
        if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
    };
    let from_key = |k: u64| f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k });
    let (mut lo, mut hi) = (key(f64::NEG_INFINITY), key(t));
    // Invariant: below(from_key(lo)), !below(from_key(hi)).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if below(from_key(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(from_key(lo))
}

pub(super) fn prev_f32(x: f32) -> f32 {
    if x == 0.0 {
        -f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(x.to_bits() - 1)
    } else {
        f32::from_bits(x.to_bits() + 1)
    }
}

pub(super) fn next_up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        x
    } else if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

pub(super) fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

#[inline(always)]
fn is_lightgbm_dropped(v: f64) -> bool {
    libm::fabs(v) <= LIGHTGBM_ZERO_THRESHOLD && v != 0.0
}

/// What a library does to an input value before any tree sees it. Every path (single row, batch,
/// [`FlatForest`], TreeSHAP) applies it first, so categorical codes and thresholds see the same
/// value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InputConversion {
    None,
    /// LightGBM's C API (`RowFunctionFromDenseMatric`, c_api.cpp, 4.7.0) drops |v| <= 1e-35f:
    /// the trees see 0.0.
    DropTiny,
    /// XGBoost (3.2.0) stores its input matrix as float32 (`DMatrix`, inplace predict): every
    /// value, category codes included, is rounded to f32 before it is compared (0.999999999999
    /// is category 1; 16777217 is 16777216). Ensembles with [`Arithmetic::F32`] are XGBoost's.
    RoundToF32,
}

impl InputConversion {
    #[inline(always)]
    pub(crate) fn of(arithmetic: Arithmetic, zero_small_inputs: bool) -> Self {
        match (arithmetic, zero_small_inputs) {
            (Arithmetic::F32, _) => InputConversion::RoundToF32,
            (Arithmetic::F64, true) => InputConversion::DropTiny,
            (Arithmetic::F64, false) => InputConversion::None,
        }
    }

    #[inline(always)]
    pub(crate) fn apply(self, v: f64) -> f64 {
        match self {
            InputConversion::None => v,
            InputConversion::DropTiny if is_lightgbm_dropped(v) => 0.0,
            InputConversion::DropTiny => v,
            InputConversion::RoundToF32 => f64::from(v as f32),
        }
    }

    /// Whether [`InputConversion::apply`] changes `v` (NaN stays NaN).
    #[inline(always)]
    pub(crate) fn changes(self, v: f64) -> bool {
        let w = self.apply(v);
        !(w == v || w.is_nan())
    }
}
