//! One stable sort for every element type.
//!
//! `slice::sort_by` is generic over the element and the comparator, so each
//! call site compiles its own copy of the standard library's sort (several KB
//! of WebAssembly each). Here the sort itself runs once, over indices with a
//! `dyn` comparator; only a tiny permutation step is generic.

use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Sorts `items` by `compare`, keeping equal items in their order (as
/// `slice::sort_by` does).
pub fn sort_stable_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    let order = stable_order(items.len(), &|a, b| compare(&items[a], &items[b]));
    apply_order(items, order);
}

/// The indices `0..len` sorted stably by `compare`.
fn stable_order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`,
/// following each cycle of the permutation with swaps.
fn apply_order<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// The distinct strings of `items`, sorted. They are inserted into a set
/// one by one: collecting into a `BTreeSet`, or `sort` and `dedup`, would
/// compile the standard sort for `String` once more.
pub fn distinct_sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut set = BTreeSet::new();
    for item in items {
        set.insert(item);
    }
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_as_the_standard_stable_sort(items in proptest::collection::vec((0u8..6, any::<u16>()), 0..40)) {
            let mut expected = items.clone();
            expected.sort_by_key(|a| a.0);
            let mut got = items;
            sort_stable_by(&mut got, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn distinct_sorted_is_sort_then_dedup(items in proptest::collection::vec("[a-c]{0,2}", 0..20)) {
            let mut expected = items.clone();
            expected.sort();
            expected.dedup();
            prop_assert_eq!(distinct_sorted(items), expected);
        }
    }
}
