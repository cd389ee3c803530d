//! Tree-ensemble evaluation shared by every model family.
//!
//! One node layout serves LightGBM, XGBoost and scikit-learn: each node carries the decision rule
//! of the library it came from, so scores equal that library's predictions. The rules per library
//! (LightGBM 4.x model text, XGBoost 3.x JSON/UBJSON, scikit-learn 1.9 HistGradientBoosting) are
//! listed in docs/MODEL_IMPORT.md, "Rules the scorer follows".

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

/// Rows scored per batch call before compiling the ensemble into a [`FlatForest`] pays off
/// (compiling costs about one pass over the nodes: 0.3 ms for the default model, the time to walk
/// some 25 rows through the original trees).
pub const FLAT_MIN_ROWS: usize = 64;

// Flags in `FlatNode::feature` of trees that need the general rule.
const FLAT_LEAF: u32 = 1 << 31;
// Flag in `FlatNode::feature` of the other trees: a categorical node (see [`FlatForest`]).
const FLAT_CATEGORY: u32 = 1 << 31;
/// Most category codes of a feature whose nodes keep their "goes left" table inline (64 bits).
const FLAT_MAX_CODES: u32 = 62;
const FLAT_NAN_LEFT: u32 = 1 << 30;
const FLAT_GENERAL: u32 = 1 << 29;
const FLAT_FEATURE: u32 = FLAT_GENERAL - 1;

/// Rows walked through a tree together (independent walks overlap in the pipeline).
const FLAT_GROUP: usize = 8;

/// Whether trees without categorical nodes get their own, shorter step. The categorical step
/// handles them too; wasm leaves the specialisation out (the npm package is downloaded by every
/// page view, and the copy costs about 1 KB).
const SPECIALIZE_NUMERIC: bool = !cfg!(target_arch = "wasm32");

/// Trees of at most this many flat nodes, on rows of at most this many extended slots, are walked
/// through fixed-size windows indexed by a byte: no bounds check is left in the hot loop.
const FLAT_WINDOW: usize = 256;

/// One node of a [`FlatForest`]: 16 bytes, both children side by side.
#[derive(Clone, Copy, Debug, PartialEq)]
struct FlatNode {
    /// Numeric node: `v <= value` goes left. Leaf: the leaf value. General node: index into
    /// `FlatForest::general` (as bits).
    value: f64,
    /// Numeric tree: the slot of the extended row to compare (see [`FlatForest`]); a leaf reads
    /// the -inf slot, so it always "goes left" to itself. General tree: feature plus flags.
    feature: u32,
    /// Left child, counted from the tree's root; the right child is `next + 1`. A leaf points to
    /// itself.
    next: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct FlatTree {
    root: u32,
    /// Longest root-to-leaf path (steps).
    depth: u32,
    /// Steps taken by all rows of a group together: enough for most training rows to reach their
    /// leaf (leaf-wise trees are deep on few rows); the rest continue one by one.
    lockstep: u32,
    /// Whether any node needs the general rule (some zero-as-missing splits, NaN thresholds).
    general: bool,
    /// Whether any node is categorical (the step then also reads a bit table).
    categorical: bool,
    /// Whether the tree fits a [`FLAT_WINDOW`].
    small: bool,
}

/// The ensemble compiled for batch scoring. Every tree's nodes sit in breadth-first order in one
/// array of 16-byte nodes, siblings adjacent, leaves inline and pointing to themselves.
///
/// Every numeric rule of the supported libraries (LightGBM missing types, XGBoost's f32 `<`) is
/// rewritten as `v <= t` plus a fixed side for NaN. Each row is extended to `2n + 1` slots:
/// the values with NaN as -inf (for nodes that send NaN left), the values as they are (NaN
/// right), and a -inf slot that leaves read. A step is then one load, one compare and one add,
/// without branches. A categorical feature gets one more slot: the row's category as an index
/// `k` (the code, or one index for codes no bitset holds and one for NaN), and each categorical
/// node, in place of a threshold, 64 bits saying for each index whether it goes left (its bitset
/// with the in-set side, the default side and the out-of-range side folded in); a tree with such
/// nodes computes both steps and keeps the node's. Eight rows walk a tree in lockstep, their slots
/// interleaved, for as many steps as 90 % of the training rows need (leaf-wise trees are deep only
/// for few rows); unfinished rows then go on alone. The few trees whose splits have no such form
/// use the original rules on the original row. The leaves reached, hence the bits of the sums, are
/// exactly those of [`Ensemble::raw_score`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlatForest {
    nodes: Vec<FlatNode>,
    trees: Vec<FlatTree>,
    /// Splits evaluated by their original rule (bitsets rebased into `words`).
    general: Vec<Split>,
    /// Bitsets of the general trees.
    words: Vec<u32>,
    num_features: usize,
    /// Categorical features with at most [`FLAT_MAX_CODES`] codes in their bitsets: (feature,
    /// extended slot of its index, codes).
    categories: Vec<(u32, u32, u32)>,
    /// Slots of an extended row: `2 * num_features + 1 + categories.len()`.
    stride: usize,
    base_score: f64,
    arithmetic: Arithmetic,
    zero_small_inputs: bool,
}

/// A numeric rule as (`t`, NaN goes left): left iff `v <= t`, or NaN and the flag. `None` when the
/// split needs its original rule.
fn numeric_rule(split: &Split) -> Option<(f64, bool)> {
    const Z: f64 = LIGHTGBM_ZERO_THRESHOLD;
    let rule = match *split {
        // NaN is compared as 0.0.
        Split::LessOrEqual { threshold, missing: MissingType::None, .. } => (threshold, 0.0 <= threshold),
        Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left } => {
            (threshold, default_left)
        }
        // NaN becomes 0.0 and |v| <= Z takes the default side: one interval in most cases.
        Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left: true } => {
            if t >= Z {
                (t, true)
            } else if t >= -Z {
                (Z, true)
            } else {
                return None;
            }
        }
        Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left: false } => {
            if t < -Z {
                (t, false)
            } else if (-Z..Z).contains(&t) {
                (next_down(-Z), false)
            } else {
                return None;
            }
        }
        Split::LessThanF32 { threshold, default_left } => (f32_less_bound(threshold)?, default_left),
        Split::Categorical { .. } => return None,
    };
    // A NaN threshold compares false with everything (NaN-left slots hold -inf, not NaN).
    if rule.0.is_nan() { None } else { Some(rule) }
}

impl FlatForest {
    /// Compiles an ensemble. `None` when it cannot be flattened (no features, too many features
    /// or nodes for the compact encoding, or a structure [`Ensemble::validate`] rejects): use
    /// [`Ensemble::raw_scores`] then.
    pub fn new(e: &Ensemble) -> Option<FlatForest> {
        let nf = e.num_features;
        if nf == 0 || 2 * nf + 1 > FLAT_FEATURE as usize {
            return None;
        }
        let total: usize = e.trees.iter().map(|t| 2 * t.nodes.len() + 1).sum::<usize>() + FLAT_WINDOW;
        if total >= u32::MAX as usize {
            return None;
        }
        // Codes that some bitset of a categorical feature holds: one past the highest set bit.
        let mut codes: Vec<Option<u32>> = alloc::vec![None; nf];
        let mut strict = alloc::vec![false; nf];
        for tree in &e.trees {
            for node in &tree.nodes {
                if let Split::Categorical { bitset_start, bitset_len, strict_codes, .. } = node.split {
                    if strict_codes {
                        // Non-integer codes have no table index: these trees take the general walk.
                        *strict.get_mut(node.feature as usize)? = true;
                    }
                    let start = bitset_start as usize;
                    let words = tree.cat_words.get(start..start.saturating_add(bitset_len as usize))?;
                    let top = words.iter().enumerate().rev().find(|(_, w)| **w != 0);
                    let end = top.map_or(0, |(i, w)| 32 * i as u64 + 32 - u64::from(w.leading_zeros()));
                    let c = codes.get_mut(node.feature as usize)?;
                    *c = Some(c.unwrap_or(0).max(u32::try_from(end).unwrap_or(u32::MAX)));
                }
            }
        }
        let categories: Vec<(u32, u32, u32)> = (0..nf)
            .filter(|&j| !strict[j])
            .filter_map(|j| Some((j, codes[j]?)))
            .filter(|&(_, c)| c <= FLAT_MAX_CODES)
            .enumerate()
            .map(|(i, (j, c))| (j as u32, (2 * nf + 1 + i) as u32, c))
            .collect();
        let mut f = FlatForest {
            nodes: Vec::with_capacity(total),
            trees: Vec::with_capacity(e.trees.len()),
            general: Vec::new(),
            words: Vec::new(),
            num_features: nf,
            stride: 2 * nf + 1 + categories.len(),
            categories,
            base_score: e.base_score,
            arithmetic: e.arithmetic,
            zero_small_inputs: e.zero_small_inputs,
        };
        // Per slot: the original reference (internal node >= 0, leaf < 0) and its depth.
        let mut refs: Vec<(i32, u32)> = Vec::new();
        for tree in &e.trees {
            if tree.nodes.iter().any(|n| n.feature as usize >= nf) {
                return None;
            }
            // A leaf stays put because `-inf <= value`, which a NaN leaf value breaks.
            let general = tree.nodes.iter().any(|n| match n.split {
                Split::Categorical { .. } => !f.categories.iter().any(|c| c.0 == n.feature),
                _ => numeric_rule(&n.split).is_none(),
            }) || tree.leaf_values.iter().any(|v| v.is_nan());
            let categorical = tree.nodes.iter().any(|n| matches!(n.split, Split::Categorical { .. }));
            let root = f.nodes.len();
            let word_base = u32::try_from(f.words.len()).ok()?;
            if general {
                f.words.extend_from_slice(&tree.cat_words);
            }
            refs.clear();
            refs.push((if tree.nodes.is_empty() { -1 } else { 0 }, 0));
            let placeholder = FlatNode { value: 0.0, feature: 0, next: 0 };
            f.nodes.push(placeholder);
            let mut depth = 0u32;
            let mut leaf_depths: Vec<(u32, f64)> = Vec::new();
            let mut k = 0;
            while k < refs.len() {
                let (reference, d) = refs[k];
                if reference < 0 {
                    let value = *tree.leaf_values.get((!reference) as usize)?;
                    let feature = if general { FLAT_LEAF } else { 2 * nf as u32 };
                    f.nodes[root + k] = FlatNode { value, feature, next: k as u32 };
                    depth = depth.max(d);
                    leaf_depths
                        .push((d, tree.leaf_covers.get((!reference) as usize).copied().unwrap_or(0.0)));
                } else {
                    // Children point forward (validated ensembles), so this ends.
                    let node = tree.nodes.get(reference as usize)?;
                    if refs.len() > 2 * tree.nodes.len() + 1 {
                        return None;
                    }
                    let next = (f.nodes.len() - root) as u32;
                    f.nodes.push(placeholder);
                    f.nodes.push(placeholder);
                    refs.push((node.left, d + 1));
                    refs.push((node.right, d + 1));
                    f.nodes[root + k] = f.encode(node, &tree.cat_words, general, word_base, next)?;
                }
                k += 1;
            }
            let lockstep = lockstep_depth(&mut leaf_depths).unwrap_or(depth);
            let small = refs.len() <= FLAT_WINDOW && f.stride <= FLAT_WINDOW;
            f.trees.push(FlatTree { root: root as u32, depth, lockstep, general, categorical, small });
        }
        // Every small tree's window lies inside the array.
        f.nodes.resize(f.nodes.len() + FLAT_WINDOW - 1, FlatNode { value: 0.0, feature: 0, next: 0 });
        Some(f)
    }

    fn encode(
        &mut self,
        node: &Node,
        cat_words: &[u32],
        general_tree: bool,
        word_base: u32,
        next: u32,
    ) -> Option<FlatNode> {
        let nf = self.num_features as u32;
        Some(match (numeric_rule(&node.split), node.split) {
            (_, Split::Categorical { .. }) if !general_tree => {
                let &(_, slot, codes) = self.categories.iter().find(|c| c.0 == node.feature)?;
                // Bit k: whether index k goes left (k < codes: that code; codes: no bitset holds
                // it; codes + 1: NaN).
                let mut table = 0u64;
                for k in 0..codes + 2 {
                    let value = match k {
                        k if k < codes => f64::from(k),
                        k if k == codes => -1.0,
                        _ => f64::NAN,
                    };
                    if node.split.goes_left(value, cat_words) {
                        table |= 1 << k;
                    }
                }
                FlatNode { value: f64::from_bits(table), feature: slot | FLAT_CATEGORY, next }
            }
            (Some((threshold, nan_left)), _) if !general_tree => FlatNode {
                value: threshold,
                feature: if nan_left { node.feature } else { nf + node.feature },
                next,
            },
            (Some((threshold, nan_left)), _) => FlatNode {
                value: threshold,
                feature: node.feature | if nan_left { FLAT_NAN_LEFT } else { 0 },
                next,
            },
            (None, _) => {
                let mut split = node.split;
                if let Split::Categorical { bitset_start, .. } = &mut split {
                    *bitset_start = bitset_start.saturating_add(word_base);
                }
                self.general.push(split);
                FlatNode {
                    value: f64::from_bits((self.general.len() - 1) as u64),
                    feature: node.feature | FLAT_GENERAL,
                    next,
                }
            }
        })
    }

    /// Raw scores of row-major rows; the same bits as [`Ensemble::raw_score`] row by row.
    pub fn raw_scores(&self, rows: &[f64], out: &mut Vec<f64>) {
        let nf = self.num_features;
        if rows.len() / nf < FLAT_GROUP {
            // Too few rows for a group: one row at a time, eight trees together.
            out.clear();
            out.extend(rows.chunks_exact(nf).map(|row| self.raw_score(row)));
            return;
        }
        let stride = self.stride;
        // Slots per group of the interleaved extended rows: a whole window when it fits.
        let group_slots = if stride <= FLAT_WINDOW { FLAT_WINDOW } else { stride };
        let n = rows.len() / nf;
        out.clear();
        out.reserve(n);
        let conversion = InputConversion::of(self.arithmetic, self.zero_small_inputs);
        // Rows per block: a model that fits in L2 is walked over a block of rows kept in L1; a
        // larger one streams from memory once per block, so its blocks are larger (rows in L2).
        let row_budget = if self.nodes.len() * 16 <= 512 * 1024 { 24 * 1024 } else { 96 * 1024 };
        let block_rows = ((row_budget / (8 * stride)) / FLAT_GROUP * FLAT_GROUP).clamp(FLAT_GROUP, 512);
        // Slots past `stride` are never read nor written (and stay untouched zero pages).
        let mut extended = alloc::vec![[0.0f64; FLAT_GROUP]; block_rows / FLAT_GROUP * group_slots];
        let mut original = alloc::vec![0.0f64; block_rows * nf];
        let mut leaves = alloc::vec![0.0f64; block_rows];
        let mut acc64 = alloc::vec![0.0f64; block_rows];
        let mut acc32 = alloc::vec![0.0f32; block_rows];
        let mut start = 0;
        while start < n {
            let len = block_rows.min(n - start);
            // Whole groups; the padding rows of the last one are scored and dropped.
            let padded = len.div_ceil(FLAT_GROUP) * FLAT_GROUP;
            original[..len * nf].copy_from_slice(&rows[start * nf..(start + len) * nf]);
            if conversion != InputConversion::None {
                original[..len * nf].iter_mut().for_each(|v| *v = conversion.apply(*v));
            }
            original[len * nf..padded * nf].fill(0.0);
            for (r, row) in original[..padded * nf].chunks_exact(nf).enumerate() {
                self.extend_row(row, &mut extended[r / FLAT_GROUP * group_slots..][..stride], r % FLAT_GROUP);
            }
            acc64[..padded].fill(self.base_score);
            acc32[..padded].fill(self.base_score as f32);
            for tree in &self.trees {
                let window = self.window(tree);
                for (g, chunk) in leaves[..padded].chunks_exact_mut(FLAT_GROUP).enumerate() {
                    let Ok(out) = <&mut [f64; FLAT_GROUP]>::try_from(chunk) else { continue };
                    let group = &extended[g * group_slots..(g + 1) * group_slots];
                    let first = g * FLAT_GROUP;
                    let rows = &original[first * nf..(first + FLAT_GROUP) * nf];
                    self.leaves(tree, window, group, rows, out);
                }
                match self.arithmetic {
                    Arithmetic::F64 => {
                        for (acc, leaf) in acc64[..padded].iter_mut().zip(&leaves[..padded]) {
                            *acc += *leaf;
                        }
                    }
                    Arithmetic::F32 => {
                        for (acc, leaf) in acc32[..padded].iter_mut().zip(&leaves[..padded]) {
                            *acc += *leaf as f32;
                        }
                    }
                }
            }
            match self.arithmetic {
                Arithmetic::F64 => out.extend_from_slice(&acc64[..len]),
                Arithmetic::F32 => out.extend(acc32[..len].iter().map(|&v| v as f64)),
            }
            start += len;
        }
    }

    /// Raw score of one row; the same bits as [`Ensemble::raw_score`] (each tree walked without
    /// branches on the split directions).
    pub fn raw_score(&self, row: &[f64]) -> f64 {
        let nf = self.num_features;
        let mut leaf = [0.0f64];
        let mut fixed: Vec<f64> = Vec::new();
        let conversion = InputConversion::of(self.arithmetic, self.zero_small_inputs);
        let row = match row.get(..nf) {
            Some(r) if r.iter().any(|&v| conversion.changes(v)) => {
                fixed.extend(r.iter().map(|&v| conversion.apply(v)));
                &fixed[..]
            }
            Some(r) => r,
            // Too short: scored as the batch path would, missing values filling the rest.
            None => {
                fixed.extend(row.iter().map(|&v| conversion.apply(v)));
                fixed.resize(nf, f64::NAN);
                &fixed[..]
            }
        };
        // Lane 0 of a group's layout (one layout for every path keeps the code small).
        let mut extended = alloc::vec![[0.0f64; FLAT_GROUP]; self.stride];
        self.extend_row(row, &mut extended, 0);
        let (mut acc64, mut acc32) = (self.base_score, self.base_score as f32);
        let mut add = |value: f64| {
            acc64 += value;
            acc32 += value as f32;
        };
        // Eight trees walked together: one row's walk is a chain of dependent loads, so
        // independent trees fill the pipeline.
        let mut values = [0.0f64; FLAT_GROUP];
        let slots = &&extended[..];
        for trees in self.trees.chunks(FLAT_GROUP) {
            if trees.iter().any(|t| t.general) {
                for tree in trees {
                    match tree.general {
                        true => self.walk_general(tree, row, &mut leaf),
                        false => self.walk_trees::<true>(core::slice::from_ref(tree), slots, &mut leaf),
                    }
                    add(leaf[0]);
                }
                continue;
            }
            let values = &mut values[..trees.len()];
            match trees.iter().any(|t| t.categorical) || !SPECIALIZE_NUMERIC {
                false => self.walk_trees::<false>(trees, slots, values),
                true => self.walk_trees::<true>(trees, slots, values),
            }
            values.iter().for_each(|&v| add(v));
        }
        match self.arithmetic {
            Arithmetic::F64 => acc64,
            Arithmetic::F32 => acc32 as f64,
        }
    }

    /// Walks one row (extended slots `row`) through up to eight trees without general nodes in
    /// lockstep, then one by one, and writes each tree's leaf value.
    fn walk_trees<const CATEGORICAL: bool>(
        &self,
        trees: &[FlatTree],
        row: &impl GroupSlots,
        out: &mut [f64],
    ) {
        let nodes = &self.nodes[..];
        let mut at = [0u32; FLAT_GROUP];
        for (node_at, tree) in at.iter_mut().zip(trees) {
            *node_at = tree.root;
        }
        let lockstep = trees.iter().map(|t| t.lockstep).min().unwrap_or(0);
        for _ in 0..lockstep {
            for (tree, node_at) in trees.iter().zip(at.iter_mut()) {
                *node_at = tree.root + step::<CATEGORICAL>(nodes[*node_at as usize], row, 0);
            }
        }
        for ((tree, value), mut node_at) in trees.iter().zip(out.iter_mut()).zip(at) {
            loop {
                let node = nodes[node_at as usize];
                let next = tree.root + step::<CATEGORICAL>(node, row, 0);
                if next == node_at {
                    *value = node.value;
                    break;
                }
                node_at = next;
            }
        }
    }

    /// Writes `row` (prepared, `num_features` values) as lane `lane` of a group's extended slots.
    #[inline(always)]
    fn extend_row(&self, row: &[f64], group: &mut [[f64; FLAT_GROUP]], lane: usize) {
        let nf = self.num_features;
        let lane = lane % FLAT_GROUP;
        for (j, &v) in row.iter().enumerate().take(nf) {
            group[j][lane] = if v.is_nan() { f64::NEG_INFINITY } else { v };
            group[nf + j][lane] = v;
        }
        group[2 * nf][lane] = f64::NEG_INFINITY;
        for &(feature, slot, codes) in &self.categories {
            let v = row[feature as usize];
            let k = if v.is_nan() {
                codes + 1
            } else if v < 0.0 || v >= f64::from(codes) {
                codes
            } else {
                v as u32 // truncation toward zero, as the libraries' int cast
            };
            // The index travels as the bits of an f64 slot (read back with `to_bits`).
            group[slot as usize][lane] = f64::from_bits(k.into());
        }
    }

    /// A small tree's nodes as a fixed-size window.
    fn window(&self, tree: &FlatTree) -> Option<&[FlatNode; FLAT_WINDOW]> {
        let root = tree.root as usize;
        match tree.small {
            true => self.nodes.get(root..root + FLAT_WINDOW).and_then(|w| w.try_into().ok()),
            false => None,
        }
    }

    /// The leaf values one tree gives a group of `L` rows: `group` their extended slots
    /// (`group_slots` of them), `rows` the same rows as given (for general trees).
    #[inline(always)]
    fn leaves(
        &self,
        tree: &FlatTree,
        window: Option<&[FlatNode; FLAT_WINDOW]>,
        group: &[[f64; FLAT_GROUP]],
        rows: &[f64],
        out: &mut [f64; FLAT_GROUP],
    ) {
        let lockstep = tree.lockstep;
        let categorical = tree.categorical || !SPECIALIZE_NUMERIC;
        if tree.general {
            self.walk_general(tree, rows, out);
        } else if let (Some(nodes), Ok(group)) =
            (window, <&[[f64; FLAT_GROUP]; FLAT_WINDOW]>::try_from(group))
        {
            let (nodes, group) = (&WindowNodes(nodes), &WindowSlots(group));
            match categorical {
                false => walk::<false>(nodes, group, lockstep, out),
                true => walk::<true>(nodes, group, lockstep, out),
            }
        } else {
            let nodes = &&self.nodes[tree.root as usize..];
            match categorical {
                false => walk::<false>(nodes, &group, lockstep, out),
                true => walk::<true>(nodes, &group, lockstep, out),
            }
        }
    }

    /// The walk for a tree with general splits, on the original rows.
    /// `out.len()` rows (at most [`FLAT_GROUP`]).
    fn walk_general(&self, tree: &FlatTree, rows: &[f64], out: &mut [f64]) {
        let nf = self.num_features;
        let nodes = &self.nodes[tree.root as usize..];
        let mut at = [0u32; FLAT_GROUP];
        let at = &mut at[..out.len().min(FLAT_GROUP)];
        for _ in 0..tree.depth {
            let mut moved = false;
            for (g, node_at) in at.iter_mut().enumerate() {
                let node = nodes[*node_at as usize];
                let v = rows[g * nf + (node.feature & FLAT_FEATURE) as usize];
                let left = if node.feature & FLAT_GENERAL != 0 {
                    match self.general.get(node.value.to_bits() as usize) {
                        Some(split) => split.goes_left(v, &self.words),
                        None => true,
                    }
                } else {
                    (v <= node.value)
                        | (v.is_nan() & (node.feature & FLAT_NAN_LEFT != 0))
                        | (node.feature & FLAT_LEAF != 0)
                };
                let next = node.next + u32::from(!left);
                moved |= next != *node_at;
                *node_at = next;
            }
            if !moved {
                break;
            }
        }
        for (value, &node_at) in out.iter_mut().zip(at.iter()) {
            *value = nodes[node_at as usize].value;
        }
    }
}

/// Nodes of one numeric tree, indexed from its root.
trait TreeNodes {
    fn node(&self, at: u32) -> FlatNode;
}

/// Interleaved extended rows of one group: slot, then lane.
trait GroupSlots {
    fn value(&self, slot: u32, lane: usize) -> f64;
}

/// A tree that fits a window: byte indices, so no bounds check.
struct WindowNodes<'a>(&'a [FlatNode; FLAT_WINDOW]);
struct WindowSlots<'a>(&'a [[f64; FLAT_GROUP]; FLAT_WINDOW]);

impl TreeNodes for WindowNodes<'_> {
    #[inline(always)]
    fn node(&self, at: u32) -> FlatNode {
        self.0[at as u8 as usize]
    }
}

impl GroupSlots for WindowSlots<'_> {
    #[inline(always)]
    fn value(&self, slot: u32, lane: usize) -> f64 {
        self.0[slot as u8 as usize][lane % FLAT_GROUP]
    }
}

// Larger trees or rows: checked indices, always in range by construction.
impl TreeNodes for &[FlatNode] {
    #[inline(always)]
    fn node(&self, at: u32) -> FlatNode {
        self[at as usize]
    }
}

impl GroupSlots for &[[f64; FLAT_GROUP]] {
    #[inline(always)]
    fn value(&self, slot: u32, lane: usize) -> f64 {
        self[slot as usize][lane % FLAT_GROUP]
    }
}

/// Walks a group of rows through a tree without general nodes (lockstep, then one by one) and
/// writes each row's leaf value. `CATEGORICAL`: the tree has categorical nodes.
#[inline(always)]
fn walk<const CATEGORICAL: bool>(
    nodes: &impl TreeNodes,
    group: &impl GroupSlots,
    lockstep: u32,
    out: &mut [f64; FLAT_GROUP],
) {
    let mut at = [0u32; FLAT_GROUP];
    for _ in 0..lockstep {
        for (lane, node_at) in at.iter_mut().enumerate() {
            *node_at = step::<CATEGORICAL>(nodes.node(*node_at), group, lane);
        }
    }
    for (lane, (value, mut node_at)) in out.iter_mut().zip(at).enumerate() {
        loop {
            let node = nodes.node(node_at);
            let next = step::<CATEGORICAL>(node, group, lane);
            if next == node_at {
                *value = node.value;
                break;
            }
            node_at = next;
        }
    }
}

/// The child of `node` taken by row `lane` of the group, without branches.
#[inline(always)]
fn step<const CATEGORICAL: bool>(node: FlatNode, group: &impl GroupSlots, lane: usize) -> u32 {
    if !CATEGORICAL {
        return node.next + right_step(group.value(node.feature, lane), node.value);
    }
    let v = group.value(node.feature & !FLAT_CATEGORY, lane);
    let right = right_step(v, node.value);
    // Both answers, then the node's: all ones for a categorical node.
    let category = 0u32.wrapping_sub(node.feature >> 31);
    let left = (node.value.to_bits() >> (v.to_bits() & 63)) as u32 & 1;
    node.next + (right ^ ((right ^ (1 - left)) & category))
}

/// 1 when `v` takes the right child of a `v <= t` node: `v > t`, or `v` is NaN.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN must go right: exactly "not <=".
fn right_step(v: f64, t: f64) -> u32 {
    u32::from(!(v <= t))
}

/// The depth by which 90 % of the training cover has reached its leaf; `None` without covers.
fn lockstep_depth(leaves: &mut [(u32, f64)]) -> Option<u32> {
    let total: f64 = leaves.iter().map(|l| l.1).sum();
    if !(total > 0.0 && total.is_finite()) || leaves.iter().any(|l| l.1.is_nan() || l.1 < 0.0) {
        return None;
    }
    leaves.sort_by_key(|l| l.0);
    let mut seen = 0.0;
    for &(depth, cover) in leaves.iter() {
        seen += cover;
        if seen >= 0.9 * total {
            return Some(depth);
        }
    }
    leaves.last().map(|l| l.0)
}

/// The largest f64 `b` with `(b as f32) < t` for an f32 value `t` (held as f64): XGBoost's
/// "round to f32, then compare with `<`" becomes `v <= b`. `None` when `t` is not a finite f32.
fn f32_less_bound(t: f64) -> Option<f64> {
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

fn prev_f32(x: f32) -> f32 {
    if x == 0.0 {
        -f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(x.to_bits() - 1)
    } else {
        f32::from_bits(x.to_bits() + 1)
    }
}

fn next_up(x: f64) -> f64 {
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

fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

/// `exp` computed the way glibc computes it on x86-64 (Arm's table-driven algorithm, 128-entry
/// table, degree-5 polynomial, FMA variant), so that LightGBM's sigmoid, which calls `std::exp`,
/// is reproduced bit for bit (a generic `exp` differs in the last bit for a few percent of
/// inputs). The table holds 2^(k/128) as a double plus its relative rounding error, computed to
/// 60 digits. Outside |x| in [2^-54, 512) it defers to `libm::exp`: a probability then rounds
/// to 1.0 or lies below 1e-222 either way.
fn exp_like_glibc(x: f64) -> f64 {
    const N: u64 = 128;
    const INV_LN2_N: f64 = f64::from_bits(0x40671547652b82fe); // 0x1.71547652b82fep0 * 128
    const NEG_LN2_HI_N: f64 = f64::from_bits(0xbf762e42fefa0000); // -0x1.62e42fefa0000p-8
    const NEG_LN2_LO_N: f64 = f64::from_bits(0xbd0cf79abc9e3b3a); // -0x1.cf79abc9e3b3ap-47
    const SHIFT: f64 = f64::from_bits(0x4338000000000000); // 0x1.8p52
    const C2: f64 = f64::from_bits(0x3fdffffffffffdbd); // 0x1.ffffffffffdbdp-2
    const C3: f64 = f64::from_bits(0x3fc555555555543c); // 0x1.555555555543cp-3
    const C4: f64 = f64::from_bits(0x3fa55555cf172b91); // 0x1.55555cf172b91p-5
    const C5: f64 = f64::from_bits(0x3f81111167a4d017); // 0x1.1111167a4d017p-7
    let abstop = (x.to_bits() >> 52) & 0x7ff;
    if abstop.wrapping_sub(0x3c9) >= 0x408 - 0x3c9 {
        return if abstop < 0x3c9 { 1.0 + x } else { libm::exp(x) };
    }
    let fma = libm::fma;
    let z = INV_LN2_N * x;
    let shifted = z + SHIFT;
    let ki = shifted.to_bits();
    let kd = shifted - SHIFT;
    let r = fma(kd, NEG_LN2_LO_N, fma(kd, NEG_LN2_HI_N, x));
    let idx = 2 * (ki % N) as usize;
    let top = ki << (52 - 7);
    let tail = f64::from_bits(EXP_TABLE[idx]);
    let scale = f64::from_bits(EXP_TABLE[idx + 1].wrapping_add(top));
    let r2 = r * r;
    let tmp = fma(r2 * r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r));
    fma(scale, tmp, scale)
}

/// 2^(k/128) ~= H[k] * (1 + T[k]): `[bits(T[k]), bits(H[k]) - (k << 52) / 128]` for k in 0..128.
#[rustfmt::skip]
const EXP_TABLE: [u64; 256] = [
    0x0000000000000000, 0x3ff0000000000000, 0x3c9b3b4f1a88bf6e, 0x3feff63da9fb3335,
    0xbc7160139cd8dc5d, 0x3fefec9a3e778061, 0xbc905e7a108766d1, 0x3fefe315e86e7f85,
    0x3c8cd2523567f613, 0x3fefd9b0d3158574, 0xbc8bce8023f98efa, 0x3fefd06b29ddf6de,
    0x3c60f74e61e6c861, 0x3fefc74518759bc8, 0x3c90a3e45b33d399, 0x3fefbe3ecac6f383,
    0x3c979aa65d837b6d, 0x3fefb5586cf9890f, 0x3c8eb51a92fdeffc, 0x3fefac922b7247f7,
    0x3c3ebe3d702f9cd1, 0x3fefa3ec32d3d1a2, 0xbc6a033489906e0b, 0x3fef9b66affed31b,
    0xbc9556522a2fbd0e, 0x3fef9301d0125b51, 0xbc5080ef8c4eea55, 0x3fef8abdc06c31cc,
    0xbc91c923b9d5f416, 0x3fef829aaea92de0, 0x3c80d3e3e95c55af, 0x3fef7a98c8a58e51,
    0xbc801b15eaa59348, 0x3fef72b83c7d517b, 0xbc8f1ff055de323d, 0x3fef6af9388c8dea,
    0x3c8b898c3f1353bf, 0x3fef635beb6fcb75, 0xbc96d99c7611eb26, 0x3fef5be084045cd4,
    0x3c9aecf73e3a2f60, 0x3fef54873168b9aa, 0xbc8fe782cb86389d, 0x3fef4d5022fcd91d,
    0x3c8a6f4144a6c38d, 0x3fef463b88628cd6, 0x3c807a05b0e4047d, 0x3fef3f49917ddc96,
    0x3c968efde3a8a894, 0x3fef387a6e756238, 0x3c875e18f274487d, 0x3fef31ce4fb2a63f,
    0x3c80472b981fe7f2, 0x3fef2b4565e27cdd, 0xbc96b87b3f71085e, 0x3fef24dfe1f56381,
    0x3c82f7e16d09ab31, 0x3fef1e9df51fdee1, 0xbc3d219b1a6fbffa, 0x3fef187fd0dad990,
    0x3c8b3782720c0ab4, 0x3fef1285a6e4030b, 0x3c6e149289cecb8f, 0x3fef0cafa93e2f56,
    0x3c834d754db0abb6, 0x3fef06fe0a31b715, 0x3c864201e2ac744c, 0x3fef0170fc4cd831,
    0x3c8fdd395dd3f84a, 0x3feefc08b26416ff, 0xbc86a3803b8e5b04, 0x3feef6c55f929ff1,
    0xbc924aedcc4b5068, 0x3feef1a7373aa9cb, 0xbc9907f81b512d8e, 0x3feeecae6d05d866,
    0xbc71d1e83e9436d2, 0x3feee7db34e59ff7, 0xbc991919b3ce1b15, 0x3feee32dc313a8e5,
    0x3c859f48a72a4c6d, 0x3feedea64c123422, 0xbc9312607a28698a, 0x3feeda4504ac801c,
    0xbc58a78f4817895b, 0x3feed60a21f72e2a, 0xbc7c2c9b67499a1b, 0x3feed1f5d950a897,
    0x3c4363ed60c2ac11, 0x3feece086061892d, 0x3c9666093b0664ef, 0x3feeca41ed1d0057,
    0x3c6ecce1daa10379, 0x3feec6a2b5c13cd0, 0x3c93ff8e3f0f1230, 0x3feec32af0d7d3de,
    0x3c7690cebb7aafb0, 0x3feebfdad5362a27, 0x3c931dbdeb54e077, 0x3feebcb299fddd0d,
    0xbc8f94340071a38e, 0x3feeb9b2769d2ca7, 0xbc87deccdc93a349, 0x3feeb6daa2cf6642,
    0xbc78dec6bd0f385f, 0x3feeb42b569d4f82, 0xbc861246ec7b5cf6, 0x3feeb1a4ca5d920f,
    0x3c93350518fdd78e, 0x3feeaf4736b527da, 0x3c7b98b72f8a9b05, 0x3feead12d497c7fd,
    0x3c9063e1e21c5409, 0x3feeab07dd485429, 0x3c34c7855019c6ea, 0x3feea9268a5946b7,
    0x3c9432e62b64c035, 0x3feea76f15ad2148, 0xbc8ce44a6199769f, 0x3feea5e1b976dc09,
    0xbc8c33c53bef4da8, 0x3feea47eb03a5585, 0xbc845378892be9ae, 0x3feea34634ccc320,
    0xbc93cedd78565858, 0x3feea23882552225, 0x3c5710aa807e1964, 0x3feea155d44ca973,
    0xbc93b3efbf5e2228, 0x3feea09e667f3bcd, 0xbc6a12ad8734b982, 0x3feea012750bdabf,
    0xbc6367efb86da9ee, 0x3fee9fb23c651a2f, 0xbc80dc3d54e08851, 0x3fee9f7df9519484,
    0xbc781f647e5a3ecf, 0x3fee9f75e8ec5f74, 0xbc86ee4ac08b7db0, 0x3fee9f9a48a58174,
    0xbc8619321e55e68a, 0x3fee9feb564267c9, 0x3c909ccb5e09d4d3, 0x3feea0694fde5d3f,
    0xbc7b32dcb94da51d, 0x3feea11473eb0187, 0x3c94ecfd5467c06b, 0x3feea1ed0130c132,
    0x3c65ebe1abd66c55, 0x3feea2f336cf4e62, 0xbc88a1c52fb3cf42, 0x3feea427543e1a12,
    0xbc9369b6f13b3734, 0x3feea589994cce13, 0xbc805e843a19ff1e, 0x3feea71a4623c7ad,
    0xbc94d450d872576e, 0x3feea8d99b4492ed, 0x3c90ad675b0e8a00, 0x3feeaac7d98a6699,
    0x3c8db72fc1f0eab4, 0x3feeace5422aa0db, 0xbc65b6609cc5e7ff, 0x3feeaf3216b5448c,
    0x3c7bf68359f35f44, 0x3feeb1ae99157736, 0xbc93091fa71e3d83, 0x3feeb45b0b91ffc6,
    0xbc5da9b88b6c1e29, 0x3feeb737b0cdc5e5, 0xbc6c23f97c90b959, 0x3feeba44cbc8520f,
    0xbc92434322f4f9aa, 0x3feebd829fde4e50, 0xbc85ca6cd7668e4b, 0x3feec0f170ca07ba,
    0x3c71affc2b91ce27, 0x3feec49182a3f090, 0x3c6dd235e10a73bb, 0x3feec86319e32323,
    0xbc87c50422622263, 0x3feecc667b5de565, 0x3c8b1c86e3e231d5, 0x3feed09bec4a2d33,
    0xbc91bbd1d3bcbb15, 0x3feed503b23e255d, 0x3c90cc319cee31d2, 0x3feed99e1330b358,
    0x3c8469846e735ab3, 0x3feede6b5579fdbf, 0xbc82dfcd978e9db4, 0x3feee36bbfd3f37a,
    0x3c8c1a7792cb3387, 0x3feee89f995ad3ad, 0xbc907b8f4ad1d9fa, 0x3feeee07298db666,
    0xbc55c3d956dcaeba, 0x3feef3a2b84f15fb, 0xbc90a40e3da6f640, 0x3feef9728de5593a,
    0xbc68d6f438ad9334, 0x3feeff76f2fb5e47, 0xbc91eee26b588a35, 0x3fef05b030a1064a,
    0x3c74ffd70a5fddcd, 0x3fef0c1e904bc1d2, 0xbc91bdfbfa9298ac, 0x3fef12c25bd71e09,
    0x3c736eae30af0cb3, 0x3fef199bdd85529c, 0x3c8ee3325c9ffd94, 0x3fef20ab5fffd07a,
    0x3c84e08fd10959ac, 0x3fef27f12e57d14b, 0x3c63cdaf384e1a67, 0x3fef2f6d9406e7b5,
    0x3c676b2c6c921968, 0x3fef3720dcef9069, 0xbc808a1883ccb5d2, 0x3fef3f0b555dc3fa,
    0xbc8fad5d3ffffa6f, 0x3fef472d4a07897c, 0xbc900dae3875a949, 0x3fef4f87080d89f2,
    0x3c74a385a63d07a7, 0x3fef5818dcfba487, 0xbc82919e2040220f, 0x3fef60e316c98398,
    0x3c8e5a50d5c192ac, 0x3fef69e603db3285, 0x3c843a59ac016b4b, 0x3fef7321f301b460,
    0xbc82d52107b43e1f, 0x3fef7c97337b9b5f, 0xbc892ab93b470dc9, 0x3fef864614f5a129,
    0x3c74b604603a88d3, 0x3fef902ee78b3ff6, 0x3c83c5ec519d7271, 0x3fef9a51fbc74c83,
    0xbc8ff7128fd391f0, 0x3fefa4afa2a490da, 0xbc8dae98e223747d, 0x3fefaf482d8e67f1,
    0x3c8ec3bc41aa2008, 0x3fefba1bee615a27, 0x3c842b94c3a9eb32, 0x3fefc52b376bba97,
    0x3c8a64a931d185ee, 0x3fefd0765b6e4540, 0xbc8e37bae43be3ed, 0x3fefdbfdad9cbe14,
    0x3c77893b4d91cd9d, 0x3fefe7c1819e90d8, 0x3c5305c14160cc89, 0x3feff3c22b8f71f1,
];

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
                forced.trees.iter_mut().for_each(|t| t.categorical = true);
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
