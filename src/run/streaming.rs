//! Edge datasets whose 64-bit ids are never held whole: streamed chunk by chunk through the
//! cleaning rules (the bucketed run's two passes), or looked up in tonight's id table batch
//! by batch as they are decoded (the previous night, which goes straight into dense ids).

use std::sync::Arc;

use crate::compute::clean::{clean_edges, Dropped, EdgeRows, RawEdges, Window};
use crate::compute::follow_changes::PreviousNight;
use crate::compute::universe::Universe;
use crate::error::Result;
use crate::io;
use crate::io::dataset::ScannedDataset;
use crate::io::decode::{ColumnData, DenseColumn};
use crate::io::landing::{IdMap, MISSING};
use crate::output::progress::Reporter;
use crate::run::workers::Workers;

/// Streams one edge dataset through `use_rows`, chunk by chunk, after the cleaning rules;
/// returns what the rules dropped. The chunks are worked on in the run's thread pool.
pub(crate) fn stream_edges(
    workers: &Workers,
    scan: &ScannedDataset,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
    window: Window,
    keep_ts: bool,
    mut use_rows: impl FnMut(EdgeRows) -> Result<()> + Send,
) -> Result<Dropped> {
    let mut dropped = Dropped::default();
    workers.runtime.block_on(io::stream::for_each_chunk(scan, workers.concurrency, on_rows, |chunk| {
        workers.pool.install(|| {
            let (rows, d) = clean_edges(io::inputs::into_edges(chunk), window, keep_ts);
            dropped.add(&d);
            use_rows(rows)
        })
    }))?;
    Ok(dropped)
}

/// The previous night's follows in dense ids (U'): each batch's ids are looked up in
/// tonight's id table as they are decoded, on every thread, so its 64-bit ids are never
/// held beyond a batch; the few outside tonight's universe are numbered after it.
pub(crate) fn read_previous_night(
    workers: &Workers,
    reporter: &Reporter,
    scan: &ScannedDataset,
    universe: &Universe,
) -> Result<(PreviousNight, Dropped)> {
    let lookup: IdMap = Arc::new(universe.lookup(MISSING));
    let bar = reporter.bar("previous", scan.rows());
    let on_rows = {
        let bar = bar.clone();
        Arc::new(move |rows: u64| bar.inc(rows))
    };
    let read = io::landing::read_dense_columns(scan, workers.concurrency, on_rows, lookup);
    let mut columns = workers.runtime.block_on(read)?.into_iter();
    bar.finish_and_clear();
    let DenseColumn { ids: mut src, valid: valid_src, misses: src_misses } = into_dense(columns.next());
    let DenseColumn { ids: mut dst, valid: valid_dst, misses: dst_misses } = into_dense(columns.next());
    let kept = |row: usize| valid_src.as_ref().is_none_or(|v| v[row]) && valid_dst.as_ref().is_none_or(|v| v[row]);
    let extra_keys = universe.extend_misses((&mut src, &mut dst), (&src_misses, &dst_misses), kept);
    let raw = RawEdges { src, dst, valid_src, valid_dst, ts: None };
    let (rows, dropped) = workers.pool.install(|| clean_edges(raw, Window::default(), false));
    Ok((PreviousNight { src: rows.src, dst: rows.dst, extra_keys }, dropped))
}

fn into_dense(column: Option<ColumnData>) -> DenseColumn {
    match column {
        Some(ColumnData::Dense(dense)) => dense,
        _ => unreachable!("asked for two dense id columns"),
    }
}
