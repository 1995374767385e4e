//! Streaming a dataset row group by row group, in dataset order, in bounded memory: what the
//! bucketed run's passes and the Spark-free re-reads go through.

use std::sync::Arc;

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::io::dataset::ScannedDataset;
use crate::io::decode::ColumnData;
use crate::io::landing::read_row_group;

/// Hands the wanted columns of each row group to `use_chunk`, in dataset order, decoding
/// `concurrency` row groups ahead: a dataset of any size streams through in bounded memory.
pub async fn for_each_chunk(
    scan: &ScannedDataset,
    concurrency: usize,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
    mut use_chunk: impl FnMut(Vec<ColumnData>) -> Result<()>,
) -> Result<()> {
    let mut tasks = Vec::new();
    for (object_index, object) in scan.objects.iter().enumerate() {
        for row_group in 0..object.metadata.metadata().num_row_groups() {
            tasks.push((object_index, row_group));
        }
    }
    let scan = Arc::new(scan.clone());
    let mut chunks = futures::stream::iter(tasks)
        .map(|(object_index, row_group)| {
            let scan = Arc::clone(&scan);
            let on_rows = Arc::clone(&on_rows);
            // Spawned so that row groups decode on all runtime threads at once.
            tokio::spawn(async move { read_row_group(&scan, object_index, row_group, &*on_rows).await })
        })
        .buffered(concurrency.max(1));
    while let Some(joined) = chunks.next().await {
        use_chunk(joined.map_err(|e| Error::internal("joining a read task", e))??)?;
    }
    Ok(())
}
