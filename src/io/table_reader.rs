//! Reading a finished output's table back: every part of `OUT/<table>/`, in name order.

use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use crate::error::{Error, Result};
use crate::io::dataset::list_objects;
use crate::io::object_reader::ObjectReader;
use crate::io::store::Location;

/// The batches of `out/<table>/`, only `columns` of them if given (absent ones are skipped).
pub async fn read_table(out: &Location, table: &str, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    let folder = out.at(table);
    let objects = list_objects(table, &folder).await?;
    let mut batches = Vec::new();
    for meta in objects {
        let (path, size) = (meta.location, meta.size);
        let name = out.display(&path);
        let parquet_error = |source| Error::Parquet { object: name.clone(), source };
        let reader = ObjectReader::new(Arc::clone(&out.store), path.clone(), size);
        let mut builder = ParquetRecordBatchStreamBuilder::new(reader).await.map_err(parquet_error)?;
        if let Some(columns) = columns {
            let schema = builder.schema().clone();
            let indices: Vec<usize> = columns.iter().filter_map(|c| schema.index_of(c).ok()).collect();
            let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
            builder = builder.with_projection(mask);
        }
        let read: Vec<RecordBatch> =
            builder.build().map_err(parquet_error)?.try_collect().await.map_err(parquet_error)?;
        batches.extend(read);
    }
    Ok(batches)
}

/// Like [`read_table`], but None if OUT has no such table.
pub async fn read_optional_table(
    out: &Location,
    table: &str,
    columns: Option<&[&str]>,
) -> Result<Option<Vec<RecordBatch>>> {
    match read_table(out, table, columns).await {
        Ok(batches) => Ok(Some(batches)),
        Err(Error::EmptyDataset { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
