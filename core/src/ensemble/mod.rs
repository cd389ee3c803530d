//! Tree-ensemble evaluation shared by every model family.
//!
//! One node layout serves LightGBM, XGBoost and scikit-learn: each node carries the decision rule
//! of the library it came from, so scores equal that library's predictions. The rules per library
//! (LightGBM 4.x model text, XGBoost 3.x JSON/UBJSON, scikit-learn 1.9 HistGradientBoosting) are
//! listed in docs/MODEL_IMPORT.md, "Rules the scorer follows".

use alloc::vec::Vec;

// The compiled batch layout (FlatForest), the float helpers that turn every library's comparison
// into one form, and the glibc `exp` port, each in its own file.
mod exp;
mod flat;
mod float_bits;

use exp::exp_like_glibc;
pub use flat::{FLAT_MIN_ROWS, FlatForest};
pub(crate) use float_bits::InputConversion;

/// LightGBM's kZeroThreshold (1e-35f widened to double): the C API drops inputs this small, and
/// `Zero` missing-type splits treat them as missing.
pub const LIGHTGBM_ZERO_THRESHOLD: f64 = 1.000_000_018_002_509_5e-35;

/// How a numeric node treats a missing (NaN) or zero input, as LightGBM's missing types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MissingType {
    /// NaN is replaced by 0.0 and compared like any value.
    None = 0,
    /// NaN becomes 0.0; |v| <= 1e-35 takes the default side.
    Zero = 1,
    /// NaN takes the default side.
    NaN = 2,
}

/// The decision rule of one internal node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Split {
    /// LightGBM / scikit-learn: `v <= threshold` goes left, missing as `missing`.
    LessOrEqual {
        /// Split value in the feature's own units, as the library stored it (LightGBM
        /// `threshold=`, scikit-learn `threshold`).
        threshold: f64,
        /// What counts as missing (LightGBM `decision_type` bits 2-3; scikit-learn nodes use
        /// [`MissingType::NaN`]).
        missing: MissingType,
        /// Whether missing inputs go left (LightGBM `decision_type` bit 1, scikit-learn
        /// `missing_go_to_left`).
        default_left: bool,
    },
    /// XGBoost: the input is rounded to f32; NaN takes the default side, else `v < threshold` left.
    LessThanF32 {
        /// XGBoost's `split_conditions` value: an f32, held exactly in the f64.
        threshold: f64,
        /// XGBoost's `default_left`: whether NaN goes left.
        default_left: bool,
    },
    /// Category code `trunc(v)` is looked up in the node's bitset (words `bitset_start..+len`).
    /// In the set goes left when `in_set_left` (LightGBM, scikit-learn), right otherwise (XGBoost).
    /// NaN takes the default side; negative or out-of-range codes count as "not in the set".
    /// With `strict_codes` (scikit-learn) a value that is not an integer code of the bitset's
    /// range (negative, non-integer, too large) takes the default side instead: scikit-learn
    /// 1.9.1 encodes categorical columns with `OrdinalEncoder(handle_unknown='use_encoded_value',
    /// unknown_value=nan)`, so such values are missing (the importer puts unknown codes inside
    /// the range on the missing side in the bitset).
    Categorical {
        /// Index in [`Tree::cat_words`] of the set's first 32-bit word.
        bitset_start: u32,
        /// Number of 32-bit words in the set: codes `0..32 * bitset_len` can be members.
        bitset_len: u32,
        /// Whether members go left (LightGBM, scikit-learn) rather than right (XGBoost).
        in_set_left: bool,
        /// Side taken by NaN (and, with `strict_codes`, by every value that is not a code).
        default_left: bool,
        /// scikit-learn's rule: non-integer, negative or out-of-range values count as missing.
        strict_codes: bool,
    },
}

/// One internal node of a [`Tree`]: the input it reads, its rule and its two children.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Index of the input in the feature row (`0..`[`Ensemble::num_features`]).
    pub feature: u32,
    /// The rule sending a row left or right.
    pub split: Split,
    /// Child index: `>= 0` an internal node, `< 0` the leaf `!child`.
    pub left: i32,
    /// Right child, encoded as `left`.
    pub right: i32,
    /// Training weight reaching the node (LightGBM count, XGBoost hessian sum): TreeSHAP's cover.
    pub cover: f64,
}

/// One regression tree: internal nodes in one array, leaves in parallel arrays by leaf number.
/// [`Ensemble::validate`] checks the shape (children point forward, every leaf reached once).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Tree {
    /// Internal nodes; node 0 is the root. Empty for a single-leaf tree.
    pub nodes: Vec<Node>,
    /// Leaf outputs in raw-score units (log-odds margin for binary logistic models), by leaf
    /// number; `nodes.len() + 1` of them.
    pub leaf_values: Vec<f64>,
    /// Training cover of each leaf (units of [`Node::cover`]), for TreeSHAP and
    /// [`Tree::expected_value`]; as long as `leaf_values`.
    pub leaf_covers: Vec<f64>,
    /// Category bitsets of the categorical nodes, concatenated (bit c%32 of word c/32).
    pub cat_words: Vec<u32>,
}

/// How leaf values are added up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arithmetic {
    /// f64: base first, then each tree in order (LightGBM, scikit-learn).
    F64,
    /// f32, rounding after every addition (XGBoost), on inputs rounded to f32 first as XGBoost's
    /// float32 input matrix holds them.
    F32,
}

/// Raw score -> probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    /// probability = 1 / (1 + exp(-scale * raw)).
    Sigmoid {
        /// Multiplier of the raw score: 1 for the logistic link of XGBoost and scikit-learn,
        /// LightGBM's `sigmoid:` objective parameter (1 by default).
        scale: f64,
    },
    /// The raw score is the probability itself (no importer produces it; kept so a bundle can
    /// carry a model whose trees already output probabilities).
    Identity,
}

/// A binary-classification tree ensemble: raw score (margin) = `base_score` + one leaf value per
/// tree, summed as [`Arithmetic`] says; probability in [0, 1] through [`Link`]. Built by the
/// importers (crate::import) or read from a bundle; call [`Ensemble::validate`] before scoring
/// one that came from outside.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    /// Length of the feature rows the trees index (the model's feature count).
    pub num_features: usize,
    /// The trees, summed in this order (the order fixes the bits of the sum).
    pub trees: Vec<Tree>,
    /// Raw-score intercept added before the trees (0 for LightGBM, whose init score sits in tree 0).
    pub base_score: f64,
    /// Precision of the sum (the library's own).
    pub arithmetic: Arithmetic,
    /// Raw score -> probability.
    pub link: Link,
    /// LightGBM's C API scores inputs with |v| <= 1e-35 as 0.0; reproduce it for parity. (XGBoost's
    /// own input convention, rounding to f32, goes with [`Arithmetic::F32`].)
    pub zero_small_inputs: bool,
}

impl Split {
    #[inline(always)]
    fn goes_left(&self, value: f64, cat_words: &[u32]) -> bool {
        match *self {
            Split::LessOrEqual { threshold, missing, default_left } => {
                let mut v = value;
                if v.is_nan() {
                    if missing == MissingType::NaN {
                        return default_left;
                    }
                    v = 0.0;
                }
                if missing == MissingType::Zero && libm::fabs(v) <= LIGHTGBM_ZERO_THRESHOLD {
                    return default_left;
                }
                v <= threshold
            }
            Split::LessThanF32 { threshold, default_left } => {
                if value.is_nan() {
                    return default_left;
                }
                ((value as f32) as f64) < threshold
            }
            Split::Categorical { bitset_start, bitset_len, in_set_left, default_left, strict_codes } => {
                if value.is_nan() {
                    return default_left;
                }
                if strict_codes && !is_code_below(value, bitset_len) {
                    return default_left;
                }
                let in_set = category_in_bitset(value, bitset_start, bitset_len, cat_words);
                in_set == in_set_left
            }
        }
    }
}

/// Whether `value` is an integer code a bitset of `len` words can hold (-0.0 is code 0).
#[inline(always)]
fn is_code_below(value: f64, len: u32) -> bool {
    value >= 0.0 && value < f64::from(len) * 32.0 && libm::trunc(value) == value
}

#[inline(always)]
fn category_in_bitset(value: f64, start: u32, len: u32, words: &[u32]) -> bool {
    if value < 0.0 || value >= (len as f64) * 32.0 {
        return false;
    }
    let code = value as u32; // truncation toward zero, as the libraries' int cast
    let word = (code / 32) as usize;
    match words.get(start as usize + word) {
        Some(w) => (w >> (code % 32)) & 1 == 1,
        None => false,
    }
}

impl Tree {
    /// The internal node's child taken by `row`.
    #[inline(always)]
    pub fn next(&self, node: usize, row: &[f64]) -> i32 {
        let n = &self.nodes[node];
        let v = row[n.feature as usize];
        if n.split.goes_left(v, &self.cat_words) { n.left } else { n.right }
    }

    /// Index of the leaf `row` reaches. `row` must have every feature the tree uses (checked when
    /// the ensemble is validated).
    #[inline]
    pub fn leaf_index(&self, row: &[f64]) -> usize {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut node = 0i32;
        loop {
            node = self.next(node as usize, row);
            if node < 0 {
                return (!node) as usize;
            }
        }
    }

    /// Expected leaf value under the training cover: TreeSHAP's base value for this tree.
    pub fn expected_value(&self) -> f64 {
        if self.nodes.is_empty() {
            return self.leaf_values.first().copied().unwrap_or(0.0);
        }
        let total = self.nodes[0].cover;
        let mut sum = 0.0;
        for (v, c) in self.leaf_values.iter().zip(&self.leaf_covers) {
            sum += (c / total) * v;
        }
        sum
    }
}

/// Largest depth accepted from a bundle; bounds recursion and path buffers in TreeSHAP.
pub const MAX_TREE_DEPTH: usize = 512;

/// Why an ensemble is not well-formed: returned by [`Ensemble::validate`]. Tree and node numbers are indices into [`Ensemble::trees`]
/// and [`Tree::nodes`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnsembleError {
    /// The ensemble has no trees.
    NoTrees,
    /// A tree does not have exactly one leaf more than internal nodes.
    LeafCount {
        /// Tree index.
        tree: usize,
        /// Leaf values the tree has.
        leaves: usize,
        /// Internal nodes + 1.
        expected: usize,
    },
    /// A node reads an input at or beyond [`Ensemble::num_features`].
    FeatureOutOfRange {
        /// Tree index.
        tree: usize,
        /// Node index.
        node: usize,
        /// The node's input index.
        feature: u32,
    },
    /// Children must point forward (child > parent), which rules out cycles.
    BadChild {
        /// Tree index.
        tree: usize,
        /// Node index.
        node: usize,
        /// The child as stored: a node index, or `!leaf` when negative.
        child: i32,
    },
    /// Two parents point at the same leaf.
    LeafReachedTwice {
        /// Tree index.
        tree: usize,
        /// Leaf number.
        leaf: usize,
    },
    /// A categorical node's bitset runs past the tree's [`Tree::cat_words`].
    BitsetOutOfRange {
        /// Tree index.
        tree: usize,
        /// Node index.
        node: usize,
    },
    /// A root-to-leaf path is longer than [`MAX_TREE_DEPTH`].
    TooDeep {
        /// Tree index.
        tree: usize,
    },
    /// `leaf_covers` and `leaf_values` differ in length.
    CoverLength {
        /// Tree index.
        tree: usize,
    },
    /// The base score or the sigmoid scale is NaN or infinite.
    NonFiniteParameter,
}

impl core::fmt::Display for EnsembleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoTrees => write!(f, "the ensemble has no trees"),
            Self::LeafCount { tree, leaves, expected } => {
                write!(f, "tree {tree}: {leaves} leaves, expected {expected} (internal nodes + 1)")
            }
            Self::FeatureOutOfRange { tree, node, feature } => {
                write!(f, "tree {tree} node {node}: feature index {feature} is out of range")
            }
            Self::BadChild { tree, node, child } => {
                write!(f, "tree {tree} node {node}: child {child} is invalid")
            }
            Self::LeafReachedTwice { tree, leaf } => {
                write!(f, "tree {tree}: leaf {leaf} is reached from two nodes")
            }
            Self::BitsetOutOfRange { tree, node } => {
                write!(f, "tree {tree} node {node}: category bitset out of range")
            }
            Self::TooDeep { tree } => {
                write!(f, "tree {tree} is deeper than {MAX_TREE_DEPTH}")
            }
            Self::CoverLength { tree } => {
                write!(f, "tree {tree}: leaf covers and values differ in length")
            }
            Self::NonFiniteParameter => write!(f, "base score or link scale is not finite"),
        }
    }
}

impl core::error::Error for EnsembleError {}

impl Ensemble {
    /// Checks every structural invariant evaluation relies on, so that scoring a well-formed
    /// ensemble cannot index out of bounds or loop.
    pub fn validate(&self) -> Result<(), EnsembleError> {
        if self.trees.is_empty() {
            return Err(EnsembleError::NoTrees);
        }
        if !self.base_score.is_finite() {
            return Err(EnsembleError::NonFiniteParameter);
        }
        if let Link::Sigmoid { scale } = self.link
            && !scale.is_finite()
        {
            return Err(EnsembleError::NonFiniteParameter);
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let expected = tree.nodes.len() + 1;
            if tree.leaf_values.len() != expected {
                return Err(EnsembleError::LeafCount { tree: t, leaves: tree.leaf_values.len(), expected });
            }
            if tree.leaf_covers.len() != tree.leaf_values.len() {
                return Err(EnsembleError::CoverLength { tree: t });
            }
            let mut leaf_seen = alloc::vec![false; expected];
            let mut node_seen = alloc::vec![false; tree.nodes.len()];
            for (i, node) in tree.nodes.iter().enumerate() {
                if node.feature as usize >= self.num_features {
                    return Err(EnsembleError::FeatureOutOfRange { tree: t, node: i, feature: node.feature });
                }
                if let Split::Categorical { bitset_start, bitset_len, .. } = node.split {
                    let end = bitset_start as u64 + bitset_len as u64;
                    if end > tree.cat_words.len() as u64 {
                        return Err(EnsembleError::BitsetOutOfRange { tree: t, node: i });
                    }
                }
                for child in [node.left, node.right] {
                    if child >= 0 {
                        let c = child as usize;
                        if c <= i || c >= tree.nodes.len() || node_seen[c] {
                            return Err(EnsembleError::BadChild { tree: t, node: i, child });
                        }
                        node_seen[c] = true;
                    } else {
                        let leaf = (!child) as usize;
                        if leaf >= expected {
                            return Err(EnsembleError::BadChild { tree: t, node: i, child });
                        }
                        if leaf_seen[leaf] {
                            return Err(EnsembleError::LeafReachedTwice { tree: t, leaf });
                        }
                        leaf_seen[leaf] = true;
                    }
                }
            }
            if tree_depth(tree) > MAX_TREE_DEPTH {
                return Err(EnsembleError::TooDeep { tree: t });
            }
        }
        Ok(())
    }

    /// Raw score (margin) of one row of `num_features` values (NaN = missing).
    pub fn raw_score(&self, row: &[f64]) -> f64 {
        let row = self.prepare_row(row);
        match self.arithmetic {
            Arithmetic::F64 => {
                let mut sum = self.base_score;
                for tree in &self.trees {
                    sum += tree.leaf_values[tree.leaf_index(&row)];
                }
                sum
            }
            Arithmetic::F32 => {
                let mut sum = self.base_score as f32;
                for tree in &self.trees {
                    sum += tree.leaf_values[tree.leaf_index(&row)] as f32;
                }
                sum as f64
            }
        }
    }

    /// Applies the model's input conventions to a row: the values the library's trees compare
    /// (see [`InputConversion`]).
    pub(crate) fn prepare_row<'a>(&self, row: &'a [f64]) -> alloc::borrow::Cow<'a, [f64]> {
        let conversion = InputConversion::of(self.arithmetic, self.zero_small_inputs);
        if row.iter().any(|&v| conversion.changes(v)) {
            alloc::borrow::Cow::Owned(row.iter().map(|&v| conversion.apply(v)).collect())
        } else {
            alloc::borrow::Cow::Borrowed(row)
        }
    }

    /// Raw scores of `rows.len() / num_features` rows stored row-major. Gives the same bits as
    /// [`Ensemble::raw_score`] row by row (same summation order), but walks the trees over blocks
    /// of rows so that each tree stays in cache.
    pub fn raw_scores(&self, rows: &[f64], out: &mut Vec<f64>) {
        if rows.len() / self.num_features.max(1) >= FLAT_MIN_ROWS
            && let Some(flat) = FlatForest::new(self)
        {
            flat.raw_scores(rows, out);
            return;
        }
        self.raw_scores_walk(rows, out);
    }

    /// Compiles the ensemble for repeated batch scoring (see [`FlatForest`]).
    pub fn flatten(&self) -> Option<FlatForest> {
        FlatForest::new(self)
    }

    /// The batch path over the original node layout (small batches): row by row.
    fn raw_scores_walk(&self, rows: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(rows.chunks_exact(self.num_features.max(1)).map(|row| self.raw_score(row)));
    }

    /// Probability from a raw score through the model's link.
    pub fn probability(&self, raw: f64) -> f64 {
        match (self.link, self.arithmetic) {
            (Link::Identity, _) => raw,
            (Link::Sigmoid { .. }, Arithmetic::F32) => {
                // XGBoost: 1 / (1 + expf(min(-m, 88.7f))) in f32, with a correctly rounded expf
                // (the f64 exp rounded once; libm's expf is off by one ulp on some inputs).
                let m = raw as f32;
                let e = exp_like_glibc(f64::from((-m).min(88.7f32))) as f32;
                (1.0f32 / (1.0f32 + e)) as f64
            }
            (Link::Sigmoid { scale }, Arithmetic::F64) => 1.0 / (1.0 + exp_like_glibc(-scale * raw)),
        }
    }

    /// Sum of the trees' expected values plus the intercept: TreeSHAP's bias term.
    pub fn expected_value(&self) -> f64 {
        self.base_score + self.trees.iter().map(Tree::expected_value).sum::<f64>()
    }
}

/// Depth of the deepest leaf (root = depth 0 for its children count 1). Children point forward,
/// so one pass in node order suffices.
pub(crate) fn tree_depth(tree: &Tree) -> usize {
    if tree.nodes.is_empty() {
        return 0;
    }
    let mut depth = alloc::vec![0usize; tree.nodes.len()];
    let mut max = 0;
    for (i, node) in tree.nodes.iter().enumerate() {
        let d = depth[i] + 1;
        max = max.max(d);
        for child in [node.left, node.right] {
            if child >= 0 {
                depth[child as usize] = d;
            }
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::flat::FLAT_GROUP;
    use super::float_bits::{f32_less_bound, next_down, next_up, prev_f32};
    use super::*;
    use crate::test_support::{split_in_set, split_le};
    use alloc::vec;

    /// x0 <= 0.5 ? (x1 categorical in {1,3} ? 1.0 : 2.0) : 3.0
    fn small() -> Ensemble {
        let tree = Tree {
            nodes: vec![split_le(0, 0.5, false, 1, -3, 10.0), split_in_set(1, -1, -2, 6.0)],
            leaf_values: vec![1.0, 2.0, 3.0],
            leaf_covers: vec![2.0, 4.0, 4.0],
            cat_words: vec![0b1010],
        };
        Ensemble {
            num_features: 2,
            trees: vec![tree],
            base_score: 0.0,
            arithmetic: Arithmetic::F64,
            link: Link::Sigmoid { scale: 1.0 },
            zero_small_inputs: true,
        }
    }

    #[test]
    fn routes_numeric_categorical_and_missing() {
        let e = small();
        e.validate().unwrap();
        assert_eq!(e.raw_score(&[0.5, 1.0]), 1.0);
        assert_eq!(e.raw_score(&[0.5, 2.0]), 2.0);
        assert_eq!(e.raw_score(&[0.5, 3.9]), 1.0, "codes truncate");
        assert_eq!(e.raw_score(&[0.5, -1.0]), 2.0, "negative codes go right");
        assert_eq!(e.raw_score(&[0.5, 40.0]), 2.0, "codes beyond the bitset go right");
        assert_eq!(e.raw_score(&[0.5, f64::NAN]), 2.0);
        assert_eq!(e.raw_score(&[0.50000001, 1.0]), 3.0);
        assert_eq!(e.raw_score(&[f64::NAN, 1.0]), 3.0, "NaN goes to the default side (right)");
    }

    #[test]
    fn batch_equals_single() {
        let e = small();
        let rows: Vec<f64> = (0..300).flat_map(|i| [i as f64 / 300.0, (i % 5) as f64]).collect();
        let mut out = Vec::new();
        e.raw_scores(&rows, &mut out);
        for (i, r) in rows.chunks(2).enumerate() {
            assert_eq!(out[i].to_bits(), e.raw_score(r).to_bits());
        }
    }

    #[test]
    fn rejects_cycles_and_bad_indices() {
        let mut e = small();
        e.trees[0].nodes[1].left = 0;
        assert!(matches!(e.validate(), Err(EnsembleError::BadChild { .. })));
        let mut e = small();
        e.trees[0].nodes[1].feature = 7;
        assert!(matches!(e.validate(), Err(EnsembleError::FeatureOutOfRange { .. })));
        let mut e = small();
        e.trees[0].nodes[1].split = Split::Categorical {
            bitset_start: 0,
            bitset_len: 2,
            in_set_left: true,
            default_left: false,
            strict_codes: false,
        };
        assert!(matches!(e.validate(), Err(EnsembleError::BitsetOutOfRange { .. })));
    }

    /// Deterministic pseudo-random numbers for the property tests below.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick(&mut self, values: &[f64]) -> f64 {
            values[self.below(values.len() as u64) as usize]
        }
    }

    const Z: f64 = LIGHTGBM_ZERO_THRESHOLD;

    fn special_values() -> Vec<f64> {
        let mut v = vec![
            f64::NAN,
            0.0,
            -0.0,
            Z,
            -Z,
            next_up(Z),
            next_down(Z),
            -next_up(Z),
            -next_down(Z),
            1e-36,
            5e-324,
            -5e-324,
            1e30,
            -1e30,
            0.5,
            -0.5,
            1.0,
            2.0,
            3.0,
            40.0,
            0.1f32 as f64,
            next_up(0.1f32 as f64),
            next_down(0.1f32 as f64),
            (0.1f32 as f64 + prev_f32(0.1) as f64) / 2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // Category codes around the bitset words' edges.
            31.0,
            31.999,
            32.0,
            33.0,
            63.0,
            63.5,
            64.0,
            1e9,
        ];
        v.extend((0..8).map(|i| i as f64 * 0.37 - 1.0));
        v
    }

    /// Split kinds of [`random_tree`]: LightGBM None, NaN and Zero, XGBoost, categorical (with
    /// wide bitsets on the last feature).
    const NONE: u8 = 0;
    const NAN: u8 = 1;
    const ZERO: u8 = 2;
    const F32: u8 = 3;
    const CAT: u8 = 4;
    const WIDE: u8 = 5;

    /// A random tree (children forward) whose splits are drawn from `kinds`. A Zero split on some
    /// thresholds sends the whole tree down the general path of [`FlatForest`].
    fn random_tree(rng: &mut Rng, internal: usize, num_features: u32, kinds: &[u8]) -> Tree {
        let specials = special_values();
        let thresholds: Vec<f64> = specials.iter().copied().filter(|v| !v.is_nan()).collect();
        let mut nodes: Vec<Node> = Vec::new();
        let mut open: Vec<(usize, bool)> = Vec::new();
        let mut leaves = 0i32;
        for i in 0..internal {
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            // Only the last feature has wide bitsets: it takes the general path, not the others.
            let feature = match kind {
                WIDE => num_features - 1,
                CAT => rng.below(num_features as u64 - 1) as u32,
                _ => rng.below(num_features as u64) as u32,
            };
            let t = rng.pick(&thresholds);
            let default_left = rng.below(2) == 0;
            let split = match kind {
                NONE => Split::LessOrEqual { threshold: t, missing: MissingType::None, default_left },
                NAN => Split::LessOrEqual { threshold: t, missing: MissingType::NaN, default_left },
                ZERO => Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left },
                // An infinite f32 threshold has no `<=` form (general path): only in general kinds.
                F32 => {
                    let t32 = t as f32;
                    let keep = t32.is_finite() || kinds.contains(&ZERO);
                    Split::LessThanF32 { threshold: if keep { t32 as f64 } else { 0.5 }, default_left }
                }
                _ => Split::Categorical {
                    // One or both words: codes 32-63 are out of range for some nodes only. Wide
                    // bitsets reach code 63 (too many codes for inline tables).
                    bitset_start: if kind == WIDE { 2 } else { 0 },
                    bitset_len: 1 + rng.below(2) as u32,
                    in_set_left: rng.below(2) == 0,
                    default_left,
                    // scikit-learn's rule on the wide feature only (its trees take the general
                    // path either way, as strict features do), so others keep their tables.
                    strict_codes: kind == WIDE && rng.below(2) == 0,
                },
            };
            nodes.push(Node { feature, split, left: 0, right: 0, cover: 1.0 });
            if i > 0 {
                let (parent, right) = open.remove(rng.below(open.len() as u64) as usize);
                if right { nodes[parent].right = i as i32 } else { nodes[parent].left = i as i32 }
            }
            open.push((i, false));
            open.push((i, true));
        }
        for (parent, right) in open {
            let leaf = !leaves;
            leaves += 1;
            if right { nodes[parent].right = leaf } else { nodes[parent].left = leaf }
        }
        let n_leaves = internal + 1;
        Tree {
            leaf_values: (0..n_leaves).map(|_| (rng.below(1 << 20) as f64 - 524288.0) / 3e5).collect(),
            leaf_covers: vec![1.0; n_leaves],
            cat_words: vec![
                rng.next() as u32,
                (rng.next() as u32) >> (2 + rng.below(30)),
                rng.next() as u32,
                rng.next() as u32 | 1 << 31,
            ],
            nodes,
        }
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn batch_walk_keeps_negative_zero_sums() {
        // -0.0 + -0.0 is -0.0: the batch walk adds -0.0 at every internal node, which changes no
        // sum, not even this one.
        let tree = |left: f64| Tree {
            nodes: vec![split_le(0, 0.5, false, -1, -2, 2.0)],
            leaf_values: vec![left, -0.0],
            leaf_covers: vec![1.0, 1.0],
            cat_words: vec![],
        };
        for arithmetic in [Arithmetic::F64, Arithmetic::F32] {
            let e = Ensemble {
                num_features: 1,
                trees: vec![tree(-0.0), tree(-0.0), tree(1.0)],
                base_score: -0.0,
                arithmetic,
                link: Link::Sigmoid { scale: 1.0 },
                zero_small_inputs: false,
            };
            e.validate().unwrap();
            let rows: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
            let mut out = Vec::new();
            FlatForest::new(&e).unwrap().raw_scores(&rows, &mut out);
            for (row, score) in rows.iter().zip(&out) {
                assert_eq!(score.to_bits(), e.raw_score(&[*row]).to_bits());
            }
            assert_eq!(out[1].to_bits(), (-0.0f64).to_bits());
        }
    }

    #[test]
    fn flat_forest_matches_the_node_walk_bit_for_bit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let specials = special_values();
        // (features, trees too large for a window): both sides of the window limits.
        for (nf, large) in [(5u32, 6usize), (130, 0)] {
            for (arithmetic, zero_small_inputs) in
                [(Arithmetic::F64, true), (Arithmetic::F64, false), (Arithmetic::F32, false)]
            {
                let kinds: [&[u8]; 3] =
                    [&[NONE, NAN, F32, F32], &[NONE, NAN, F32, CAT], &[NONE, NAN, ZERO, F32, CAT, WIDE]];
                // In runs of one kind, so that some runs of eight trees hold no general tree.
                let mut trees: Vec<Tree> =
                    (0..90).map(|k| random_tree(&mut rng, k % 13 + k / 45 * 20, nf, kinds[k / 30])).collect();
                trees.extend(
                    (0..large).map(|k| random_tree(&mut rng, 140, nf, &[NONE, NAN, CAT][..2 + k % 2])),
                );
                let e = Ensemble {
                    num_features: nf as usize,
                    trees,
                    base_score: 0.25,
                    arithmetic,
                    link: Link::Sigmoid { scale: 1.0 },
                    zero_small_inputs,
                };
                e.validate().unwrap();
                let rows: Vec<f64> = (0..203 * nf).map(|_| rng.pick(&specials)).collect();
                let flat = FlatForest::new(&e).unwrap();
                // Trees per path: (general, categorical, small).
                let count = |general: bool, categorical: bool, small: bool| {
                    let t = flat.trees.iter();
                    t.filter(|t| (t.general, t.categorical, t.small) == (general, categorical, small)).count()
                };
                let small = nf == 5;
                assert!(count(true, true, small) >= 5, "general trees");
                assert!(count(false, false, small) >= 20, "numeric trees");
                assert!(
                    count(false, true, small) >= 20,
                    "categorical trees {} {} {}",
                    count(false, true, small),
                    count(false, false, small),
                    count(true, true, small)
                );
                if small {
                    assert!(count(false, false, false) >= 2 && count(false, true, false) >= 2, "large trees");
                }
                // One row walks eight consecutive trees together when none is general.
                let eights = |categorical: bool| {
                    let c = flat.trees.chunks_exact(FLAT_GROUP);
                    c.filter(|c| {
                        c.iter().all(|t| !t.general) && c.iter().any(|t| t.categorical) == categorical
                    })
                    .count()
                };
                assert!(eights(false) >= 1 && eights(true) >= 1, "{} {}", eights(false), eights(true));
                let mut out = Vec::new();
                flat.raw_scores(&rows, &mut out);
                let mut via_api = Vec::new();
                e.raw_scores(&rows, &mut via_api);
                // The categorical step serves numeric trees too (wasm builds use it for them).
                let mut forced = flat.clone();
                forced.force_categorical();
                let mut out_forced = Vec::new();
                forced.raw_scores(&rows, &mut out_forced);
                assert_eq!(bits(&out_forced), bits(&out));
                let mut few = Vec::new();
                flat.raw_scores(&rows[..5 * nf as usize], &mut few);
                assert_eq!(bits(&few), bits(&out[..5]));
                for (i, row) in rows.chunks(nf as usize).enumerate() {
                    let single = e.raw_score(row);
                    assert_eq!(out[i].to_bits(), single.to_bits(), "row {i} {row:?}");
                    assert_eq!(flat.raw_score(row).to_bits(), single.to_bits(), "one row {i} {row:?}");
                    assert_eq!(via_api[i].to_bits(), single.to_bits());
                }
            }
        }
    }

    #[test]
    fn large_forest_blocks_match_the_node_walk() {
        // Over 512 KB of flat nodes: the batch walks blocks of thousands of rows (see
        // FlatForest::raw_scores); 7,001 rows make a full block and a partial one.
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let specials = special_values();
        let nf = 6u32;
        for arithmetic in [Arithmetic::F64, Arithmetic::F32] {
            let trees: Vec<Tree> = (0..260)
                .map(|k| random_tree(&mut rng, 140, nf, &[NONE, NAN, F32, CAT][..2 + k % 3]))
                .collect();
            let e = Ensemble {
                num_features: nf as usize,
                trees,
                base_score: -0.5,
                arithmetic,
                link: Link::Sigmoid { scale: 1.0 },
                zero_small_inputs: false,
            };
            e.validate().unwrap();
            let rows: Vec<f64> = (0..7001 * nf).map(|_| rng.pick(&specials)).collect();
            let flat = FlatForest::new(&e).unwrap();
            let mut out = Vec::new();
            flat.raw_scores(&rows, &mut out);
            assert_eq!(out.len(), 7001);
            for (i, row) in rows.chunks(nf as usize).enumerate() {
                assert_eq!(out[i].to_bits(), e.raw_score(row).to_bits(), "row {i} {row:?}");
            }
        }
    }

    #[test]
    fn f32_bound_is_the_last_value_rounding_below() {
        let below = |v: f64, t: f32| (v as f32) < t;
        let mut rng = Rng(12345);
        let mut ts: Vec<f32> =
            vec![0.0, -0.0, f32::from_bits(1), -f32::from_bits(1), f32::MAX, -f32::MAX, 1.0, -1.0];
        ts.extend((0..2000).map(|_| f32::from_bits(rng.next() as u32)).filter(|t| t.is_finite()));
        for t in ts {
            let b = f32_less_bound(t as f64).unwrap();
            assert!(below(b, t) && !below(next_up(b), t), "t = {t:e}, b = {b:e}");
        }
        assert_eq!(f32_less_bound(0.1), None, "not an f32 value");
        assert_eq!(f32_less_bound(f64::NAN), None);
    }

    #[cfg(feature = "std")]
    #[test]
    fn exp_matches_the_platform_exp_almost_always() {
        // glibc's x86-64 exp (FMA variant) is what LightGBM calls; elsewhere the platform exp
        // may differ in the last bit for a small share of inputs.
        let mut rng = Rng(42);
        let mut same = 0;
        let n = 20_000;
        for _ in 0..n {
            let x = (rng.below(1 << 40) as f64 / (1u64 << 40) as f64 - 0.5) * 60.0;
            let ours = exp_like_glibc(x);
            let platform = std::primitive::f64::exp(x);
            assert!((ours - platform).abs() <= platform * 2.3e-16, "exp({x:e}): {ours:e} vs {platform:e}");
            same += usize::from(ours.to_bits() == platform.to_bits());
        }
        assert!(same * 1000 >= n * 999, "{same} of {n} bit-identical");
        assert_eq!(exp_like_glibc(0.0), 1.0);
        assert_eq!(exp_like_glibc(1e-300), 1.0);
        assert_eq!(exp_like_glibc(-1000.0), 0.0);
        assert!(exp_like_glibc(f64::NAN).is_nan());
        assert_eq!(exp_like_glibc(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn expected_value_weights_leaves_by_cover() {
        let e = small();
        assert!((e.expected_value() - (0.2 * 1.0 + 0.4 * 2.0 + 0.4 * 3.0)).abs() < 1e-15);
    }
}
