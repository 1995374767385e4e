//! Edge datasets streamed chunk by chunk through the cleaning rules, for inputs that are
//! never held whole: the bucketed run's two passes, and the previous night, which goes
//! straight into dense ids.

use std::sync::Arc;

use crate::compute::clean::{clean_edges, Dropped, EdgeRows, Window};
use crate::compute::follow_changes::PreviousNight;
use crate::compute::universe::{Extension, Universe};
use crate::error::Result;
use crate::io::dataset::ScannedDataset;
use crate::{io, Engine};

/// Streams one edge dataset through `use_rows`, chunk by chunk, after the cleaning rules;
/// returns what the rules dropped. The chunks are worked on in the run's thread pool.
pub(crate) fn stream_edges(
    engine: &Engine,
    scan: &ScannedDataset,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
    window: Window,
    keep_ts: bool,
    mut use_rows: impl FnMut(EdgeRows) -> Result<()> + Send,
) -> Result<Dropped> {
    let mut dropped = Dropped::default();
    engine.runtime.block_on(io::read::for_each_chunk(scan, engine.concurrency, on_rows, |chunk| {
        engine.pool.install(|| {
            let (rows, d) = clean_edges(io::inputs::into_edges(chunk), window, keep_ts);
            dropped.null_id += d.null_id;
            dropped.self_loop += d.self_loop;
            dropped.outside_window += d.outside_window;
            use_rows(rows)
        })
    }))?;
    Ok(dropped)
}

/// The previous night's follows, read chunk by chunk straight into dense ids (U'): its
/// 64-bit ids are never held whole.
pub(crate) fn read_previous_night(
    engine: &Engine,
    scan: &ScannedDataset,
    universe: &Universe,
) -> Result<(PreviousNight, Dropped)> {
    let rows = scan.rows() as usize;
    let (mut src, mut dst) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let mut extension = Extension::default();
    let dropped = stream_edges(engine, scan, Arc::new(|_| {}), Window::default(), false, |chunk| {
        src.extend(universe.dense_extending(&chunk.src, &mut extension));
        dst.extend(universe.dense_extending(&chunk.dst, &mut extension));
        Ok(())
    })?;
    Ok((PreviousNight { src, dst, extra_keys: extension.keys }, dropped))
}
