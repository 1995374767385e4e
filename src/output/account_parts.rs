//! `account_metrics` written part by part while a bucketed run goes through its buckets, so
//! that no run ever holds every account's finished row.
//!
//! Parts are cut at the same global row numbers as an in-memory run cuts the whole table
//! (`io::write::part_ranges`), and each part is encoded from the same rows: the objects, their
//! content-derived names and the manifest are byte-identical whatever the bucket count. Rows
//! wait here only until their part is complete (at most one part plus one bucket).

use std::ops::Range;

use parquet::basic::Compression;
use rayon::prelude::*;

use crate::compute::account_metrics::AccountRow;
use crate::compute::accounts::AccountTypes;
use crate::error::Result;
use crate::id_type::IdType;
use crate::io::store::Location;
use crate::io::write::{encode_parquet_batches, part_ranges, TableEntry, WrittenObject};
use crate::output::folder::{retract, write_part};
use crate::output::tables::{self, ACCOUNT_METRICS};

/// The account_metrics table of one run, being written.
pub(crate) struct AccountParts<'a> {
    runtime: &'a tokio::runtime::Runtime,
    out: &'a Location,
    id_type: IdType,
    /// Every account's key, by dense id (the table's account_id column).
    keys: &'a [u64],
    types: &'a AccountTypes,
    parts: Vec<Range<usize>>,
    table: TableEntry,
    codec: Compression,
    /// Rows of the accounts `pending_start..` not yet written.
    pending: Vec<AccountRow>,
    pending_start: usize,
}

/// Rows per Arrow batch of a part: 4096 rows of 160 bytes stay in L2 while every column is
/// read from them. Blocks are cut by row index, so a part's bytes never depend on threads or
/// on how the rows were computed.
const ROW_BLOCK: usize = 4096;

impl<'a> AccountParts<'a> {
    /// Starts the table of `keys.len()` accounts. OUT stops being trusted here: its
    /// `_SUCCESS` goes before the first part is uploaded.
    pub(crate) fn start(
        runtime: &'a tokio::runtime::Runtime,
        out: &'a Location,
        id_type: IdType,
        keys: &'a [u64],
        types: &'a AccountTypes,
        codec: Compression,
    ) -> Result<AccountParts<'a>> {
        runtime.block_on(retract(out))?;
        Ok(AccountParts {
            runtime,
            out,
            codec,
            id_type,
            keys,
            types,
            parts: part_ranges(keys.len()),
            table: TableEntry { rows: 0, objects: Vec::new() },
            pending: Vec::new(),
            pending_start: 0,
        })
    }

    /// The next accounts' rows, in account order; writes every part they complete.
    pub(crate) fn push(&mut self, mut rows: Vec<AccountRow>) -> Result<()> {
        if self.pending.is_empty() {
            self.pending = std::mem::take(&mut rows);
        } else {
            self.pending.append(&mut rows);
        }
        self.write_complete_parts()
    }

    /// Writes the parts whose rows are all here, each encoded and uploaded on its own thread
    /// (uploading them one by one after all were encoded left a core idle for ~0.1 s).
    fn write_complete_parts(&mut self) -> Result<()> {
        let have = self.pending_start + self.pending.len();
        let next = self.table.objects.len();
        let ready = self.parts[next..].iter().take_while(|p| p.end <= have).count();
        if ready == 0 {
            return Ok(());
        }
        let ranges = &self.parts[next..next + ready];
        let written: Vec<(u64, WrittenObject)> = ranges
            .par_iter()
            .enumerate()
            .map(|(i, range)| {
                let rows = &self.pending[range.start - self.pending_start..range.end - self.pending_start];
                // Columns are built a block of rows at a time, while the block's (wide) rows are
                // in cache, and each block is encoded before the next is built.
                let blocks = (0..rows.len().max(1)).step_by(ROW_BLOCK).map(|at| {
                    let block = &rows[at..(at + ROW_BLOCK).min(rows.len())];
                    let first = range.start + at;
                    tables::account_metrics(
                        self.id_type,
                        &self.keys[first..first + block.len()],
                        self.types,
                        first,
                        block,
                    )
                });
                let bytes = encode_parquet_batches(ACCOUNT_METRICS, blocks, self.codec)?;
                let object =
                    self.runtime.block_on(write_part(self.out, ACCOUNT_METRICS, next + i, rows.len() as u64, bytes))?;
                Ok((rows.len() as u64, object))
            })
            .collect::<Result<_>>()?;
        for (rows, object) in written {
            self.table.rows += rows;
            self.table.objects.push(object);
        }
        let done = ranges.last().expect("ready > 0").end;
        self.pending.drain(..done - self.pending_start);
        self.pending_start = done;
        Ok(())
    }

    /// The table as written, once every account's row has been pushed.
    pub(crate) fn finish(mut self) -> Result<TableEntry> {
        self.write_complete_parts()?;
        assert_eq!(self.table.objects.len(), self.parts.len(), "every account's row was pushed");
        Ok(self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::account_metrics::{account_metrics, CampRule};
    use crate::compute::follow_graph::FollowGraph;
    use crate::compute::interaction_graph::InteractionGraph;
    use crate::io::store::{self, StorageOptions};

    /// Every object under `account_metrics/`, by name, with its bytes.
    fn objects(runtime: &tokio::runtime::Runtime, out: &Location) -> Vec<(String, bytes::Bytes)> {
        use object_store::ObjectStoreExt;
        runtime.block_on(async {
            let mut all = Vec::new();
            for path in out.list_under(ACCOUNT_METRICS).await.unwrap() {
                let bytes = out.store.get(&path).await.unwrap().bytes().await.unwrap();
                all.push((path.to_string(), bytes));
            }
            all.sort();
            all
        })
    }

    /// Regression: at 3M accounts the in-memory run (which sliced one whole-table batch) and a
    /// bucketed run (which built each part's batch) wrote different bytes for a part whose
    /// nullable column had no null in it, though the values were equal. Parts are now always
    /// built from their rows, whatever the pushes.
    #[test]
    fn parts_are_the_same_bytes_however_the_rows_arrive_even_without_nulls_in_a_part() {
        // A chain of follows; one account without any, so reciprocity is null in part 2 only.
        let n = 300_000usize;
        let lonely = 280_000u32;
        let (src, dst): (Vec<u32>, Vec<u32>) =
            (0..n as u32 - 1).filter(|&a| a != lonely && a + 1 != lonely).map(|a| (a, a + 1)).unzip();
        let follows = FollowGraph::build(n, src, dst, None);
        let rule = CampRule { min_followers: 10, follows_back_all_rate: 0.9, selective_rate: 0.1 };
        let rows = account_metrics(&follows, &InteractionGraph::empty(n), &rule).rows;
        assert!(rows[..150_000].iter().all(|r| r.reciprocity.get().is_some()));
        assert!(rows[lonely as usize].reciprocity.get().is_none());

        let keys: Vec<u64> = (0..n as u64).map(|k| k * 7 + 1).collect();
        let types = AccountTypes { names: Vec::new(), by_account: vec![None; n] };
        let runtime = crate::io::runtime(1).unwrap();
        let write = |url: &str, pushes: &[usize]| {
            let out = store::open(url, &StorageOptions::default()).unwrap();
            let mut parts =
                AccountParts::start(&runtime, &out, IdType::Int64, &keys, &types, Compression::SNAPPY).unwrap();
            let mut at = 0;
            for &end in pushes.iter().chain([&n]) {
                parts.push(rows[at..end].to_vec()).unwrap();
                at = end;
            }
            let table = parts.finish().unwrap();
            assert_eq!(table.rows, n as u64);
            objects(&runtime, &out)
        };
        let whole = write("memory://whole/", &[]);
        assert_eq!(whole.len(), 2, "two parts");
        let pieces = write("memory://pieces/", &[1, 70_000, 149_999, 150_001, 299_000]);
        let names = |o: &[(String, bytes::Bytes)]| -> Vec<String> {
            o.iter().map(|(p, _)| p.rsplit('/').next().unwrap().to_string()).collect()
        };
        assert_eq!(names(&whole), names(&pieces));
        assert!(whole.iter().zip(&pieces).all(|(a, b)| a.1 == b.1));
    }
}
