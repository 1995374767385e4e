//! The contract's cleaning rules for edge rows, each dropped row counted by its reason.
//!
//! Order of the rules (a row is counted under the first that drops it): a null id
//! (`null_id`), then a self-loop (`self_loop`), then, for interactions with a window, an
//! event outside `[start, end)` or with a null timestamp (`outside_window`). Duplicate
//! follows are collapsed later, by the graph builder, which knows the dense ids.

use rayon::prelude::*;

use super::NULL_TS;

/// Edge rows after cleaning: parallel columns of id keys (or of dense ids, for an input
/// looked up as it was read), and timestamps if kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeRows<K = u64> {
    pub src: Vec<K>,
    pub dst: Vec<K>,
    /// Nanoseconds since the epoch, [`NULL_TS`] for null; `None` when not needed.
    pub ts: Option<Vec<i64>>,
}

impl<K> EdgeRows<K> {
    pub fn len(&self) -> usize {
        self.src.len()
    }

    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// Edge rows as read: id keys (or dense ids that tell accounts apart just as well) with
/// their validity, timestamps if the column exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEdges<K = u64> {
    pub src: Vec<K>,
    pub dst: Vec<K>,
    /// Which src/dst ids are non-null (absent: all are).
    pub valid_src: Option<Vec<bool>>,
    pub valid_dst: Option<Vec<bool>>,
    /// Nanoseconds since the epoch, [`NULL_TS`] for null (absent: no timestamp column).
    pub ts: Option<Vec<i64>>,
}

/// Rows dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dropped {
    pub null_id: u64,
    pub self_loop: u64,
    pub outside_window: u64,
}

impl Dropped {
    pub fn add(&mut self, other: &Dropped) {
        self.null_id += other.null_id;
        self.self_loop += other.self_loop;
        self.outside_window += other.outside_window;
    }
}

/// `[start, end)` on event timestamps (ns); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    pub fn is_set(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    fn contains(&self, ts: i64) -> bool {
        ts != NULL_TS && self.start.is_none_or(|s| ts >= s) && self.end.is_none_or(|e| ts < e)
    }
}

/// Why a row is dropped, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Keep,
    NullId,
    SelfLoop,
    OutsideWindow,
}

/// Applies the row rules; `keep_ts` says whether the result carries timestamps on.
pub fn clean_edges<K>(raw: RawEdges<K>, window: Window, keep_ts: bool) -> (EdgeRows<K>, Dropped)
where
    K: Copy + PartialEq + Send + Sync,
{
    let RawEdges { src, dst, valid_src, valid_dst, ts } = raw;
    let (valid_src, valid_dst) = (valid_src.as_deref(), valid_dst.as_deref());
    let verdict = |i: usize| -> Verdict {
        let valid = valid_src.is_none_or(|v| v[i]) && valid_dst.is_none_or(|v| v[i]);
        if !valid {
            Verdict::NullId
        } else if src[i] == dst[i] {
            Verdict::SelfLoop
        } else if window.is_set() && !window.contains(ts.as_ref().map_or(NULL_TS, |t| t[i])) {
            Verdict::OutsideWindow
        } else {
            Verdict::Keep
        }
    };
    // Dropped rows are few: each chunk lists its own, in order, and counts them by reason.
    const CHUNK: usize = 1 << 16;
    let per_chunk: Vec<(Vec<usize>, Dropped)> = (0..src.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (mut rows, mut dropped) = (Vec::new(), Dropped::default());
            for i in c * CHUNK..((c + 1) * CHUNK).min(src.len()) {
                match verdict(i) {
                    Verdict::Keep => continue,
                    Verdict::NullId => dropped.null_id += 1,
                    Verdict::SelfLoop => dropped.self_loop += 1,
                    Verdict::OutsideWindow => dropped.outside_window += 1,
                }
                rows.push(i);
            }
            (rows, dropped)
        })
        .collect();
    let mut dropped = Dropped::default();
    let mut dropped_rows = Vec::new();
    for (rows, d) in per_chunk {
        dropped.add(&d);
        dropped_rows.extend(rows);
    }
    let rows_kept = src.len() - dropped_rows.len();
    // The three columns are compacted at once, each in place (no second copy of a multi-GB
    // column), as runs of kept rows moved down with memmove.
    let ts = match (keep_ts, ts) {
        (false, _) => None,
        (true, Some(t)) => Some(t),
        (true, None) => Some(vec![NULL_TS; src.len()]),
    };
    let ((src, dst), ts) = rayon::join(
        || rayon::join(|| remove_rows(src, &dropped_rows), || remove_rows(dst, &dropped_rows)),
        || ts.map(|t| remove_rows(t, &dropped_rows)),
    );
    debug_assert_eq!(src.len(), rows_kept);
    (EdgeRows { src, dst, ts }, dropped)
}

/// `column` without the rows listed in `dropped` (ascending): the runs between them slide
/// down in place.
fn remove_rows<T: Copy>(mut column: Vec<T>, dropped: &[usize]) -> Vec<T> {
    let Some(&first) = dropped.first() else { return column };
    let mut kept = first;
    for (k, &row) in dropped.iter().enumerate() {
        let run_end = dropped.get(k + 1).copied().unwrap_or(column.len());
        column.copy_within(row + 1..run_end, kept);
        kept += run_end - row - 1;
    }
    column.truncate(kept);
    column
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_counts_its_rows_in_order() {
        let src = vec![1, 2, 3, 4, 5, 6];
        let dst = vec![2, 2, 1, 1, 1, 1];
        let valid_src = vec![true, true, false, true, true, true];
        let ts = vec![10, 10, 10, 99, NULL_TS, 20];
        let window = Window { start: Some(10), end: Some(50) };
        let raw = RawEdges { src, dst, valid_src: Some(valid_src), valid_dst: None, ts: Some(ts) };
        let (rows, dropped) = clean_edges(raw, window, true);
        assert_eq!(rows.src, vec![1, 6]);
        assert_eq!(rows.dst, vec![2, 1]);
        assert_eq!(rows.ts, Some(vec![10, 20]));
        // row 1 is a self-loop, row 2 has a null id, rows 3 (late) and 4 (null ts) are outside.
        assert_eq!(dropped, Dropped { null_id: 1, self_loop: 1, outside_window: 2 });
    }

    #[test]
    fn without_a_window_null_timestamps_are_kept() {
        let raw = RawEdges { src: vec![1, 2], dst: vec![2, 1], ..Default::default() };
        let (rows, dropped) = clean_edges(raw, Window::default(), true);
        assert_eq!(rows.ts, Some(vec![NULL_TS, NULL_TS]));
        assert_eq!(dropped, Dropped::default());
    }

    proptest::proptest! {
        #[test]
        fn removing_rows_keeps_the_others_in_order(
            len in 0usize..300,
            marks in proptest::collection::vec(proptest::prelude::any::<bool>(), 300),
        ) {
            let column: Vec<usize> = (0..len).collect();
            let dropped: Vec<usize> = (0..len).filter(|&i| marks[i]).collect();
            let want: Vec<usize> = (0..len).filter(|&i| !marks[i]).collect();
            proptest::prop_assert_eq!(remove_rows(column, &dropped), want);
        }
    }

    #[test]
    fn window_end_is_exclusive() {
        let window = Window { start: None, end: Some(5) };
        let raw = RawEdges { src: vec![1, 1], dst: vec![2, 3], ts: Some(vec![4, 5]), ..Default::default() };
        let (rows, d) = clean_edges(raw, window, false);
        assert_eq!((rows.src.len(), d.outside_window), (1, 1));
        assert_eq!(rows.ts, None);
    }
}
