//! Exact path-dependent TreeSHAP (Lundberg et al. 2018, algorithm 2), the variant LightGBM's
//! `pred_contrib` and XGBoost's `pred_contribs` compute: paths are weighted by the training cover
//! of each node, and rows follow the same split rules as scoring.

use alloc::vec;
use alloc::vec::Vec;

use crate::ensemble::{Ensemble, Tree};

#[derive(Clone, Copy, Default)]
struct PathElement {
    feature: i64,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

/// Adds the SHAP values of `row` to `out` (cleared and resized to `num_features + 1`; the last
/// entry is the bias: intercept plus each tree's expected value). The entries add up to the raw
/// score up to rounding.
pub fn tree_shap(ensemble: &Ensemble, row: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(ensemble.num_features + 1, 0.0);
    let row = ensemble.prepare_row(row);
    let max_depth = ensemble.trees.iter().map(crate::ensemble::tree_depth).max().unwrap_or(0);
    // Each recursion level keeps its own copy of the path right after its parent's: a triangular
    // buffer of (depth + 1) levels of at most (depth + 2) elements.
    let mut paths = vec![PathElement::default(); (max_depth + 2) * (max_depth + 3) / 2 + 1];
    for tree in &ensemble.trees {
        out[ensemble.num_features] += tree.expected_value();
        if !tree.nodes.is_empty() {
            let mut walk = Walk { tree, row: &row, phi: out };
            walk.recurse(0, &mut paths, 0, 1.0, 1.0, -1);
        }
    }
    out[ensemble.num_features] += ensemble.base_score;
}

struct Walk<'a> {
    tree: &'a Tree,
    row: &'a [f64],
    phi: &'a mut [f64],
}

impl Walk<'_> {
    fn cover(&self, child: i32) -> f64 {
        if child < 0 {
            self.tree.leaf_covers[(!child) as usize]
        } else {
            self.tree.nodes[child as usize].cover
        }
    }

    /// `node` >= 0 is an internal node, < 0 the leaf `!node`. `buf[..depth]` holds the parent's
    /// path; this level's path is built at `buf[depth..]`, and children continue after it.
    fn recurse(
        &mut self,
        node: i32,
        buf: &mut [PathElement],
        depth: usize,
        zero_fraction: f64,
        one_fraction: f64,
        feature: i64,
    ) {
        buf.copy_within(..depth, depth);
        let buf = &mut buf[depth..];
        extend(buf, depth, zero_fraction, one_fraction, feature);
        let mut depth = depth;

        if node < 0 {
            let leaf_value = self.tree.leaf_values[(!node) as usize];
            for i in 1..=depth {
                let w = unwound_sum(buf, depth, i);
                let el = buf[i];
                self.phi[el.feature as usize] += w * (el.one_fraction - el.zero_fraction) * leaf_value;
            }
            return;
        }

        let n = &self.tree.nodes[node as usize];
        let hot = self.tree.next(node as usize, self.row);
        let cold = if hot == n.left { n.right } else { n.left };
        let hot_zero = self.cover(hot) / n.cover;
        let cold_zero = self.cover(cold) / n.cover;
        let split_feature = n.feature as i64;
        let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
        // A feature already on the path: undo that split, it is accounted for again below.
        if let Some(k) = (0..=depth).find(|&k| buf[k].feature == split_feature) {
            incoming_zero = buf[k].zero_fraction;
            incoming_one = buf[k].one_fraction;
            unwind(buf, depth, k);
            depth -= 1;
        }
        self.recurse(hot, buf, depth + 1, hot_zero * incoming_zero, incoming_one, split_feature);
        self.recurse(cold, buf, depth + 1, cold_zero * incoming_zero, 0.0, split_feature);
    }
}

fn extend(path: &mut [PathElement], depth: usize, zero_fraction: f64, one_fraction: f64, feature: i64) {
    path[depth] =
        PathElement { feature, zero_fraction, one_fraction, weight: if depth == 0 { 1.0 } else { 0.0 } };
    let d1 = (depth + 1) as f64;
    for i in (0..depth).rev() {
        path[i + 1].weight += one_fraction * path[i].weight * (i + 1) as f64 / d1;
        path[i].weight = zero_fraction * path[i].weight * (depth - i) as f64 / d1;
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let one_fraction = path[index].one_fraction;
    let zero_fraction = path[index].zero_fraction;
    let d1 = (depth + 1) as f64;
    let mut next_one_portion = path[depth].weight;
    for i in (0..depth).rev() {
        if one_fraction != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one_portion * d1 / ((i + 1) as f64 * one_fraction);
            next_one_portion = tmp - path[i].weight * zero_fraction * (depth - i) as f64 / d1;
        } else {
            path[i].weight = path[i].weight * d1 / (zero_fraction * (depth - i) as f64);
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one_fraction = path[index].one_fraction;
    let zero_fraction = path[index].zero_fraction;
    let d1 = (depth + 1) as f64;
    let mut next_one_portion = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one_fraction != 0.0 {
            let tmp = next_one_portion * d1 / ((i + 1) as f64 * one_fraction);
            total += tmp;
            next_one_portion = path[i].weight - tmp * zero_fraction * ((depth - i) as f64 / d1);
        } else {
            total += (path[i].weight / zero_fraction) / ((depth - i) as f64 / d1);
        }
    }
    total
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
            let expected = brute_force(&e, &row);
            for (a, b) in out.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "{out:?} vs {expected:?}");
            }
            let total: f64 = out.iter().sum();
            assert!((total - e.raw_score(&row)).abs() < 1e-12);
        }
    }
}
