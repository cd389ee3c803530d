//! Tree-ensemble evaluation shared by every model family.
//!
//! One node layout serves LightGBM, XGBoost and scikit-learn: each node carries the decision rule
//! of the library it came from, so scores equal that library's predictions (see
//! ../shared/MODEL_FORMATS.md for the rules this follows).

use alloc::vec::Vec;

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
    LessOrEqual { threshold: f64, missing: MissingType, default_left: bool },
    /// XGBoost: the input is rounded to f32; NaN takes the default side, else `v < threshold` left.
    /// `threshold` holds an f32 value exactly.
    LessThanF32 { threshold: f64, default_left: bool },
    /// Category code `trunc(v)` is looked up in the node's bitset (words `bitset_start..+len`).
    /// In the set goes left when `in_set_left` (LightGBM, scikit-learn), right otherwise (XGBoost).
    /// NaN takes the default side; negative or out-of-range codes count as "not in the set".
    Categorical { bitset_start: u32, bitset_len: u32, in_set_left: bool, default_left: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub feature: u32,
    pub split: Split,
    /// Child index: `>= 0` an internal node, `< 0` the leaf `!child`.
    pub left: i32,
    pub right: i32,
    /// Training weight reaching the node (LightGBM count, XGBoost hessian sum): TreeSHAP's cover.
    pub cover: f64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Tree {
    /// Internal nodes; node 0 is the root. Empty for a single-leaf tree.
    pub nodes: Vec<Node>,
    pub leaf_values: Vec<f64>,
    pub leaf_covers: Vec<f64>,
    /// Category bitsets of the categorical nodes, concatenated (bit c%32 of word c/32).
    pub cat_words: Vec<u32>,
}

/// How leaf values are added up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arithmetic {
    /// f64: base first, then each tree in order (LightGBM, scikit-learn).
    F64,
    /// f32, rounding after every addition (XGBoost).
    F32,
}

/// Raw score -> probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    /// probability = 1 / (1 + exp(-scale * raw)).
    Sigmoid {
        scale: f64,
    },
    Identity,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    pub num_features: usize,
    pub trees: Vec<Tree>,
    /// Raw-score intercept added before the trees (0 for LightGBM, whose init score sits in tree 0).
    pub base_score: f64,
    pub arithmetic: Arithmetic,
    pub link: Link,
    /// LightGBM's C API scores inputs with |v| <= 1e-35 as 0.0; reproduce it for parity.
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
            Split::Categorical { bitset_start, bitset_len, in_set_left, default_left } => {
                if value.is_nan() {
                    return default_left;
                }
                let in_set = category_in_bitset(value, bitset_start, bitset_len, cat_words);
                in_set == in_set_left
            }
        }
    }
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

/// Why an ensemble is not well-formed.
#[derive(Clone, Debug, PartialEq)]
pub enum EnsembleError {
    NoTrees,
    LeafCount {
        tree: usize,
        leaves: usize,
        expected: usize,
    },
    FeatureOutOfRange {
        tree: usize,
        node: usize,
        feature: u32,
    },
    /// Children must point forward (child > parent), which rules out cycles.
    BadChild {
        tree: usize,
        node: usize,
        child: i32,
    },
    LeafReachedTwice {
        tree: usize,
        leaf: usize,
    },
    BitsetOutOfRange {
        tree: usize,
        node: usize,
    },
    TooDeep {
        tree: usize,
    },
    CoverLength {
        tree: usize,
    },
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

    /// Applies the model's input conventions (LightGBM's tiny-value zeroing) to a row.
    pub(crate) fn prepare_row<'a>(&self, row: &'a [f64]) -> alloc::borrow::Cow<'a, [f64]> {
        if self.zero_small_inputs && row.iter().any(|v| is_lightgbm_dropped(*v)) {
            let fixed: Vec<f64> = row.iter().map(|&v| if is_lightgbm_dropped(v) { 0.0 } else { v }).collect();
            alloc::borrow::Cow::Owned(fixed)
        } else {
            alloc::borrow::Cow::Borrowed(row)
        }
    }

    /// Raw scores of `rows.len() / num_features` rows stored row-major. Gives the same bits as
    /// [`Ensemble::raw_score`] row by row (same summation order), but walks the trees over blocks
    /// of rows so that each tree stays in cache.
    pub fn raw_scores(&self, rows: &[f64], out: &mut Vec<f64>) {
        const BLOCK: usize = 64;
        let nf = self.num_features.max(1);
        let n = rows.len() / nf;
        out.clear();
        out.reserve(n);
        let mut prepared: Vec<f64> = Vec::new();
        let rows = if self.zero_small_inputs && rows.iter().any(|v| is_lightgbm_dropped(*v)) {
            prepared.extend(rows.iter().map(|&v| if is_lightgbm_dropped(v) { 0.0 } else { v }));
            &prepared[..]
        } else {
            rows
        };
        let mut acc64 = [0.0f64; BLOCK];
        let mut acc32 = [0.0f32; BLOCK];
        let mut start = 0;
        while start < n {
            let len = BLOCK.min(n - start);
            let block = &rows[start * nf..(start + len) * nf];
            match self.arithmetic {
                Arithmetic::F64 => {
                    acc64[..len].fill(self.base_score);
                    for tree in &self.trees {
                        for (r, acc) in acc64[..len].iter_mut().enumerate() {
                            *acc += tree.leaf_values[tree.leaf_index(&block[r * nf..(r + 1) * nf])];
                        }
                    }
                    out.extend_from_slice(&acc64[..len]);
                }
                Arithmetic::F32 => {
                    acc32[..len].fill(self.base_score as f32);
                    for tree in &self.trees {
                        for (r, acc) in acc32[..len].iter_mut().enumerate() {
                            *acc += tree.leaf_values[tree.leaf_index(&block[r * nf..(r + 1) * nf])] as f32;
                        }
                    }
                    out.extend(acc32[..len].iter().map(|&v| v as f64));
                }
            }
            start += len;
        }
    }

    /// Probability from a raw score through the model's link.
    pub fn probability(&self, raw: f64) -> f64 {
        match (self.link, self.arithmetic) {
            (Link::Identity, _) => raw,
            (Link::Sigmoid { .. }, Arithmetic::F32) => {
                let m = raw as f32;
                (1.0f32 / (1.0f32 + libm::expf(-m))) as f64
            }
            (Link::Sigmoid { scale }, Arithmetic::F64) => 1.0 / (1.0 + libm::exp(-scale * raw)),
        }
    }

    /// Sum of the trees' expected values plus the intercept: TreeSHAP's bias term.
    pub fn expected_value(&self) -> f64 {
        self.base_score + self.trees.iter().map(Tree::expected_value).sum::<f64>()
    }
}

#[inline(always)]
fn is_lightgbm_dropped(v: f64) -> bool {
    libm::fabs(v) <= LIGHTGBM_ZERO_THRESHOLD && v != 0.0
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
    use super::*;
    use alloc::vec;

    /// x0 <= 0.5 ? (x1 categorical in {1,3} ? 1.0 : 2.0) : 3.0
    fn small() -> Ensemble {
        let tree = Tree {
            nodes: vec![
                Node {
                    feature: 0,
                    split: Split::LessOrEqual {
                        threshold: 0.5,
                        missing: MissingType::NaN,
                        default_left: false,
                    },
                    left: 1,
                    right: -3,
                    cover: 10.0,
                },
                Node {
                    feature: 1,
                    split: Split::Categorical {
                        bitset_start: 0,
                        bitset_len: 1,
                        in_set_left: true,
                        default_left: false,
                    },
                    left: -1,
                    right: -2,
                    cover: 6.0,
                },
            ],
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
        e.trees[0].nodes[1].split =
            Split::Categorical { bitset_start: 0, bitset_len: 2, in_set_left: true, default_left: false };
        assert!(matches!(e.validate(), Err(EnsembleError::BitsetOutOfRange { .. })));
    }

    #[test]
    fn expected_value_weights_leaves_by_cover() {
        let e = small();
        assert!((e.expected_value() - (0.2 * 1.0 + 0.4 * 2.0 + 0.4 * 3.0)).abs() < 1e-15);
    }
}
