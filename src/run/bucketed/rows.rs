//! Where a bucketed run gets each bucket's rows: its spill files, or a re-read of the inputs
//! (`--rescan`), for when local disk has no room to spill them — each bucket then reads every
//! input again and keeps the rows that touch its accounts.
//!
//! K buckets cost K reads of the inputs instead of one read, one spill write and one spill
//! read, and need no disk at all. Dense ids follow key order (`compute/universe.rs`), so a
//! bucket's accounts are a range of keys: a row is tested by two comparisons of its raw keys,
//! and only the ~2/K of rows that belong are looked up in the universe. The rows come out in
//! input order, as the spill files give them, so the tables are the same either way.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use crate::compute::bucket::BucketRows;
use crate::compute::clean::{EdgeRows, Window};
use crate::compute::follow_graph::EdgeHalf;
use crate::compute::routing::{route, End};
use crate::compute::universe::{Extension, Universe};
use crate::error::Result;
use crate::io::inputs::Scans;
use crate::io::spill::{Spill, Stream};
use crate::output::progress::Reporter;
use crate::run::streaming::stream_edges;
use crate::run::workers::Workers;

/// Where each bucket's rows come from.
pub(super) enum Source<'a> {
    /// Spill files, written once by pass 2 (of events and of the previous night, if any).
    Spilled { spill: &'a Spill, events: bool, previous: bool },
    /// The inputs, read again for every bucket (`--rescan`).
    Inputs {
        workers: &'a Workers,
        reporter: &'a Reporter,
        scans: &'a Scans,
        /// The interactions' window.
        window: Window,
        ids: (&'a Universe, &'a Extension),
    },
}

impl Source<'_> {
    /// Whether there is a previous night to compare with.
    pub(super) fn compares_nights(&self) -> bool {
        match self {
            Source::Spilled { previous, .. } => *previous,
            Source::Inputs { scans, .. } => scans.previous_follows.is_some(),
        }
    }

    pub(super) fn rows(&self, k: usize, range: std::ops::Range<usize>) -> Result<BucketRows> {
        match *self {
            Source::Spilled { spill, events, previous } => {
                let timed = |stream| -> Result<EdgeHalf> {
                    let (local, other, created) = spill.take_timed(stream, k)?;
                    Ok(EdgeHalf { local, other, created: Some(created) })
                };
                let pairs = |stream| -> Result<EdgeHalf> {
                    let (local, other) = spill.take_pairs(stream, k)?;
                    Ok(EdgeHalf { local, other, created: None })
                };
                Ok(BucketRows {
                    follows: (timed(Stream::FollowsOut)?, timed(Stream::FollowsIn)?),
                    events: if events { Some((pairs(Stream::EventsOut)?, pairs(Stream::EventsIn)?)) } else { None },
                    previous: if previous {
                        Some((pairs(Stream::PreviousOut)?, pairs(Stream::PreviousIn)?))
                    } else {
                        None
                    },
                })
            }
            Source::Inputs { workers, reporter, scans, window, ids } => {
                let bar = reporter.bar(&format!("bucket {}", k + 1), scans.all().map(|d| d.rows()).sum());
                let on_rows: Arc<dyn Fn(u64) + Send + Sync> = {
                    let bar = bar.clone();
                    Arc::new(move |rows| bar.inc(rows))
                };
                let rows = reread_bucket(workers, scans, window, ids, range, on_rows);
                bar.finish_and_clear();
                rows
            }
        }
    }
}

/// Rows of one input that start (`out`) or end (`inward`) at the bucket's accounts.
#[derive(Default)]
struct Halves {
    out: EdgeHalf,
    inward: EdgeHalf,
}

impl Halves {
    fn timed(timed: bool) -> Halves {
        let half = || EdgeHalf { created: timed.then(Vec::new), ..Default::default() };
        Halves { out: half(), inward: half() }
    }

    fn append(&mut self, mut other: Halves) {
        for (mine, theirs) in [(&mut self.out, &mut other.out), (&mut self.inward, &mut other.inward)] {
            mine.local.append(&mut theirs.local);
            mine.other.append(&mut theirs.other);
            if let (Some(m), Some(t)) = (mine.created.as_mut(), theirs.created.as_mut()) {
                m.append(t);
            }
        }
    }
}

fn push(half: &mut EdgeHalf, local: u32, other: u32, created: Option<i64>) {
    half.local.push(local);
    half.other.push(other);
    if let (Some(c), Some(t)) = (half.created.as_mut(), created) {
        c.push(t);
    }
}

/// Splits a chunk of rows into the bucket's halves by the routing rule, in row order;
/// `dense` gives a key's dense id, and `belongs` says cheaply whether a key may be one of the
/// bucket's accounts.
fn split_chunk(
    rows: &EdgeRows,
    range: &Range<usize>,
    belongs: impl Fn(u64) -> bool + Sync,
    dense: impl Fn(u64) -> u32 + Sync,
) -> Halves {
    const PIECE: usize = 1 << 16;
    let timed = rows.ts.is_some();
    let start = range.start as u32;
    // A key's dense id is looked up only if it may be the bucket's, and once per end.
    let place = |k: u64| {
        if !belongs(k) {
            return None;
        }
        let d = dense(k);
        range.contains(&(d as usize)).then(|| (0, d - start))
    };
    let pieces: Vec<Halves> = rows
        .src
        .par_chunks(PIECE)
        .zip(rows.dst.par_chunks(PIECE))
        .enumerate()
        .map(|(piece, (src, dst))| {
            let mut halves = Halves::timed(timed);
            route(src, dst, place, |end, _, local, i| {
                let ts = rows.ts.as_ref().map(|t| t[piece * PIECE + i]);
                match end {
                    End::Source => push(&mut halves.out, local, dense(dst[i]), ts),
                    End::Target => push(&mut halves.inward, local, dense(src[i]), ts),
                }
            });
            halves
        })
        .collect();
    let mut all = Halves::timed(timed);
    for piece in pieces {
        all.append(piece);
    }
    all
}

/// Reads every input again and keeps the rows of the accounts `range` (dense ids; those at
/// or after `universe.len()` were seen only in the previous night's follows).
fn reread_bucket(
    workers: &Workers,
    scans: &Scans,
    window: Window,
    (universe, extension): (&Universe, &Extension),
    range: Range<usize>,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<BucketRows> {
    let keys = universe.keys();
    let tonight = range.start.min(keys.len())..range.end.min(keys.len());
    // Tonight's ids are all in the universe: the bucket's are exactly the keys in this span.
    let span = (!tonight.is_empty()).then(|| (keys[tonight.start], keys[tonight.end - 1]));
    let belongs = |k: u64| span.is_some_and(|(lo, hi)| lo <= k && k <= hi);
    let known = |k: u64| universe.find(k).expect("every kept id is in the universe");

    let read = |scan, window, timed: bool| -> Result<(EdgeHalf, EdgeHalf)> {
        let mut all = Halves::timed(timed);
        stream_edges(workers, scan, on_rows.clone(), window, timed, |rows| {
            all.append(split_chunk(&rows, &range, belongs, known));
            Ok(())
        })?;
        Ok((all.out, all.inward))
    };
    let follows = read(&scans.follows, Window::default(), true)?;
    let events = match &scans.interactions {
        Some(scan) => Some(read(scan, window, false)?),
        None => None,
    };
    let previous = match &scans.previous_follows {
        // Ids seen only the night before are numbered after the universe, out of key order:
        // every row is looked up.
        Some(scan) => {
            let dense = |k: u64| {
                universe.find(k).or_else(|| extension.find(k)).expect("every previous id was numbered in pass 1")
            };
            let mut all = Halves::timed(false);
            stream_edges(workers, scan, on_rows.clone(), Window::default(), false, |rows| {
                all.append(split_chunk(&rows, &range, |_| true, dense));
                Ok(())
            })?;
            Some((all.out, all.inward))
        }
        None => None,
    };
    Ok(BucketRows { follows, events, previous })
}
