//! A dataset's objects and schemas: listing, footers, and the column checks of the contract.
//!
//! A dataset URL is one Parquet object or a prefix whose `*.parquet` objects (recursively,
//! Hive `key=value/` folders allowed) form the dataset. Objects whose name does not end in
//! `.parquet`, and anything under a path segment starting with `_` or `.` (`_SUCCESS`,
//! `_metadata`, `_temporary/`, `.crc` files), are not part of it. Every object's footer is
//! read and checked before any data is, so a bad schema fails fast and names its object.

use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::error::{Error, Result};
use crate::id_type::IdType;
use crate::io::object_reader::{read_error, ObjectReader, ObjectVersion};
use crate::io::store::Location;

/// What a column must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An account id: any integer type, the same type across the whole run.
    Id,
    /// A timestamp of any unit and zone.
    Timestamp,
    /// A string.
    Text,
}

/// A column a reader asks for.
#[derive(Debug, Clone)]
pub struct WantedColumn {
    pub name: String,
    pub kind: ColumnKind,
    pub required: bool,
}

/// One object of a dataset, its footer read and its columns checked.
#[derive(Debug, Clone)]
pub struct ScannedObject {
    pub name: String,
    pub path: Path,
    pub size: u64,
    /// The version listed; every read of the object must still find it.
    pub version: ObjectVersion,
    pub rows: u64,
    pub metadata: ArrowReaderMetadata,
    /// For each wanted column, its top-level field index in this object (None: absent).
    pub fields: Vec<Option<usize>>,
}

/// A dataset whose objects all passed the schema checks.
#[derive(Debug, Clone)]
pub struct ScannedDataset {
    pub dataset: String,
    pub location: Location,
    pub wanted: Vec<WantedColumn>,
    pub objects: Vec<ScannedObject>,
    /// The ids' type, if the dataset has id columns and at least one object.
    pub id_type: Option<IdType>,
}

impl ScannedDataset {
    pub fn rows(&self) -> u64 {
        self.objects.iter().map(|o| o.rows).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }
}

fn is_data_object(relative: &str) -> bool {
    let hidden = relative.split('/').any(|segment| segment.starts_with('_') || segment.starts_with('.'));
    !hidden && relative.to_ascii_lowercase().ends_with(".parquet")
}

/// Lists a dataset's objects, sorted by path so that runs are deterministic.
pub async fn list_objects(dataset: &str, location: &Location) -> Result<Vec<ObjectMeta>> {
    let listed: Vec<_> = location
        .store
        .list(Some(&location.path))
        .try_collect()
        .await
        .map_err(|e| Error::storage(location.url(), "list", e))?;
    let mut objects: Vec<ObjectMeta> = listed
        .into_iter()
        .filter(|meta| is_data_object(&location.relative(&meta.location).unwrap_or_default()))
        .collect();
    if objects.is_empty() {
        // Not a prefix: perhaps the URL names one object (whatever its extension).
        match location.store.head(&location.path).await {
            Ok(meta) => objects.push(meta),
            Err(object_store::Error::NotFound { .. }) => {}
            // A local directory is not an object; anything else is a real storage failure.
            Err(object_store::Error::Generic { .. }) if location.url().starts_with('/') => {}
            Err(e) => return Err(Error::storage(location.url(), "head", e)),
        }
    }
    if objects.is_empty() {
        return Err(Error::EmptyDataset { dataset: dataset.to_string(), url: location.url() });
    }
    objects.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(objects)
}

/// Lists a dataset and reads and checks every object's footer.
pub async fn scan(
    dataset: &str,
    location: Location,
    wanted: Vec<WantedColumn>,
    concurrency: usize,
) -> Result<ScannedDataset> {
    let objects = list_objects(dataset, &location).await?;
    let scanned: Vec<ScannedObject> = futures::stream::iter(objects)
        .map(|meta| scan_object(&location, meta, &wanted))
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut id_type: Option<(IdType, &str)> = None;
    for object in &scanned {
        for (want, field) in wanted.iter().zip(&object.fields) {
            let (ColumnKind::Id, Some(index)) = (want.kind, field) else { continue };
            let found = IdType::of(object.metadata.schema().field(*index).data_type()).expect("checked");
            match id_type {
                None => id_type = Some((found, &object.name)),
                Some((first, first_object)) if first != found => {
                    return Err(Error::column(
                        &object.name,
                        &want.name,
                        format!("ids are {found} here but {first} in {first_object}; every id column of a run must have one integer type"),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(ScannedDataset {
        dataset: dataset.to_string(),
        id_type: id_type.map(|(t, _)| t),
        location,
        wanted,
        objects: scanned,
    })
}

async fn scan_object(location: &Location, meta: ObjectMeta, wanted: &[WantedColumn]) -> Result<ScannedObject> {
    let (path, size, version) = (meta.location.clone(), meta.size, ObjectVersion::of(&meta));
    let name = location.display(&path);
    let mut reader = ObjectReader::new(Arc::clone(&location.store), path.clone(), size).expecting(version.clone());
    let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
        .await
        .map_err(|source| read_error(&name, "read footer", source))?;
    let fields = check_columns(&name, metadata.schema(), wanted)?;
    let rows = metadata.metadata().file_metadata().num_rows().max(0) as u64;
    Ok(ScannedObject { name, path, size, version, rows, metadata, fields })
}

fn check_columns(object: &str, schema: &SchemaRef, wanted: &[WantedColumn]) -> Result<Vec<Option<usize>>> {
    wanted
        .iter()
        .map(|want| {
            let Ok(index) = schema.index_of(&want.name) else {
                if !want.required {
                    return Ok(None);
                }
                let present: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::column(
                    object,
                    &want.name,
                    format!(
                        "missing column (the object has: {}); map another column in the job file's [columns] section",
                        present.join(", ")
                    ),
                ));
            };
            let data_type = schema.field(index).data_type();
            let ok = match want.kind {
                ColumnKind::Id => IdType::of(data_type).is_some(),
                ColumnKind::Timestamp => matches!(data_type, DataType::Timestamp(_, _) | DataType::Null),
                ColumnKind::Text => matches!(
                    text_value_type(data_type),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ),
            };
            if !ok {
                let expected = match want.kind {
                    ColumnKind::Id => "an integer id",
                    ColumnKind::Timestamp => "a timestamp",
                    ColumnKind::Text => "a string",
                };
                return Err(Error::column(object, &want.name, format!("expected {expected}, found {data_type}")));
            }
            Ok(Some(index))
        })
        .collect()
}

fn text_value_type(data_type: &DataType) -> &DataType {
    match data_type {
        DataType::Dictionary(_, values) => values,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::is_data_object;

    #[test]
    fn companions_and_hidden_objects_are_not_data() {
        assert!(is_data_object("part-0.parquet"));
        assert!(is_data_object("dt=2026-01-01/part-0.PARQUET"));
        assert!(!is_data_object("_SUCCESS"));
        assert!(!is_data_object("_metadata"));
        assert!(!is_data_object(".part-0.parquet.crc"));
        assert!(!is_data_object("_temporary/0/part-0.parquet"));
        assert!(!is_data_object("notes.txt"));
    }
}
