//! The contract's cleaning rules for edge rows, each dropped row counted by its reason.
//!
//! Order of the rules (a row is counted under the first that drops it): a null id
//! (`null_id`), then a self-loop (`self_loop`), then, for interactions with a window, an
//! event outside `[start, end)` or with a null timestamp (`outside_window`). Duplicate
//! follows are collapsed later, by the graph builder, which knows the dense ids.

use rayon::prelude::*;

use super::NULL_TS;

/// Edge rows after cleaning: parallel columns of id keys, and timestamps if kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeRows {
    pub src: Vec<u64>,
    pub dst: Vec<u64>,
    /// Nanoseconds since the epoch, [`NULL_TS`] for null; `None` when not needed.
    pub ts: Option<Vec<i64>>,
}

impl EdgeRows {
    pub fn len(&self) -> usize {
        self.src.len()
    }

    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// Edge rows as read: id keys with their validity, timestamps if the column exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEdges {
    pub src: Vec<u64>,
    pub dst: Vec<u64>,
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
pub fn clean_edges(raw: RawEdges, window: Window, keep_ts: bool) -> (EdgeRows, Dropped) {
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
    let verdicts: Vec<Verdict> = (0..src.len()).into_par_iter().map(verdict).collect();
    let mut dropped = Dropped::default();
    for v in &verdicts {
        match v {
            Verdict::Keep => {}
            Verdict::NullId => dropped.null_id += 1,
            Verdict::SelfLoop => dropped.self_loop += 1,
            Verdict::OutsideWindow => dropped.outside_window += 1,
        }
    }
    // Kept rows move to the front in place: no second copy of multi-GB columns.
    fn keep<T: Copy>(mut column: Vec<T>, verdicts: &[Verdict]) -> Vec<T> {
        let mut kept = 0;
        for i in 0..column.len() {
            if verdicts[i] == Verdict::Keep {
                column[kept] = column[i];
                kept += 1;
            }
        }
        column.truncate(kept);
        column
    }
    let rows_kept = verdicts.iter().filter(|v| **v == Verdict::Keep).count();
    let ts = match (keep_ts, ts) {
        (false, _) => None,
        (true, Some(t)) => Some(keep(t, &verdicts)),
        (true, None) => Some(vec![NULL_TS; rows_kept]),
    };
    let rows = EdgeRows { src: keep(src, &verdicts), dst: keep(dst, &verdicts), ts };
    (rows, dropped)
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

    #[test]
    fn window_end_is_exclusive() {
        let window = Window { start: None, end: Some(5) };
        let raw = RawEdges { src: vec![1, 1], dst: vec![2, 3], ts: Some(vec![4, 5]), ..Default::default() };
        let (rows, d) = clean_edges(raw, window, false);
        assert_eq!((rows.src.len(), d.outside_window), (1, 1));
        assert_eq!(rows.ts, None);
    }
}
