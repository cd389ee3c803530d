//! The ensemble compiled for batch scoring ([`FlatForest`]): flat 16-byte nodes, rows walked in
//! lockstep groups, the same leaves (hence the same bits) as [`Ensemble::raw_score`].

use alloc::vec::Vec;

use super::float_bits::{InputConversion, f32_less_bound, next_down};
use super::{Arithmetic, Ensemble, LIGHTGBM_ZERO_THRESHOLD, MissingType, Node, Split};

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

/// Rows walked through a tree together (independent walks overlap in the pipeline). Sixteen (two
/// groups per chain walk) was measured 1.5x slower on x86-64 (2026-11-30, AMD EPYC Zen 3, thread
/// CPU time), most likely as the states and sums no longer fit the registers; chains of 8 to 32
/// trees and row blocks of 8 to 200 KB measured the same within noise on the 300 x 31 model. The scalar step is about
/// 4 cycles per row and node visited (300 x 31 `make bench` model: about 1,300 nodes per row,
/// 2.0 µs of CPU), so going faster needs SIMD gathers, which `std::arch` offers only as `unsafe`
/// (forbidden in this workspace).
pub(super) const FLAT_GROUP: usize = 8;

/// Whether trees without categorical nodes get their own, shorter step. The categorical step
/// handles them too; wasm leaves the specialisation out (the npm package is downloaded by every
/// page view, and the copy costs about 1 KB).
const SPECIALIZE_NUMERIC: bool = !cfg!(target_arch = "wasm32");

/// Most trees in one chain of the batch walk (see [`Segment::Chain`]): more trees per chain waste
/// fewer steps waiting for a group's slowest row at the chain's end; fewer keep its nodes in cache.
const CHAIN_TREES: usize = 32;
/// Most nodes in one chain (16 bytes each: 256 KB, in L2 with the rows of a block).
const CHAIN_NODES: usize = 16 * 1024;
/// A chain walk's state per row: the node index in the low bits, the trees finished above.
const CHAIN_TREE_SHIFT: u32 = 24;
const CHAIN_INDEX: u32 = (1 << CHAIN_TREE_SHIFT) - 1;

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
pub(super) struct FlatTree {
    root: u32,
    /// Longest root-to-leaf path (steps).
    depth: u32,
    /// Steps taken by all rows of a group together: enough for most training rows to reach their
    /// leaf (leaf-wise trees are deep on few rows); the rest continue one by one.
    lockstep: u32,
    /// Whether any node needs the general rule (some zero-as-missing splits, NaN thresholds).
    pub(super) general: bool,
    /// Whether any node is categorical (the step then also reads a bit table).
    pub(super) categorical: bool,
    /// Whether the tree fits a [`FLAT_WINDOW`].
    pub(super) small: bool,
    /// Flat nodes of the tree (from `root`).
    len: u32,
    /// Shortest root-to-leaf path (steps).
    min_depth: u32,
}

/// A node of a chain (see [`Segment::Chain`]): `next` is the step added to the walk's state (node
/// index plus trees done, see [`CHAIN_TREE_SHIFT`]): to the left child for an internal node, to
/// the next tree's root plus one tree done for a leaf, which reads the -inf slot. `add` is stored
/// rather than derived from `next` (a leaf's step counts a tree done): the derived 16-byte node was
/// measured about 3x slower (2026-11-30, same machine; probably the select compiled to a branch).
#[derive(Clone, Copy, Debug, PartialEq)]
struct ChainNode {
    node: FlatNode,
    /// What a step through the node adds to the row's sum: the leaf value at a leaf, else -0.0.
    add: f64,
}

/// The batch walk's order of work over the trees (in tree order, which fixes the sums' bits).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Segment {
    /// One tree walked on its own (a tree that needs the general rule).
    Tree(u32),
    /// `trees` consecutive trees (no general rule), linked in `FlatForest::chain` from index
    /// `start`: each leaf leads to the next tree's root (the last one's to a node that leads to
    /// itself), so each row of a group walks the whole chain on its own path, one step per node
    /// it visits, the rows in lockstep only for the chain as a whole (see `Chain::walk`).
    Chain {
        start: u32,
        trees: u32,
        /// Steps every row takes at least (sum of the trees' shortest paths, leaves included).
        min_steps: u32,
        categorical: bool,
    },
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
/// nodes computes both steps and keeps the node's. For a batch, runs of up to `CHAIN_TREES`
/// such trees are linked into chains (each leaf leads to the next tree's root): eight rows, their
/// slots interleaved, each walk the whole chain on their own path without branches, one step per
/// node visited, adding each leaf value on the way (leaf-wise trees are deep only for few rows, so
/// walking a tree in lockstep to its deepest leaf would waste most steps). One row alone walks
/// eight trees together, in lockstep for as many steps as 90 % of the training rows need, then
/// tree by tree. The few trees whose splits have no such form use the
/// original rules on the original row. The leaves reached, hence the bits of the sums, are exactly
/// those of [`Ensemble::raw_score`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlatForest {
    nodes: Vec<FlatNode>,
    pub(super) trees: Vec<FlatTree>,
    /// The trees without general nodes again, linked in chains (see [`Segment::Chain`]).
    chain: Vec<ChainNode>,
    segments: Vec<Segment>,
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
            chain: Vec::new(),
            segments: Vec::new(),
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
            let min_depth = leaf_depths.iter().map(|l| l.0).min().unwrap_or(0);
            let lockstep = lockstep_depth(&leaf_depths).unwrap_or(depth);
            let small = refs.len() <= FLAT_WINDOW && f.stride <= FLAT_WINDOW;
            let len = refs.len() as u32;
            f.trees.push(FlatTree {
                root: root as u32,
                depth,
                lockstep,
                general,
                categorical,
                small,
                len,
                min_depth,
            });
        }
        f.link_chains();
        // Every small tree's window lies inside the array.
        f.nodes.resize(f.nodes.len() + FLAT_WINDOW - 1, FlatNode { value: 0.0, feature: 0, next: 0 });
        Some(f)
    }

    /// Every tree through the categorical step (which serves numeric trees too, as on wasm).
    #[cfg(test)]
    pub(super) fn force_categorical(&mut self) {
        self.trees.iter_mut().for_each(|t| t.categorical = true);
        for segment in &mut self.segments {
            if let Segment::Chain { categorical, .. } = segment {
                *categorical = true;
            }
        }
    }

    /// Builds `segments` and `chain` from `trees` and `nodes`.
    fn link_chains(&mut self) {
        let minus_inf = 2 * self.num_features as u32;
        let mut t = 0;
        while t < self.trees.len() {
            let start = self.chain.len();
            // Every node of the chain, its end node included, has an index the state can hold.
            let fits =
                |count: usize, tree: &FlatTree| start + count + (tree.len as usize) < CHAIN_INDEX as usize;
            if self.trees[t].general || !fits(0, &self.trees[t]) {
                self.segments.push(Segment::Tree(t as u32));
                t += 1;
                continue;
            }
            // Consecutive trees without general nodes, within the chain's limits.
            let first = t;
            let mut count = 0;
            while t < self.trees.len()
                && !self.trees[t].general
                && (count == 0
                    || (t - first < CHAIN_TREES && count + self.trees[t].len as usize <= CHAIN_NODES))
                && fits(count, &self.trees[t])
            {
                count += self.trees[t].len as usize;
                t += 1;
            }
            let mut base = start as u32;
            let mut min_steps = 0;
            for tree in &self.trees[first..t] {
                let next_root = base + tree.len;
                for k in 0..tree.len {
                    let node = self.nodes[(tree.root + k) as usize];
                    let at = base + k;
                    self.chain.push(if node.next == k {
                        // A leaf: on to the next tree's root (or the end node), one tree done.
                        let next = (next_root - at) | 1 << CHAIN_TREE_SHIFT;
                        ChainNode {
                            node: FlatNode { value: node.value, feature: minus_inf, next },
                            add: node.value,
                        }
                    } else {
                        ChainNode { node: FlatNode { next: base + node.next - at, ..node }, add: -0.0 }
                    });
                }
                min_steps += tree.min_depth + 1;
                base = next_root;
            }
            // The end node: reads the -inf slot, so it goes "left" to itself.
            self.chain
                .push(ChainNode { node: FlatNode { value: 0.0, feature: minus_inf, next: 0 }, add: -0.0 });
            let categorical = self.trees[first..t].iter().any(|tree| tree.categorical) || !SPECIALIZE_NUMERIC;
            self.segments.push(Segment::Chain {
                start: start as u32,
                trees: (t - first) as u32,
                min_steps,
                categorical,
            });
        }
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
        // larger one streams from L3 or memory once per block, so its blocks are as large as 1 MB
        // of extended rows (each group's 8 rows stay in L1 while it walks a chain). On the
        // 1000 x 255 `make bench` model (20 MB of nodes) 96 KB blocks took 55-63 µs per row,
        // 0.7-1.3 MB blocks 18-28 µs (2026-11-30, thread CPU time, shared machine). wasm keeps
        // 96 KB: its linear memory keeps what it once held, and a group takes a whole window there.
        let large = if cfg!(target_arch = "wasm32") { 96 * 1024 } else { 1024 * 1024 };
        let row_budget = if self.nodes.len() * 16 <= 512 * 1024 { 24 * 1024 } else { large };
        let block_rows = ((row_budget / (8 * stride)) / FLAT_GROUP * FLAT_GROUP).clamp(FLAT_GROUP, 4096);
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
            for segment in &self.segments {
                let (start, trees, min_steps, categorical) = match *segment {
                    Segment::Chain { start, trees, min_steps, categorical } => {
                        (start, trees, min_steps, categorical)
                    }
                    Segment::Tree(t) => {
                        let tree = &self.trees[t as usize];
                        self.tree_leaves(tree, &extended, group_slots, &original, &mut leaves[..padded]);
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
                        continue;
                    }
                };
                let walk = Chain { nodes: &self.chain, start, trees, min_steps };
                for g in 0..padded / FLAT_GROUP {
                    let group = &extended[g * group_slots..(g + 1) * group_slots];
                    let first = g * FLAT_GROUP;
                    match self.arithmetic {
                        Arithmetic::F64 => {
                            if let Ok(sums) =
                                <&mut [f64; FLAT_GROUP]>::try_from(&mut acc64[first..first + FLAT_GROUP])
                            {
                                walk.group(group, categorical, sums);
                            }
                        }
                        Arithmetic::F32 => {
                            if let Ok(sums) =
                                <&mut [f32; FLAT_GROUP]>::try_from(&mut acc32[first..first + FLAT_GROUP])
                            {
                                walk.group(group, categorical, sums);
                            }
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

    /// Raw score of one row; the same bits as [`Ensemble::raw_score`]. No heap allocation for a
    /// model whose extended row fits a `FLAT_WINDOW` (see `chains_leaves`).
    pub fn raw_score(&self, row: &[f64]) -> f64 {
        let nf = self.num_features;
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
        let mut window = [0.0f64; FLAT_WINDOW];
        let mut wide = Vec::new();
        let (mut acc64, mut acc32) = (self.base_score, self.base_score as f32);
        let mut add = |value: f64| {
            acc64 += value;
            acc32 += value as f32;
        };
        if self.stride <= FLAT_WINDOW {
            self.extend_row_with(row, |slot, v| window[slot % FLAT_WINDOW] = v);
            self.chains_leaves(&RowWindow(&window), row, &mut add);
        } else {
            wide.resize(self.stride, 0.0);
            self.extend_row_with(row, |slot, v| wide[slot] = v);
            self.chains_leaves(&RowSlots(&wide), row, &mut add);
        }
        match self.arithmetic {
            Arithmetic::F64 => acc64,
            Arithmetic::F32 => acc32 as f64,
        }
    }

    /// Passes each tree's leaf value for one row (`slots` its extended slots, `row` the values),
    /// in tree order, to `add`. Up to eight chains of the batch layout (see [`Segment::Chain`])
    /// are walked at once, one row through each: independent walks fill the pipeline, each
    /// without branches on the split directions. Each step writes the node's leaf value (-0.0
    /// above a leaf) at the slot of the tree it is in, so the last write per tree is its leaf;
    /// the sums are then made in tree order.
    #[inline(always)]
    fn chains_leaves(&self, slots: &impl GroupSlots, row: &[f64], add: &mut impl FnMut(f64)) {
        let mut leaf = [0.0f64];
        let mut segments = &self.segments[..];
        while let Some((first, rest)) = segments.split_first() {
            let Segment::Chain { .. } = first else {
                if let Segment::Tree(t) = *first {
                    self.walk_general(&self.trees[t as usize], row, &mut leaf);
                    add(leaf[0]);
                }
                segments = rest;
                continue;
            };
            // The run of chains that starts here, up to one per lane.
            let run =
                segments.iter().take(FLAT_GROUP).take_while(|s| matches!(s, Segment::Chain { .. })).count();
            let (chains, rest) = segments.split_at(run);
            segments = rest;
            let mut state = [0u32; FLAT_GROUP];
            let mut ends = [0u32; FLAT_GROUP];
            let mut min_steps = u32::MAX;
            let mut categorical = false;
            for (lane, chain) in chains.iter().enumerate() {
                if let Segment::Chain { start, trees, min_steps: m, categorical: c } = *chain {
                    state[lane] = start;
                    ends[lane] = trees;
                    min_steps = min_steps.min(m);
                    categorical |= c;
                }
            }
            // Idle lanes walk the first chain again (no more time: the lanes run side by side)
            // and are not waited for nor read.
            for lane in run..FLAT_GROUP {
                state[lane] = state[0];
            }
            let mut leaves = [[0.0f64; CHAIN_TREES + 1]; FLAT_GROUP];
            let walk = ChainLanes { nodes: &self.chain, ends, min_steps };
            match categorical || !SPECIALIZE_NUMERIC {
                true => walk.walk::<true>(slots, state, &mut leaves),
                false => walk.walk::<false>(slots, state, &mut leaves),
            }
            for (lane, chain) in chains.iter().enumerate() {
                if let Segment::Chain { trees, .. } = *chain {
                    leaves[lane][..trees as usize].iter().for_each(|&v| add(v));
                }
            }
        }
    }

    /// Writes `row` (prepared, `num_features` values) as lane `lane` of a group's extended slots.
    #[inline(always)]
    fn extend_row(&self, row: &[f64], group: &mut [[f64; FLAT_GROUP]], lane: usize) {
        let lane = lane % FLAT_GROUP;
        self.extend_row_with(row, |slot, v| group[slot][lane] = v);
    }

    /// Passes each extended slot of `row` (prepared, `num_features` values) to `set` as
    /// (slot, value) (see [`FlatForest`]).
    #[inline(always)]
    fn extend_row_with(&self, row: &[f64], mut set: impl FnMut(usize, f64)) {
        let nf = self.num_features;
        for (j, &v) in row.iter().enumerate().take(nf) {
            set(j, if v.is_nan() { f64::NEG_INFINITY } else { v });
            set(nf + j, v);
        }
        set(2 * nf, f64::NEG_INFINITY);
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
            set(slot as usize, f64::from_bits(k.into()));
        }
    }

    /// The leaf values one tree gives each group of rows of a block (`leaves.len()` rows, whole
    /// groups).
    fn tree_leaves(
        &self,
        tree: &FlatTree,
        extended: &[[f64; FLAT_GROUP]],
        group_slots: usize,
        original: &[f64],
        leaves: &mut [f64],
    ) {
        let nf = self.num_features;
        let window = self.window(tree);
        for (g, chunk) in leaves.chunks_exact_mut(FLAT_GROUP).enumerate() {
            let Ok(out) = <&mut [f64; FLAT_GROUP]>::try_from(chunk) else { continue };
            let group = &extended[g * group_slots..(g + 1) * group_slots];
            let first = g * FLAT_GROUP;
            let rows = &original[first * nf..(first + FLAT_GROUP) * nf];
            self.leaves(tree, window, group, rows, out);
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
        let (lockstep, depth) = (tree.lockstep, tree.depth);
        let categorical = tree.categorical || !SPECIALIZE_NUMERIC;
        if tree.general {
            self.walk_general(tree, rows, out);
        } else if let (Some(nodes), Ok(group)) =
            (window, <&[[f64; FLAT_GROUP]; FLAT_WINDOW]>::try_from(group))
        {
            let (nodes, group) = (&WindowNodes(nodes), &WindowSlots(group));
            match categorical {
                false => walk::<false>(nodes, group, lockstep, depth, out),
                true => walk::<true>(nodes, group, lockstep, depth, out),
            }
        } else {
            let nodes = &&self.nodes[tree.root as usize..];
            match categorical {
                false => walk::<false>(nodes, &group, lockstep, depth, out),
                true => walk::<true>(nodes, &group, lockstep, depth, out),
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

/// Walks a group of rows through a tree without general nodes (in lockstep, for `lockstep` steps
/// then until no row moves) and writes each row's leaf value (trees outside the chains). `CATEGORICAL`: the tree has categorical nodes.
#[inline(always)]
fn walk<const CATEGORICAL: bool>(
    nodes: &impl TreeNodes,
    group: &impl GroupSlots,
    lockstep: u32,
    depth: u32,
    out: &mut [f64; FLAT_GROUP],
) {
    let mut at = [0u32; FLAT_GROUP];
    for _ in 0..lockstep {
        for (lane, node_at) in at.iter_mut().enumerate() {
            *node_at = step::<CATEGORICAL>(nodes.node(*node_at), group, lane);
        }
    }
    // The rows still short of their leaf: the whole group steps on until none moves (a leaf
    // points to itself). One predictable branch per step rather than one loop per row, whose
    // exits the branch predictor cannot guess.
    for _ in lockstep..depth {
        let mut moved = 0;
        for (lane, node_at) in at.iter_mut().enumerate() {
            let next = step::<CATEGORICAL>(nodes.node(*node_at), group, lane);
            moved |= next ^ *node_at;
            *node_at = next;
        }
        if moved == 0 {
            break;
        }
    }
    for (value, node_at) in out.iter_mut().zip(at) {
        *value = nodes.node(node_at).value;
    }
}

/// One row's extended slots, a whole window: byte indices, so no bounds check.
struct RowWindow<'a>(&'a [f64; FLAT_WINDOW]);
/// One row's extended slots (more than a window).
struct RowSlots<'a>(&'a [f64]);

impl GroupSlots for RowWindow<'_> {
    #[inline(always)]
    fn value(&self, slot: u32, _lane: usize) -> f64 {
        self.0[slot as u8 as usize]
    }
}

impl GroupSlots for RowSlots<'_> {
    #[inline(always)]
    fn value(&self, slot: u32, _lane: usize) -> f64 {
        self.0[slot as usize]
    }
}

/// Up to eight chains of a [`FlatForest`] walked by one row, one per lane (see
/// [`FlatForest::chains_leaves`]).
struct ChainLanes<'a> {
    nodes: &'a [ChainNode],
    /// Trees of each lane's chain (0 for an idle lane).
    ends: [u32; FLAT_GROUP],
    /// Steps every lane takes at least.
    min_steps: u32,
}

impl ChainLanes<'_> {
    /// Walks every lane from `state` to the end of its chain; `leaves[lane][k]` = the leaf
    /// value of the chain's tree `k`.
    #[inline(always)]
    fn walk<const CATEGORICAL: bool>(
        &self,
        row: &impl GroupSlots,
        mut state: [u32; FLAT_GROUP],
        leaves: &mut [[f64; CHAIN_TREES + 1]; FLAT_GROUP],
    ) {
        for _ in 0..self.min_steps {
            state = self.advance::<CATEGORICAL>(row, state, leaves);
        }
        while state.iter().zip(&self.ends).any(|(&s, &end)| s >> CHAIN_TREE_SHIFT < end) {
            state = self.advance::<CATEGORICAL>(row, state, leaves);
            state = self.advance::<CATEGORICAL>(row, state, leaves);
        }
    }

    /// One step of every lane (by value, so that the states stay in registers).
    #[inline(always)]
    fn advance<const CATEGORICAL: bool>(
        &self,
        row: &impl GroupSlots,
        mut state: [u32; FLAT_GROUP],
        leaves: &mut [[f64; CHAIN_TREES + 1]; FLAT_GROUP],
    ) -> [u32; FLAT_GROUP] {
        for (s, lane_leaves) in state.iter_mut().zip(leaves.iter_mut()) {
            let node = self.nodes[(*s & CHAIN_INDEX) as usize];
            // At most CHAIN_TREES trees done (the chain's end node), so always in range.
            let tree = ((*s >> CHAIN_TREE_SHIFT) as usize).min(CHAIN_TREES);
            lane_leaves[tree] = node.add;
            *s += step::<CATEGORICAL>(node.node, row, 0);
        }
        state
    }
}

/// One chain of a [`FlatForest`] (see [`Segment::Chain`]) for the batch walk.
struct Chain<'a> {
    nodes: &'a [ChainNode],
    start: u32,
    trees: u32,
    min_steps: u32,
}

/// A row's running raw score: f64, or f32 rounded at every addition (see [`Arithmetic`]).
trait Sum: Copy {
    fn add(self, value: f64) -> Self;
}

impl Sum for f64 {
    #[inline(always)]
    fn add(self, value: f64) -> f64 {
        self + value
    }
}

impl Sum for f32 {
    #[inline(always)]
    fn add(self, value: f64) -> f32 {
        self + value as f32
    }
}

impl Chain<'_> {
    /// Walks a group of rows (`group`: their extended slots, a window or a slice) through every
    /// tree of the chain and adds each tree's leaf value to the row's sum, in tree order.
    #[inline(always)]
    fn group<S: Sum>(&self, group: &[[f64; FLAT_GROUP]], categorical: bool, sums: &mut [S; FLAT_GROUP]) {
        let categorical = categorical || !SPECIALIZE_NUMERIC;
        match <&[[f64; FLAT_GROUP]; FLAT_WINDOW]>::try_from(group) {
            Ok(w) if categorical => self.walk::<true, S>(&WindowSlots(w), sums),
            Ok(w) => self.walk::<false, S>(&WindowSlots(w), sums),
            Err(_) if categorical => self.walk::<true, S>(&group, sums),
            Err(_) => self.walk::<false, S>(&group, sums),
        }
    }

    /// Each row takes its own path, without branches: the state's step is the node's `next`
    /// plus 1 to go right, and every step adds the node's `adds` value (a leaf's value, else
    /// -0.0: `x + -0.0 == x` for every `x`, -0.0 included), so the sum sees exactly the leaves in
    /// tree order. The group stops when every row has done every tree (the chain's end node
    /// keeps the early ones in place, adding -0.0).
    #[inline(always)]
    fn walk<const CATEGORICAL: bool, S: Sum>(&self, group: &impl GroupSlots, sums: &mut [S; FLAT_GROUP]) {
        let mut state = [self.start; FLAT_GROUP];
        let mut acc = *sums;
        for _ in 0..self.min_steps {
            (state, acc) = self.advance::<CATEGORICAL, S>(group, state, acc);
        }
        while state.iter().any(|&s| s >> CHAIN_TREE_SHIFT < self.trees) {
            (state, acc) = self.advance::<CATEGORICAL, S>(group, state, acc);
            (state, acc) = self.advance::<CATEGORICAL, S>(group, state, acc);
        }
        *sums = acc;
    }

    /// One step of every row (by value, so that the states and sums stay in registers).
    #[inline(always)]
    fn advance<const CATEGORICAL: bool, S: Sum>(
        &self,
        group: &impl GroupSlots,
        mut state: [u32; FLAT_GROUP],
        mut acc: [S; FLAT_GROUP],
    ) -> ([u32; FLAT_GROUP], [S; FLAT_GROUP]) {
        for (lane, (s, sum)) in state.iter_mut().zip(acc.iter_mut()).enumerate() {
            let node = self.nodes[(*s & CHAIN_INDEX) as usize];
            *sum = sum.add(node.add);
            *s += step::<CATEGORICAL>(node.node, group, lane);
        }
        (state, acc)
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
fn lockstep_depth(leaves: &[(u32, f64)]) -> Option<u32> {
    let total: f64 = leaves.iter().map(|l| l.1).sum();
    if !(total > 0.0 && total.is_finite()) || leaves.iter().any(|l| l.1.is_nan() || l.1 < 0.0) {
        return None;
    }
    // Shallowest first, ties in tree order (the cover is summed in this order).
    let mut order: Vec<usize> = (0..leaves.len()).collect();
    crate::order::sort_indices(&mut order, &|a, b| leaves[a].0.cmp(&leaves[b].0));
    let mut seen = 0.0;
    for &i in &order {
        let (depth, cover) = leaves[i];
        seen += cover;
        if seen >= 0.9 * total {
            return Some(depth);
        }
    }
    order.last().map(|&i| leaves[i].0)
}
