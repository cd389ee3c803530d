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

    /// The batch path over the original node layout (small batches).
    fn raw_scores_walk(&self, rows: &[f64], out: &mut Vec<f64>) {
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

/// Rows scored per batch call before compiling the ensemble into a [`FlatForest`] pays off
/// (compiling costs about one pass over the nodes).
pub const FLAT_MIN_ROWS: usize = 32;

// Flags kept in the high bits of `FlatNode::feature`.
const FLAT_LEAF: u32 = 1 << 31;
const FLAT_NAN_LEFT: u32 = 1 << 30;
const FLAT_GENERAL: u32 = 1 << 29;
const FLAT_FEATURE: u32 = FLAT_GENERAL - 1;

/// One node of a [`FlatForest`]: 16 bytes, both children side by side.
#[derive(Clone, Copy, Debug, PartialEq)]
struct FlatNode {
    /// Numeric node: `v <= value` goes left. Leaf: the leaf value. General node: index into
    /// `FlatForest::general` (as bits).
    value: f64,
    /// Feature index plus the flags above.
    feature: u32,
    /// Left child; the right child is `next + 1`. A leaf points to itself.
    next: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct FlatTree {
    root: u32,
    /// Longest root-to-leaf path (steps).
    depth: u32,
    /// Whether any node needs the general rule (categorical, some zero-as-missing splits).
    general: bool,
}

/// The ensemble compiled for batch scoring: every tree's nodes in breadth-first order in one
/// array of 16-byte nodes, siblings adjacent, leaves inline. Numeric rules of every library are
/// rewritten as `v <= t` plus a fixed side for NaN, so several rows can walk a tree in lockstep
/// without data-dependent branches. Gives exactly the leaves (hence bits) of [`Ensemble`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlatForest {
    nodes: Vec<FlatNode>,
    trees: Vec<FlatTree>,
    /// Splits evaluated by their original rule (bitsets rebased into `words`).
    general: Vec<Split>,
    words: Vec<u32>,
    num_features: usize,
    base_score: f64,
    arithmetic: Arithmetic,
    zero_small_inputs: bool,
}

impl FlatForest {
    /// Compiles a validated ensemble. `None` when it cannot be flattened (no features, too many
    /// features or nodes for the compact encoding): use [`Ensemble::raw_scores`] then.
    pub fn new(e: &Ensemble) -> Option<FlatForest> {
        if e.num_features == 0 || e.num_features > FLAT_FEATURE as usize {
            return None;
        }
        let total: usize = e.trees.iter().map(|t| 2 * t.nodes.len() + 1).sum();
        if total >= u32::MAX as usize {
            return None;
        }
        let mut f = FlatForest {
            nodes: Vec::with_capacity(total),
            trees: Vec::with_capacity(e.trees.len()),
            general: Vec::new(),
            words: Vec::new(),
            num_features: e.num_features,
            base_score: e.base_score,
            arithmetic: e.arithmetic,
            zero_small_inputs: e.zero_small_inputs,
        };
        // Per slot: the original reference (internal node >= 0, leaf < 0) and its depth.
        let mut refs: Vec<(i32, u32)> = Vec::new();
        for tree in &e.trees {
            let root = f.nodes.len();
            let word_base = f.words.len() as u32;
            f.words.extend_from_slice(&tree.cat_words);
            refs.clear();
            refs.push((if tree.nodes.is_empty() { -1 } else { 0 }, 0));
            let placeholder = FlatNode { value: 0.0, feature: 0, next: 0 };
            f.nodes.push(placeholder);
            let (mut depth, mut general) = (0u32, false);
            let mut k = 0;
            while k < refs.len() {
                let (reference, d) = refs[k];
                let slot = root + k;
                if reference < 0 {
                    let value = *tree.leaf_values.get((!reference) as usize)?;
                    f.nodes[slot] = FlatNode { value, feature: FLAT_LEAF, next: slot as u32 };
                    depth = depth.max(d);
                } else {
                    let node = tree.nodes.get(reference as usize)?;
                    let next = f.nodes.len() as u32;
                    f.nodes.push(placeholder);
                    f.nodes.push(placeholder);
                    refs.push((node.left, d + 1));
                    refs.push((node.right, d + 1));
                    let flat = f.encode(node, word_base, next);
                    general |= flat.feature & FLAT_GENERAL != 0;
                    f.nodes[slot] = flat;
                }
                k += 1;
            }
            f.trees.push(FlatTree { root: root as u32, depth, general });
        }
        Some(f)
    }

    fn encode(&mut self, node: &Node, word_base: u32, next: u32) -> FlatNode {
        let fast = |threshold: f64, nan_left: bool| FlatNode {
            value: threshold,
            feature: node.feature | if nan_left { FLAT_NAN_LEFT } else { 0 },
            next,
        };
        const Z: f64 = LIGHTGBM_ZERO_THRESHOLD;
        let rule = match node.split {
            // NaN is compared as 0.0.
            Split::LessOrEqual { threshold, missing: MissingType::None, .. } => {
                Some((threshold, 0.0 <= threshold))
            }
            Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left } => {
                Some((threshold, default_left))
            }
            // NaN becomes 0.0 and |v| <= Z takes the default side: one interval in most cases.
            Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left: true } => {
                if t >= Z {
                    Some((t, true))
                } else if t >= -Z {
                    Some((Z, true))
                } else {
                    None
                }
            }
            Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left: false } => {
                if t < -Z {
                    Some((t, false))
                } else if (-Z..Z).contains(&t) {
                    Some((next_down(-Z), false))
                } else {
                    None
                }
            }
            Split::LessThanF32 { threshold, default_left } => {
                f32_less_bound(threshold).map(|b| (b, default_left))
            }
            Split::Categorical { .. } => None,
        };
        if let Some((threshold, nan_left)) = rule {
            return fast(threshold, nan_left);
        }
        let mut split = node.split;
        if let Split::Categorical { bitset_start, .. } = &mut split {
            *bitset_start += word_base;
        }
        self.general.push(split);
        FlatNode {
            value: f64::from_bits((self.general.len() - 1) as u64),
            feature: node.feature | FLAT_GENERAL,
            next,
        }
    }

    /// Raw scores of row-major rows; the same bits as [`Ensemble::raw_score`] row by row.
    pub fn raw_scores(&self, rows: &[f64], out: &mut Vec<f64>) {
        const GROUP: usize = 8;
        let nf = self.num_features;
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
        // Rows per block: the block's features stay in L1 while every tree walks over them.
        let block_rows = ((4096 / nf) / GROUP * GROUP).clamp(GROUP, 256);
        let mut leaves = alloc::vec![0.0f64; block_rows];
        let mut acc64 = alloc::vec![0.0f64; block_rows];
        let mut acc32 = alloc::vec![0.0f32; block_rows];
        let mut start = 0;
        while start < n {
            let len = block_rows.min(n - start);
            let block = &rows[start * nf..(start + len) * nf];
            acc64[..len].fill(self.base_score);
            acc32[..len].fill(self.base_score as f32);
            for tree in &self.trees {
                let groups = len / GROUP * GROUP;
                for (g, chunk) in leaves[..groups].chunks_exact_mut(GROUP).enumerate() {
                    let rows = &block[g * GROUP * nf..(g + 1) * GROUP * nf];
                    if tree.general {
                        self.walk_group::<GROUP, true>(tree, rows, chunk);
                    } else {
                        self.walk_group::<GROUP, false>(tree, rows, chunk);
                    }
                }
                for r in groups..len {
                    leaves[r] = self.walk_one(tree, &block[r * nf..(r + 1) * nf]);
                }
                match self.arithmetic {
                    Arithmetic::F64 => {
                        for (acc, leaf) in acc64[..len].iter_mut().zip(&leaves[..len]) {
                            *acc += *leaf;
                        }
                    }
                    Arithmetic::F32 => {
                        for (acc, leaf) in acc32[..len].iter_mut().zip(&leaves[..len]) {
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

    /// One step from node `at` for `row`: numeric rule, or the general one when allowed.
    #[inline(always)]
    fn step<const GENERAL: bool>(&self, at: u32, row: &[f64]) -> (u32, bool) {
        let node = self.nodes[at as usize];
        let v = row[(node.feature & FLAT_FEATURE) as usize];
        let is_leaf = node.feature & FLAT_LEAF != 0;
        if GENERAL && node.feature & FLAT_GENERAL != 0 {
            let left = match self.general.get(node.value.to_bits() as usize) {
                Some(split) => split.goes_left(v, &self.words),
                None => true,
            };
            return (node.next + u32::from(!left), false);
        }
        let left = (v <= node.value) | (v.is_nan() & (node.feature & FLAT_NAN_LEFT != 0)) | is_leaf;
        (node.next + u32::from(!left), is_leaf)
    }

    /// Walks `GROUP` rows through one tree in lockstep; writes each row's leaf value.
    #[inline(always)]
    fn walk_group<const GROUP: usize, const GENERAL: bool>(
        &self,
        tree: &FlatTree,
        rows: &[f64],
        out: &mut [f64],
    ) {
        let nf = self.num_features;
        let mut at = [tree.root; GROUP];
        for _ in 0..tree.depth {
            let mut done = true;
            for (g, node) in at.iter_mut().enumerate() {
                let (next, was_leaf) = self.step::<GENERAL>(*node, &rows[g * nf..(g + 1) * nf]);
                *node = next;
                done &= was_leaf;
            }
            if done {
                break;
            }
        }
        for (value, node) in out.iter_mut().zip(at) {
            *value = self.nodes[node as usize].value;
        }
    }

    fn walk_one(&self, tree: &FlatTree, row: &[f64]) -> f64 {
        let mut at = tree.root;
        for _ in 0..tree.depth {
            at = self.step::<true>(at, row).0;
        }
        self.nodes[at as usize].value
    }
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
        ];
        v.extend((0..8).map(|i| i as f64 * 0.37 - 1.0));
        v
    }

    /// A random tree (children forward) mixing every split kind.
    fn random_tree(rng: &mut Rng, internal: usize, num_features: u32) -> Tree {
        let specials = special_values();
        let thresholds: Vec<f64> = specials.iter().copied().filter(|v| !v.is_nan()).collect();
        let mut nodes: Vec<Node> = Vec::new();
        let mut open: Vec<(usize, bool)> = Vec::new();
        let mut leaves = 0i32;
        for i in 0..internal {
            let t = rng.pick(&thresholds);
            let default_left = rng.below(2) == 0;
            let split = match rng.below(6) {
                0 => Split::LessOrEqual { threshold: t, missing: MissingType::None, default_left },
                1 => Split::LessOrEqual { threshold: t, missing: MissingType::NaN, default_left },
                2 => Split::LessOrEqual { threshold: t, missing: MissingType::Zero, default_left },
                3 | 4 => Split::LessThanF32 { threshold: t as f32 as f64, default_left },
                _ => Split::Categorical {
                    bitset_start: 0,
                    bitset_len: 2,
                    in_set_left: rng.below(2) == 0,
                    default_left,
                },
            };
            nodes.push(Node {
                feature: rng.below(num_features as u64) as u32,
                split,
                left: 0,
                right: 0,
                cover: 1.0,
            });
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
            cat_words: vec![rng.next() as u32, rng.next() as u32],
            nodes,
        }
    }

    #[test]
    fn flat_forest_matches_the_node_walk_bit_for_bit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let specials = special_values();
        for (arithmetic, zero_small_inputs) in
            [(Arithmetic::F64, true), (Arithmetic::F64, false), (Arithmetic::F32, false)]
        {
            let nf = 5;
            let trees = (0..40).map(|k| random_tree(&mut rng, k % 13, nf)).collect();
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
            let mut out = Vec::new();
            flat.raw_scores(&rows, &mut out);
            let mut via_api = Vec::new();
            e.raw_scores(&rows, &mut via_api);
            for (i, row) in rows.chunks(nf as usize).enumerate() {
                let single = e.raw_score(row);
                assert_eq!(out[i].to_bits(), single.to_bits(), "row {i} {row:?}");
                assert_eq!(via_api[i].to_bits(), single.to_bits());
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

    #[test]
    fn expected_value_weights_leaves_by_cover() {
        let e = small();
        assert!((e.expected_value() - (0.2 * 1.0 + 0.4 * 2.0 + 0.4 * 3.0)).abs() < 1e-15);
    }
}
