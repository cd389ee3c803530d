//! The crate's one sort of indices.
//!
//! Why our own entry point: each `sort_by` closure instantiates the standard library's stable sort
//! anew, about 6 KB of wasm each (quicksort, drift and small-sort parts), and the npm package has
//! a size budget. The orderings the scoring path needs (model features by SHAP value, inputs by
//! name, the leaves of one tree) all sort indices, so they share one instantiation through a `dyn`
//! comparator. They are short, so the indirect call costs nothing measurable.

use core::cmp::Ordering;

/// Sorts `order` (indices into whatever `cmp` reads) by `cmp`, stably: indices that compare equal
/// keep their order in `order`. This is `slice::sort_by` (a stable sort, O(n log n)).
pub(crate) fn sort_indices(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn stable_and_ordered() {
        let keys = [3, 1, 2, 1, 3, 0];
        let mut order: Vec<usize> = (0..keys.len()).collect();
        sort_indices(&mut order, &|a, b| keys[a].cmp(&keys[b]));
        // Equal keys (1 at 1 and 3, 3 at 0 and 4) keep their first-seen order.
        assert_eq!(order, [5, 1, 3, 2, 0, 4]);
        let mut empty: Vec<usize> = Vec::new();
        sort_indices(&mut empty, &|a, b| keys[a].cmp(&keys[b]));
        assert!(empty.is_empty());
    }
}
