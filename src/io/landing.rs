//! Decoding whole datasets into their final columns, each row group straight into its rows.
//!
//! A row group's place in the dataset is known from the footers, so each decode task writes
//! its ids and timestamps directly into the range of the full-length columns that its rows
//! own: nothing is copied twice, and the page faults of multi-GB columns are taken on every
//! runtime thread instead of on one thread appending chunks in order. Rows keep dataset order
//! (objects by path, row groups in file order). Text columns (the small accounts table) and
//! the rare validity vectors come back from the tasks and are placed in order. Id columns
//! may instead be looked up batch by batch as they land (`read_dense_columns`), so that a
//! dataset whose accounts are already numbered arrives as `u32` ids with the few misses
//! listed.

use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::{StreamExt, TryStreamExt};

use crate::compute::NULL_TS;
use crate::error::{Error, Result};
use crate::io::dataset::{ColumnKind, ScannedDataset};
use crate::io::decode::{id_keys_into, open_row_group, texts, timestamps_ns_into, ColumnData, DenseColumn};
use crate::io::object_reader::read_error;

/// Looks ids up as they land: writes each key's number into the second slice, or
/// [`MISSING`] for a key it does not know, and returns how many it did not know.
pub(crate) type IdMap = Arc<dyn Fn(&[u64], &mut [u32]) -> usize + Send + Sync>;

/// The number an [`IdMap`] writes for a key it does not know.
pub(crate) const MISSING: u32 = u32::MAX;

/// A full-length column that row-group tasks fill at disjoint ranges.
///
/// Tasks hold it through an `Arc`, so the buffer outlives every task even when a read fails
/// and the caller returns early: no task can write into freed memory.
struct Landing<T> {
    column: Vec<T>,
    at: *mut T,
}

// SAFETY: tasks only write through `rows_mut`, whose ranges are disjoint (one per row group).
unsafe impl<T: Send> Send for Landing<T> {}
unsafe impl<T: Send> Sync for Landing<T> {}

impl<T: Copy + Default> Landing<T> {
    fn new(len: usize) -> Self {
        let mut column = vec![T::default(); len];
        let at = column.as_mut_ptr();
        Landing { column, at }
    }

    /// The rows `start..start + len`, for the one task that owns them.
    ///
    /// # Safety
    /// No two live slices may overlap, and none may be live once the column is taken back.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows_mut(&self, start: usize, len: usize) -> &mut [T] {
        assert!(start + len <= self.column.len(), "row range inside the column");
        // SAFETY: in bounds (checked above); exclusive per the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.at.add(start), len) }
    }
}

/// Where each wanted column's rows land.
enum Target {
    Ids(Landing<u64>),
    /// Ids looked up as they land: each row holds the id's number or [`MISSING`].
    Dense(Landing<u32>, IdMap),
    Timestamps(Landing<i64>),
    /// Strings are returned by the tasks and appended in order.
    Text,
}

/// What a row group's task hands back for one column besides what it wrote in place.
#[derive(Default)]
struct Part {
    /// The validity of the group's rows of an id column with some null.
    valid: Option<Vec<bool>>,
    /// The group's strings of a text column.
    text: Vec<Option<String>>,
    /// (row in the dataset, key) of each id a dense column's lookup missed, by row: 16
    /// bytes a miss, which a previous night mostly of accounts unknown tonight would pay for
    /// nearly every row (a night's snapshot normally misses only the accounts gone since).
    misses: Vec<(usize, u64)>,
}

/// What a row group's task hands back.
struct Returned {
    start: usize,
    rows: usize,
    /// One per wanted column.
    parts: Vec<Part>,
}

/// One row group of the dataset: which object, which group, and where its rows start.
#[derive(Clone, Copy)]
struct Group {
    object: usize,
    row_group: usize,
    start: usize,
    rows: usize,
}

/// Reads the wanted columns of every object; `on_rows` is told of each decoded batch.
pub async fn read_columns(
    scan: &ScannedDataset,
    concurrency: usize,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<Vec<ColumnData>> {
    read_columns_mapped(scan, concurrency, on_rows, None).await
}

/// [`read_columns`], with every id column looked up through `map` as it lands
/// ([`ColumnData::Dense`]): its 64-bit keys are never held beyond a batch.
pub(crate) async fn read_dense_columns(
    scan: &ScannedDataset,
    concurrency: usize,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
    map: IdMap,
) -> Result<Vec<ColumnData>> {
    read_columns_mapped(scan, concurrency, on_rows, Some(map)).await
}

async fn read_columns_mapped(
    scan: &ScannedDataset,
    concurrency: usize,
    on_rows: Arc<dyn Fn(u64) + Send + Sync>,
    map: Option<IdMap>,
) -> Result<Vec<ColumnData>> {
    let mut groups = Vec::new();
    let mut total = 0usize;
    for (object_index, object) in scan.objects.iter().enumerate() {
        for (row_group, meta) in object.metadata.metadata().row_groups().iter().enumerate() {
            let rows = meta.num_rows().max(0) as usize;
            groups.push(Group { object: object_index, row_group, start: total, rows });
            total += rows;
        }
    }
    let targets: Arc<Vec<Target>> = Arc::new(targets_for(scan, total, map));
    let scan = Arc::new(scan.clone());
    let mut returned = futures::stream::iter(groups)
        .map(|group| {
            let (scan, targets, on_rows) = (Arc::clone(&scan), Arc::clone(&targets), Arc::clone(&on_rows));
            // Spawned so that row groups decode on all runtime threads at once.
            tokio::spawn(async move { land_row_group(&scan, group, &targets, &*on_rows).await })
        })
        .buffered(concurrency.max(1));
    let mut parts: Vec<Returned> = Vec::new();
    while let Some(joined) = returned.next().await {
        parts.push(joined.map_err(|e| Error::internal("joining a read task", e))??);
    }
    drop(returned);
    let targets = Arc::into_inner(targets)
        .ok_or_else(|| Error::internal("taking back the decoded columns", "a read task still holds them"))?;
    Ok(assemble(targets, parts, total))
}

/// Full-length landing columns for the wanted columns of `scan` (id columns looked up
/// through `map` if given).
fn targets_for(scan: &ScannedDataset, rows: usize, map: Option<IdMap>) -> Vec<Target> {
    scan.wanted
        .iter()
        .map(|w| match (w.kind, &map) {
            (ColumnKind::Id, Some(map)) => Target::Dense(Landing::new(rows), Arc::clone(map)),
            (ColumnKind::Id, None) => Target::Ids(Landing::new(rows)),
            (ColumnKind::Timestamp, _) => Target::Timestamps(Landing::new(rows)),
            (ColumnKind::Text, _) => Target::Text,
        })
        .collect()
}

/// Decodes one row group's wanted columns into columns of its own, each batch straight into
/// place: the chunks of the bucketed run's streamed passes.
pub(crate) async fn read_row_group(
    scan: &ScannedDataset,
    object: usize,
    row_group: usize,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<Vec<ColumnData>> {
    let rows = scan.objects[object].metadata.metadata().row_group(row_group).num_rows().max(0) as usize;
    let targets = targets_for(scan, rows, None);
    let returned = land_row_group(scan, Group { object, row_group, start: 0, rows }, &targets, on_rows).await?;
    Ok(assemble(targets, vec![returned], rows))
}

/// The columns, with what the tasks returned placed in dataset order.
fn assemble(targets: Vec<Target>, mut returned: Vec<Returned>, total: usize) -> Vec<ColumnData> {
    targets
        .into_iter()
        .enumerate()
        .map(|(c, target)| {
            let mut valid: Option<Vec<bool>> = None;
            for r in &returned {
                if let Some(v) = &r.parts[c].valid {
                    valid.get_or_insert_with(|| vec![true; total])[r.start..r.start + r.rows].copy_from_slice(v);
                }
            }
            match target {
                Target::Ids(landing) => ColumnData::Ids { keys: landing.column, valid },
                Target::Dense(landing, _) => {
                    let misses = returned.iter_mut().flat_map(|r| std::mem::take(&mut r.parts[c].misses)).collect();
                    ColumnData::Dense(DenseColumn { ids: landing.column, valid, misses })
                }
                Target::Timestamps(landing) => ColumnData::Timestamps(landing.column),
                Target::Text => {
                    let mut column = ColumnData::with_capacity(ColumnKind::Text, total);
                    for r in &mut returned {
                        column.append(ColumnData::Text(std::mem::take(&mut r.parts[c].text)));
                    }
                    column
                }
            }
        })
        .collect()
}

async fn land_row_group(
    scan: &ScannedDataset,
    group: Group,
    targets: &[Target],
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<Returned> {
    let object = &scan.objects[group.object];
    let mut stream = open_row_group(scan, group.object, group.row_group).await?;
    let mut parts: Vec<Part> = scan.wanted.iter().map(|_| Part::default()).collect();
    let mut landed = 0usize;
    while let Some(batch) = stream.try_next().await.map_err(|source| read_error(&object.name, "read", source))? {
        let rows = batch.num_rows();
        if landed + rows > group.rows {
            return Err(Error::column(
                &object.name,
                &scan.wanted[0].name,
                format!("row group {} holds more rows than its footer's {}", group.row_group, group.rows),
            ));
        }
        for ((want, target), part) in scan.wanted.iter().zip(targets).zip(parts.iter_mut()) {
            land_batch(&batch, &want.name, target, (group, landed), part)
                .map_err(|problem| Error::column(&object.name, &want.name, problem))?;
        }
        landed += rows;
        on_rows(rows as u64);
    }
    if landed != group.rows {
        return Err(Error::column(
            &object.name,
            &scan.wanted[0].name,
            format!("row group {} holds {landed} rows, its footer says {}", group.row_group, group.rows),
        ));
    }
    Ok(Returned { start: group.start, rows: group.rows, parts })
}

/// Adds one batch's validity (`None`: no null) to its group's, which exists only once some
/// row was null.
fn note_validity(part: &mut Part, valid: Option<Vec<bool>>, (group, landed): (Group, usize), rows: usize) {
    match (valid, &mut part.valid) {
        (Some(valid), all @ None) => {
            let mut group_valid = Vec::with_capacity(group.rows);
            group_valid.extend(std::iter::repeat_n(true, landed));
            group_valid.extend(valid);
            *all = Some(group_valid);
        }
        (Some(valid), Some(all)) => all.extend(valid),
        (None, Some(all)) => all.extend(std::iter::repeat_n(true, rows)),
        (None, None) => {}
    }
}

/// Writes one batch's column after the `landed` rows of its group that came before it;
/// validity, strings and missed lookups go into `part`.
fn land_batch(
    batch: &RecordBatch,
    name: &str,
    target: &Target,
    (group, landed): (Group, usize),
    part: &mut Part,
) -> Result<(), String> {
    let rows = batch.num_rows();
    let array = batch.column_by_name(name);
    let at = group.start + landed;
    match target {
        Target::Ids(landing) => {
            let array = array.expect("id columns are required");
            // SAFETY: rows at..at+rows belong to this row group's task alone.
            let out = unsafe { landing.rows_mut(at, rows) };
            let valid = id_keys_into(array.as_ref(), out)?;
            note_validity(part, valid, (group, landed), rows);
        }
        Target::Dense(landing, map) => {
            let array = array.expect("id columns are required");
            // SAFETY: as above.
            let out = unsafe { landing.rows_mut(at, rows) };
            let mut keys = vec![0u64; rows];
            let valid = id_keys_into(array.as_ref(), &mut keys)?;
            note_validity(part, valid, (group, landed), rows);
            if map(&keys, out) > 0 {
                let missed = out.iter().zip(&keys).enumerate().filter(|(_, (&id, _))| id == MISSING);
                part.misses.extend(missed.map(|(i, (_, &key))| (at + i, key)));
            }
        }
        Target::Timestamps(landing) => {
            // SAFETY: as above.
            let out = unsafe { landing.rows_mut(at, rows) };
            match array {
                Some(array) => timestamps_ns_into(array.as_ref(), out)?,
                // An optional column this object lacks: all null.
                None => out.fill(NULL_TS),
            }
        }
        Target::Text => match array {
            Some(array) => part.text.extend(texts(array.as_ref())?),
            None => part.text.extend(std::iter::repeat_n(None, rows)),
        },
    }
    Ok(())
}
