//! Exact path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2), the variant LightGBM's
//! `pred_contrib` and XGBoost's `pred_contribs` compute: paths are weighted by the training cover
//! of each node, and rows follow the same split rules as scoring.
//!
//! Computed leaf by leaf, as GPUTreeShap (Mitchell, Frank & Holmes 2022) decomposes the sum:
//! a leaf of value `v` whose root path splits on the distinct features `U` (d of them; repeated
//! splits on one feature merged) gives feature `i` in `U`
//!
//! ```text
//! v * (o_i - z_i) * sum over S of U\{i} of |S|! (d - |S| - 1)! / d! * prod_{j in S} o_j * prod_{j in U\{i}\S} z_j
//! ```
//!
//! where `z_j` is the product of the cover fractions of the path's splits on `j` and `o_j` is 1
//! when the row follows all of them (else 0). As `o_j` is 0 or 1, only subsets of the features
//! the row follows (`H`) count, and the sum over them is a weighted sum of the coefficients of
//! `prod_{j in H} (t + z_j)` (divided by `t + z_i` when `i` is in `H`). This replaces the
//! original's per-node path extension and per-leaf unwinding (both with a division per step)
//! by one polynomial per leaf and a synthetic division per followed feature: the same values up
//! to rounding, several times faster (`make bench-npm` prints the explain time).
//!
//! Everything about a leaf's path but `o_j` is the same for every row, so [`ShapForest`]
//! precomputes it once per model (each leaf's distinct features in path order with their zero
//! fractions, and the nodes and directions that make each feature followed); a row then costs
//! one decision per node, a mask test per path feature and the per-leaf arithmetic above (or a
//! table read, see [`ShapForest`]), with no tree walk. The paths agree up to rounding (the
//! tests bound the difference at 1e-12 relative); each one gives the same bits on every target.

use alloc::vec;
use alloc::vec::Vec;

use crate::ensemble::{Ensemble, Tree};

/// One distinct feature on the current root path.
#[derive(Clone, Copy, Default)]
struct PathFeature {
    feature: u32,
    /// Product of the cover fractions of the path's splits on this feature.
    zero_fraction: f64,
    /// Whether the row follows every split of the path on this feature.
    hot: bool,
}

/// Adds the SHAP values of `row` (`num_features` values in model order, NaN = missing) to `out`
/// (cleared and resized to `num_features + 1`; the last entry is the bias: intercept plus each
/// tree's expected value), in raw-score (margin) units. The entries add up to the raw score up
/// to rounding. This walks every tree; [`crate::CompiledModel::shap_values`] gives the same
/// values up to rounding several times faster from path data precomputed once per model.
pub fn tree_shap(ensemble: &Ensemble, row: &[f64], out: &mut Vec<f64>) {
    shap_values(ensemble, None, row, out);
}

/// [`tree_shap`] with the model's path data precomputed ([`ShapForest`]): the same bits on every
/// target, several times faster. Only [`crate::CompiledModel`] calls it, with the path data it
/// built from its own bundle's trees, so the two always belong together.
pub(crate) fn tree_shap_precomputed(
    ensemble: &Ensemble,
    forest: &ShapForest,
    row: &[f64],
    out: &mut Vec<f64>,
) {
    shap_values(ensemble, Some(forest), row, out);
}

/// The one implementation of both paths: `forest` is `None` for the walk.
fn shap_values(ensemble: &Ensemble, forest: Option<&ShapForest>, row: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(ensemble.num_features + 1, 0.0);
    let row = ensemble.prepare_row(row);
    // The arithmetic's scratch (and its Shapley weights), made only if some leaf has no table or
    // some tree is walked: with the default model's path data, no row needs it.
    let mut scratch: Option<Walk> = None;
    // The tabulated leaves add into LANES copies of `out`, leaf by leaf in turn, summed at the
    // end, so that sibling leaves (which share most path features) do not wait on each other's
    // read-modify-write of the same sum. The sums differ from one running sum by rounding only.
    let stride = ensemble.num_features + 1;
    let mut lanes = if forest.is_some() { vec![0.0; LANES * stride] } else { Vec::new() };
    let mut lane = 0;
    for (t, tree) in ensemble.trees.iter().enumerate() {
        if tree.nodes.is_empty() {
            continue;
        }
        match forest.and_then(|f| f.trees[t].map(|tree_data| (f, tree_data))) {
            Some((f, tree_data)) => {
                let mut decisions = 0u64;
                for (i, node) in tree.nodes.iter().enumerate() {
                    decisions |= u64::from(tree.next(i, &row) == node.left) << i;
                }
                // Each leaf's entries and table follow the previous leaf's.
                let mut entries = f.entries.get(tree_data.entry_start as usize..).unwrap_or_default();
                let mut tables = f.tables.get(tree_data.table_start as usize..).unwrap_or_default();
                for leaf in &f.leaves[tree_data.leaf_start as usize..tree_data.leaf_end as usize] {
                    let Some((path, rest)) = entries.split_at_checked(leaf.features as usize) else {
                        break;
                    };
                    entries = rest;
                    if leaf.tabulated {
                        let size = 1usize << path.len();
                        let Some((table, rest)) = tables.split_at_checked(size) else {
                            break;
                        };
                        tables = rest;
                        let sums = &mut lanes[lane * stride..][..stride];
                        lane = (lane + 1) % LANES;
                        let mut hot = 0usize;
                        for (b, e) in path.iter().enumerate() {
                            hot |= usize::from(decisions & e.nodes == e.left) << b;
                        }
                        // Feature b gets (o_b - z_b) (A(M + b) - A(M)), M = H \ {b}: one of
                        // the two is A(H), the other A(H with b flipped), and the sign
                        // folds into the factor: (1 - z_b) when followed, else
                        // (-z_b) (A(H + b) - A(H)) = z_b (A(H) - A(H + b)), exactly.
                        let here = table[hot & (size - 1)];
                        for (b, e) in path.iter().enumerate() {
                            let followed = (hot >> b) & 1;
                            let gain = here - table[(hot ^ (1 << b)) & (size - 1)];
                            sums[e.feature as usize] += e.factors[followed] * gain;
                        }
                    } else {
                        let walk = scratch.get_or_insert_with(|| Walk::new(ensemble));
                        walk.path.clear();
                        walk.path.extend(path.iter().map(|e| PathFeature {
                            feature: e.feature,
                            zero_fraction: e.zero_fraction,
                            hot: decisions & e.nodes == e.left,
                        }));
                        walk.leaf(out, leaf.value);
                    }
                }
            }
            None => {
                let walk = scratch.get_or_insert_with(|| Walk::new(ensemble));
                walk.path.clear();
                walk.visit(tree, &row, out, 0);
            }
        }
    }
    if !lanes.is_empty() {
        for (f, value) in out.iter_mut().enumerate() {
            let lane_sum = |k: usize| lanes[k * stride + f];
            *value += (lane_sum(0) + lane_sum(1)) + (lane_sum(2) + lane_sum(3));
        }
    }
    // The bias (intercept plus each tree's expected value, in tree order) is a property of the
    // model: precomputed with the path data, as its thousands of divisions cost a row as much as
    // a tenth of the rest.
    out[ensemble.num_features] += match forest {
        Some(f) => f.bias,
        None => bias(ensemble),
    };
}

/// The intercept plus each tree's expected value under the training cover, added in tree order.
fn bias(ensemble: &Ensemble) -> f64 {
    ensemble.trees.iter().fold(ensemble.base_score, |sum, tree| sum + tree.expected_value())
}

/// Interleaved partial sums of the tabulated leaves' contributions (see [`shap_values`]).
const LANES: usize = 4;

/// Most internal nodes of a tree whose path data [`ShapForest`] precomputes (one bit each);
/// bigger trees are walked.
const FOREST_MAX_NODES: usize = 64;

/// Most distinct features on a leaf's path for which [`ShapForest`] tabulates the leaf (a table
/// of `2^d` values: 4 KB at 9), so that the tables of a model stay small enough for the caches
/// (reading them is what a tabulated leaf costs); longer paths take the arithmetic. At 6, the
/// 9 % of the default model's leaves with 7 to 9 path features took 28 % of the time.
const TABLE_MAX_FEATURES: usize = 9;
/// Most table values of one model (16 MB); leaves past it are computed by the arithmetic.
const TABLE_BUDGET: usize = 1 << 21;

/// Per-model path data for the precomputed TreeSHAP path: for every leaf (in the walk's depth-first,
/// left-first order), the distinct features of its root path in first-split order, each with
/// the product of its splits' cover fractions (multiplied in path order, as the walk does) and
/// the nodes (bit i = internal node i) and directions (bit set = left) a row must take at them
/// to follow the feature.
///
/// A leaf's contributions depend on the row only through which of its `d` features the row
/// follows (`H`), so each leaf of up to 9 (`TABLE_MAX_FEATURES`) features gets a table, as Fast
/// TreeSHAP v2 (Yang 2021) precomputes per leaf and subset: with `A(N)` = sum over non-empty
/// `T` in `N` of `v * (|T| - 1)! (d - |T|)! / d! * prod_{j not in T} z_j`, feature `i` gets
/// `(o_i - z_i) * (A(M + i) - A(M))` with `M = H \ {i}` (the subsets `T` holding `i` are the
/// `S + i` of the module's formula). One of the two is `A(H)`, so a row costs one decision per
/// node and, per leaf, one read of `A(H)` and, per path feature, a mask test, one table read
/// and a multiply-add. The values equal the walk's up to rounding (a few ulps of the largest
/// term). For the default model (250 trees of 15 leaves, 4.1 path features per leaf on average,
/// at most 9) the tables hold 135,680 values (1.1 MB), built in about 5 ms natively (19 M
/// instructions under cachegrind).
///
/// Only a [`crate::CompiledModel`] builds one (from its own bundle, on the first call that
/// explains) and uses it, so no caller can pair path data with another model's trees: there is
/// no public constructor and no public function taking one.
///
/// ```compile_fail
/// # use creditscore_core::{Ensemble, shap::ShapForest};
/// fn build(ensemble: &Ensemble) -> ShapForest {
///     ShapForest::new(ensemble) // crate-private: reach it through `CompiledModel::shap_forest`
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ShapForest {
    /// Per tree: where its data starts, or `None` for a single-leaf tree or one of more than
    /// [`FOREST_MAX_NODES`] internal nodes.
    trees: Vec<Option<ForestTree>>,
    leaves: Vec<ForestLeaf>,
    entries: Vec<ForestEntry>,
    /// Each tabulated leaf's `A(N)` for the `2^d` subsets `N` of its path features (bit b = the
    /// leaf's entry b), the leaf value included.
    tables: Vec<f64>,
    /// [`bias`] of the ensemble.
    bias: f64,
}

/// A tree's leaves, and the start of its leaves' entries and tables (each leaf's entries and
/// table follow the previous leaf's, so a row walks both arrays in order without per-leaf
/// offsets or bounds checks).
#[derive(Clone, Copy, Debug)]
struct ForestTree {
    leaf_start: u32,
    leaf_end: u32,
    entry_start: u32,
    table_start: u32,
}

#[derive(Clone, Copy, Debug)]
struct ForestLeaf {
    value: f64,
    /// Distinct features on the leaf's path (its number of entries).
    features: u32,
    /// Whether the leaf has a table (else the arithmetic computes it).
    tabulated: bool,
}

#[derive(Clone, Copy, Debug)]
struct ForestEntry {
    feature: u32,
    zero_fraction: f64,
    /// `[z, 1 - z]`: a tabulated leaf's factor when the row does not / does follow the feature.
    factors: [f64; 2],
    nodes: u64,
    left: u64,
}

impl ShapForest {
    /// Precomputes the path data of a validated ensemble. Crate-private: a [`crate::CompiledModel`]
    /// builds it from its own bundle, so path data never meets another model's trees.
    pub(crate) fn new(ensemble: &Ensemble) -> ShapForest {
        let mut forest = ShapForest {
            trees: Vec::with_capacity(ensemble.trees.len()),
            leaves: Vec::new(),
            entries: Vec::new(),
            tables: Vec::new(),
            bias: bias(ensemble),
        };
        let weights = shapley_weights(TABLE_MAX_FEATURES);
        let mut path = Vec::new();
        let mut zero_products = Vec::new();
        for tree in &ensemble.trees {
            if tree.nodes.is_empty() || tree.nodes.len() > FOREST_MAX_NODES {
                forest.trees.push(None);
                continue;
            }
            let (leaf_start, entry_start, table_start) =
                (forest.leaves.len(), forest.entries.len(), forest.tables.len());
            path.clear();
            forest.collect(tree, 0, &mut path);
            let mut entry = entry_start;
            for l in leaf_start..forest.leaves.len() {
                let (d, value) = (forest.leaves[l].features as usize, forest.leaves[l].value);
                let entries = &forest.entries[entry..entry + d];
                entry += d;
                if d == 0 || d > TABLE_MAX_FEATURES || forest.tables.len() + (1 << d) > TABLE_BUDGET {
                    continue;
                }
                forest.leaves[l].tabulated = true;
                let w = &weights[d * (d - 1) / 2..][..d];
                // prod over j not in T of z_j, for every T (subset products built from T without
                // its lowest bit).
                zero_products.clear();
                zero_products.resize(1 << d, 1.0);
                let all = (1usize << d) - 1;
                for n in (0..=all).rev() {
                    let missing = all & !n;
                    if missing != 0 {
                        let low = missing.trailing_zeros() as usize;
                        zero_products[n] = zero_products[n | (1 << low)] * entries[low].zero_fraction;
                    }
                }
                let table_start = forest.tables.len();
                forest.tables.extend((0..=all).map(|t: usize| {
                    if t == 0 { 0.0 } else { value * w[t.count_ones() as usize - 1] * zero_products[t] }
                }));
                // Sums over subsets (zeta transform), one bit at a time.
                let table = &mut forest.tables[table_start..];
                for b in 0..d {
                    for n in 0..=all {
                        if n & (1 << b) != 0 {
                            table[n] += table[n ^ (1 << b)];
                        }
                    }
                }
            }
            forest.trees.push(Some(ForestTree {
                leaf_start: leaf_start as u32,
                leaf_end: forest.leaves.len() as u32,
                entry_start: entry_start as u32,
                table_start: table_start as u32,
            }));
        }
        forest
    }

    /// Depth-first as [`Walk::visit`], recording each leaf's path.
    fn collect(&mut self, tree: &Tree, node: i32, path: &mut Vec<ForestEntry>) {
        if node < 0 {
            let start = self.entries.len() as u32;
            self.entries.extend(
                path.iter().map(|e| ForestEntry { factors: [e.zero_fraction, 1.0 - e.zero_fraction], ..*e }),
            );
            let end = self.entries.len() as u32;
            self.leaves.push(ForestLeaf {
                value: tree.leaf_values[(!node) as usize],
                features: end - start,
                tabulated: false,
            });
            return;
        }
        let n = &tree.nodes[node as usize];
        let bit = 1u64 << node;
        for child in [n.left, n.right] {
            let fraction = Walk::cover(tree, child) / n.cover;
            let left = if child == n.left { bit } else { 0 };
            match path.iter().position(|p| p.feature == n.feature) {
                Some(k) => {
                    let saved = path[k];
                    path[k].zero_fraction *= fraction;
                    path[k].nodes |= bit;
                    path[k].left |= left;
                    self.collect(tree, child, path);
                    path[k] = saved;
                }
                None => {
                    // factors are set when the entry is copied to a leaf (the fraction may still change).
                    path.push(ForestEntry {
                        feature: n.feature,
                        zero_fraction: fraction,
                        factors: [0.0; 2],
                        nodes: bit,
                        left,
                    });
                    self.collect(tree, child, path);
                    path.pop();
                }
            }
        }
    }
}

/// `k! (d - k - 1)! / d!` for d in 1..=max_depth, k < d: the Shapley weight of a subset of k of
/// the other d - 1 features, row d (d entries) starting at `d (d - 1) / 2`.
fn shapley_weights(max_depth: usize) -> Vec<f64> {
    let mut table = Vec::with_capacity(max_depth * (max_depth + 1) / 2);
    for d in 1..=max_depth {
        let mut w = 1.0 / d as f64;
        for k in 0..d {
            table.push(w);
            if k + 1 < d {
                w *= (k + 1) as f64 / (d - 1 - k) as f64;
            }
        }
    }
    table
}

/// Scratch of the per-leaf arithmetic, reused across the trees of one call.
struct Walk {
    weights: Vec<f64>,
    path: Vec<PathFeature>,
    /// Scratch: coefficients of prod over followed features of (t + z_j), lowest degree first.
    poly: Vec<f64>,
    /// Scratch: `poly` divided by (t + z_i).
    quotient: Vec<f64>,
    /// Scratch: products of the zero fractions of the first k not-followed features.
    cold_prefix: Vec<f64>,
}

impl Walk {
    /// Scratch sized for every tree of `ensemble`: a root path has at most as many splits as its
    /// tree has nodes (a bound found without walking the trees; their depth is checked when the
    /// ensemble is validated).
    fn new(ensemble: &Ensemble) -> Walk {
        let max_depth = ensemble.trees.iter().map(|t| t.nodes.len()).max().unwrap_or(0);
        Walk {
            weights: shapley_weights(max_depth),
            path: Vec::with_capacity(max_depth + 1),
            poly: vec![0.0; max_depth + 2],
            quotient: vec![0.0; max_depth + 2],
            cold_prefix: vec![0.0; max_depth + 2],
        }
    }

    fn cover(tree: &Tree, child: i32) -> f64 {
        if child < 0 { tree.leaf_covers[(!child) as usize] } else { tree.nodes[child as usize].cover }
    }

    /// Depth-first over the subtree at `node` (>= 0 internal, < 0 the leaf `!node`), with
    /// `self.path` describing the root path down to it; adds the contributions to `phi`.
    fn visit(&mut self, tree: &Tree, row: &[f64], phi: &mut [f64], node: i32) {
        if node < 0 {
            self.leaf(phi, tree.leaf_values[(!node) as usize]);
            return;
        }
        let n = &tree.nodes[node as usize];
        let hot = tree.next(node as usize, row);
        for child in [n.left, n.right] {
            let fraction = Walk::cover(tree, child) / n.cover;
            let follows = child == hot;
            match self.path.iter().position(|p| p.feature == n.feature) {
                Some(k) => {
                    let saved = self.path[k];
                    self.path[k].zero_fraction *= fraction;
                    self.path[k].hot &= follows;
                    self.visit(tree, row, phi, child);
                    self.path[k] = saved;
                }
                None => {
                    self.path.push(PathFeature { feature: n.feature, zero_fraction: fraction, hot: follows });
                    self.visit(tree, row, phi, child);
                    self.path.pop();
                }
            }
        }
    }

    /// Adds the contributions of the leaf of `value` whose root path `self.path` describes.
    fn leaf(&mut self, phi: &mut [f64], value: f64) {
        let d = self.path.len();
        if d == 0 {
            return;
        }
        let w = &self.weights[d * (d - 1) / 2..][..d];
        // prod over followed features of (t + z_j), and the product of the other zero fractions
        // (prefix products, so each not-followed feature can leave itself out).
        let poly = &mut self.poly;
        poly[0] = 1.0;
        let mut degree = 0;
        let mut n_cold = 0;
        self.cold_prefix[0] = 1.0;
        for p in &self.path {
            if p.hot {
                degree += 1;
                poly[degree] = poly[degree - 1];
                for k in (1..degree).rev() {
                    poly[k] = poly[k - 1] + p.zero_fraction * poly[k];
                }
                poly[0] *= p.zero_fraction;
            } else {
                self.cold_prefix[n_cold + 1] = self.cold_prefix[n_cold] * p.zero_fraction;
                n_cold += 1;
            }
        }
        let cold_product = self.cold_prefix[n_cold];
        // A not-followed feature i: the subsets are those of the followed features.
        // (With one, degree <= d - 1: every index is a weight of the row.)
        let cold_sum: f64 = if n_cold > 0 { (0..=degree).map(|k| w[k] * poly[k]).sum() } else { 0.0 };
        // The product of the not-followed zero fractions after the current one, walking backwards.
        let mut suffix = 1.0;
        let mut cold_seen = n_cold;
        for p in self.path.iter().rev() {
            let z = p.zero_fraction;
            let contribution = if p.hot {
                // poly / (t + z), from the leading coefficient down.
                let q = &mut self.quotient;
                q[degree - 1] = poly[degree];
                for k in (1..degree).rev() {
                    q[k - 1] = poly[k] - z * q[k];
                }
                let sum: f64 = (0..degree).map(|k| w[k] * q[k]).sum();
                (1.0 - z) * cold_product * sum
            } else {
                cold_seen -= 1;
                let others = self.cold_prefix[cold_seen] * suffix;
                suffix *= z;
                -z * others * cold_sum
            };
            phi[p.feature as usize] += value * contribution;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::{Arithmetic, Link, MissingType, Node, Split};

    fn le(feature: u32, threshold: f64, left: i32, right: i32, cover: f64) -> Node {
        Node {
            feature,
            split: Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left: true },
            left,
            right,
            cover,
        }
    }

    fn ensemble(trees: Vec<Tree>, nf: usize) -> Ensemble {
        Ensemble {
            num_features: nf,
            trees,
            base_score: 0.25,
            arithmetic: Arithmetic::F64,
            link: Link::Sigmoid { scale: 1.0 },
            zero_small_inputs: false,
        }
    }

    /// Brute-force Shapley values of the cover-weighted conditional expectation, for comparison.
    fn brute_force(e: &Ensemble, row: &[f64]) -> Vec<f64> {
        let nf = e.num_features;
        let value = |set: u32| -> f64 {
            e.trees.iter().map(|t| expected_given(t, row, set, 0)).sum::<f64>() + e.base_score
        };
        let fact = |n: usize| (1..=n).product::<usize>() as f64;
        let mut phi = vec![0.0; nf + 1];
        for (i, phi_i) in phi.iter_mut().take(nf).enumerate() {
            for set in (0u32..(1 << nf)).filter(|set| set & (1 << i) == 0) {
                let s = set.count_ones() as usize;
                let w = fact(s) * fact(nf - s - 1) / fact(nf);
                *phi_i += w * (value(set | (1 << i)) - value(set));
            }
        }
        phi[nf] = value(0);
        phi
    }

    fn expected_given(t: &Tree, row: &[f64], set: u32, node: i32) -> f64 {
        if t.nodes.is_empty() {
            return t.leaf_values[0];
        }
        if node < 0 {
            return t.leaf_values[(!node) as usize];
        }
        let n = &t.nodes[node as usize];
        if set & (1 << n.feature) != 0 {
            expected_given(t, row, set, t.next(node as usize, row))
        } else {
            let cover = |c: i32| if c < 0 { t.leaf_covers[(!c) as usize] } else { t.nodes[c as usize].cover };
            (cover(n.left) * expected_given(t, row, set, n.left)
                + cover(n.right) * expected_given(t, row, set, n.right))
                / n.cover
        }
    }

    /// A random tree over `nf` features, splits at thresholds 0.1..0.9 (so rows in [0, 1] go
    /// both ways), up to `depth` splits per path (a third of the subtrees below the root end
    /// early in a leaf); covers random, consistent (a node's cover
    /// is the sum of its children's). Deterministic from `seed`.
    fn random_tree(seed: &mut u64, nf: u32, depth: usize, zero_cover: bool) -> Tree {
        let mut next = || {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (*seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut tree = Tree::default();
        // Returns the child reference and its cover.
        fn build(
            t: &mut Tree,
            next: &mut dyn FnMut() -> f64,
            nf: u32,
            depth: usize,
            zero: bool,
        ) -> (i32, f64) {
            if depth == 0 || (!t.nodes.is_empty() && next() < 0.3) {
                let cover = if zero && next() < 0.3 { 0.0 } else { 1.0 + libm::floor(next() * 50.0) };
                t.leaf_values.push(next() * 4.0 - 2.0);
                t.leaf_covers.push(cover);
                return (!(t.leaf_values.len() as i32 - 1), cover);
            }
            let index = t.nodes.len();
            let feature = (next() * nf as f64) as u32 % nf;
            t.nodes.push(le(feature, 0.1 + 0.8 * next(), 0, 0, 0.0));
            let (left, lc) = build(t, next, nf, depth - 1, zero);
            let (right, rc) = build(t, next, nf, depth - 1, zero);
            let n = &mut t.nodes[index];
            // With zero covers, one more than the children so that no node is empty.
            let cover = lc + rc + if zero { 1.0 } else { 0.0 };
            (n.left, n.right, n.cover) = (left, right, cover);
            (index as i32, cover)
        }
        build(&mut tree, &mut next, nf, depth, zero_cover);
        tree
    }

    fn random_rows(seed: u64, nf: usize, count: usize) -> Vec<Vec<f64>> {
        let mut s = seed;
        (0..count)
            .map(|_| {
                (0..nf)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let u = (s >> 33) as f64 / (1u64 << 31) as f64;
                        if u < 0.05 { f64::NAN } else { u }
                    })
                    .collect()
            })
            .collect()
    }

    /// Both paths on `e` for `rows`: equal up to rounding, and equal to the brute force when
    /// asked.
    fn check(e: &Ensemble, rows: &[Vec<f64>], brute: bool) {
        let forest = ShapForest::new(e);
        let (mut walked, mut compiled) = (Vec::new(), Vec::new());
        for row in rows {
            tree_shap(e, row, &mut walked);
            tree_shap_precomputed(e, &forest, row, &mut compiled);
            for (a, b) in compiled.iter().zip(&walked) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{compiled:?} vs {walked:?}");
            }
            if brute {
                let expected = brute_force(e, row);
                for (a, b) in compiled.iter().zip(&expected) {
                    assert!((a - b).abs() < 1e-12, "{compiled:?} vs {expected:?}");
                }
            }
        }
    }

    #[test]
    fn precomputed_paths_give_the_walks_values_on_random_trees() {
        // Few features and deep trees: most paths split on a feature several times.
        let mut seed = 7;
        for round in 0..20 {
            let nf = 2 + round % 4;
            let trees = (0..3).map(|_| random_tree(&mut seed, nf as u32, 3 + round % 5, false)).collect();
            let e = ensemble(trees, nf);
            e.validate().unwrap();
            check(&e, &random_rows(round as u64, nf, 8), true);
        }
        // Zero covers, and trees past the 64 nodes of the precomputed form (walked).
        let trees: Vec<Tree> = (0..6).map(|i| random_tree(&mut seed, 4, 4 + i, i % 2 == 0)).collect();
        assert!(trees.iter().any(|t| t.nodes.len() > FOREST_MAX_NODES));
        let e = ensemble(trees, 4);
        e.validate().unwrap();
        check(&e, &random_rows(99, 4, 20), false);
        // Paths of more than TABLE_MAX_FEATURES distinct features (the arithmetic) in 64 nodes.
        let trees: Vec<Tree> = (0..40).map(|_| random_tree(&mut seed, 30, 12, false)).collect();
        let e = ensemble(trees, 30);
        e.validate().unwrap();
        let forest = ShapForest::new(&e);
        assert!(forest.leaves.iter().any(|l| !l.tabulated) && forest.leaves.iter().any(|l| l.tabulated));
        check(&e, &random_rows(5, 30, 20), false);
    }

    #[test]
    fn matches_brute_force_with_repeated_features() {
        // Feature 0 splits twice on one path, feature 2 once; a single-leaf tree adds to the bias.
        let t1 = Tree {
            nodes: vec![
                le(0, 0.5, 1, 2, 100.0),
                le(1, 1.0, 3, -2, 60.0),
                le(2, 0.0, -3, -4, 40.0),
                le(0, 0.2, -1, -5, 35.0),
            ],
            leaf_values: vec![1.0, -2.0, 0.5, 3.0, -1.5],
            leaf_covers: vec![20.0, 25.0, 10.0, 30.0, 15.0],
            cat_words: vec![],
        };
        let t2 = Tree {
            nodes: vec![le(2, 0.3, -1, -2, 100.0)],
            leaf_values: vec![0.7, -0.4],
            leaf_covers: vec![45.0, 55.0],
            cat_words: vec![],
        };
        let t3 =
            Tree { nodes: vec![], leaf_values: vec![0.125], leaf_covers: vec![100.0], cat_words: vec![] };
        let e = ensemble(vec![t1, t2, t3], 3);
        e.validate().unwrap();
        let mut out = Vec::new();
        for row in [[0.1, 0.5, -1.0], [0.3, 2.0, 1.0], [0.9, 0.0, 0.2], [f64::NAN, 1.0, 0.4]] {
            tree_shap(&e, &row, &mut out);
            check(&e, &[row.to_vec()], false);
            let expected = brute_force(&e, &row);
            for (a, b) in out.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "{out:?} vs {expected:?}");
            }
            let total: f64 = out.iter().sum();
            assert!((total - e.raw_score(&row)).abs() < 1e-12);
        }
    }
}
