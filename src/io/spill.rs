//! Spill files of a bucketed run: rows routed to their bucket on local disk, then read back
//! one bucket at a time.
//!
//! Each (stream, bucket) is one file of fixed-width little-endian records: (own account's
//! local id u32, other account's dense id u32) and, for follows, created_at i64. Fixed width
//! keeps writing a memcpy and reading a parallel decode; nothing is sorted on disk, as the
//! bucket's graph builder groups rows itself. A bucket's files are deleted as soon as they
//! have been read, and the whole folder when the run ends, however it ends.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::compute::buckets::Buckets;
use crate::compute::routing::{route as route_edges, End};
use crate::error::{Error, Result};
use crate::io::process::ProcessId;

/// What a spill file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Follows made by the bucket's accounts, with created_at.
    FollowsOut,
    /// Follows received by the bucket's accounts, with created_at.
    FollowsIn,
    /// Events sent by the bucket's accounts.
    EventsOut,
    /// Events received by the bucket's accounts.
    EventsIn,
    /// The previous night's follows made by the bucket's accounts.
    PreviousOut,
    /// The previous night's follows received by the bucket's accounts.
    PreviousIn,
}

const STREAMS: [Stream; 6] = [
    Stream::FollowsOut,
    Stream::FollowsIn,
    Stream::EventsOut,
    Stream::EventsIn,
    Stream::PreviousOut,
    Stream::PreviousIn,
];

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::FollowsOut => "follows-out",
            Stream::FollowsIn => "follows-in",
            Stream::EventsOut => "events-out",
            Stream::EventsIn => "events-in",
            Stream::PreviousOut => "previous-out",
            Stream::PreviousIn => "previous-in",
        }
    }

    fn index(self) -> usize {
        STREAMS.iter().position(|&s| s == self).expect("every stream is listed")
    }
}

const WRITE_BUFFER: usize = 128 << 10;
const PREFIX: &str = "reciprocity-spill-";
/// The file in a spill folder naming the process that owns it.
const OWNER: &str = "owner.json";

/// Removes `parent`'s spill folders whose owner is gone; best effort, as a leftover costs
/// only disk. Folders without an owner file, or of live or unknown processes, are kept.
fn remove_abandoned(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .map(|e| e.path())
        .filter(|dir| {
            let owner = std::fs::read(dir.join(OWNER)).ok();
            owner.and_then(|o| serde_json::from_slice::<ProcessId>(&o).ok()).is_some_and(|o| o.is_gone())
        })
        .filter(|dir| std::fs::remove_dir_all(dir).is_ok())
        .collect()
}

/// The spill folder of one run.
pub struct Spill {
    dir: PathBuf,
    buckets: usize,
    writers: Vec<Option<BufWriter<File>>>,
    bytes: u64,
}

fn spill_error<'a>(path: &'a Path, operation: &'static str) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| match source.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            Error::SpillDiskFull { path: path.display().to_string(), source }
        }
        _ => Error::Spill { path: path.display().to_string(), operation, source },
    }
}

impl Spill {
    /// Creates `parent/reciprocity-spill-<run_id>` for `buckets` buckets, naming this process
    /// its owner; removes the folders there of runs whose process is gone (a crashed run
    /// cannot remove its own). Returns the spill and the folders removed.
    pub fn create(parent: &Path, run_id: &str, buckets: usize) -> Result<(Spill, Vec<PathBuf>)> {
        let removed = remove_abandoned(parent);
        let dir = parent.join(format!("{PREFIX}{run_id}"));
        std::fs::create_dir_all(&dir).map_err(spill_error(&dir, "creating the spill folder"))?;
        let owner = serde_json::to_vec(&ProcessId::me()).expect("a process id serializes");
        let owner_file = dir.join(OWNER);
        std::fs::write(&owner_file, owner).map_err(spill_error(&owner_file, "creating"))?;
        let writers = (0..STREAMS.len() * buckets).map(|_| None).collect();
        Ok((Spill { dir, buckets, writers, bytes: 0 }, removed))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn path(&self, stream: Stream, bucket: usize) -> PathBuf {
        self.dir.join(format!("{}-{bucket:05}.bin", stream.name()))
    }

    /// A bucket's file, created on first use.
    fn open(&mut self, stream: Stream, bucket: usize) -> Result<&mut BufWriter<File>> {
        let slot = stream.index() * self.buckets + bucket;
        if self.writers[slot].is_none() {
            let path = self.path(stream, bucket);
            let file = File::create(&path).map_err(spill_error(&path, "creating"))?;
            self.writers[slot] = Some(BufWriter::with_capacity(WRITE_BUFFER, file));
        }
        Ok(self.writers[slot].as_mut().expect("opened above"))
    }

    /// Flushes and closes every file: the spill is complete.
    pub fn finish_writing(&mut self) -> Result<()> {
        for slot in 0..self.writers.len() {
            if let Some(mut writer) = self.writers[slot].take() {
                let path = self.path(STREAMS[slot / self.buckets], slot % self.buckets);
                writer.flush().map_err(spill_error(&path, "writing"))?;
            }
        }
        Ok(())
    }

    /// Reads a bucket's file and deletes it; empty if nothing was spilled there.
    fn take(&self, stream: Stream, bucket: usize) -> Result<Vec<u8>> {
        let path = self.path(stream, bucket);
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut file) => {
                file.read_to_end(&mut bytes).map_err(spill_error(&path, "reading"))?;
                std::fs::remove_file(&path).map_err(spill_error(&path, "removing"))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(spill_error(&path, "opening")(e)),
        }
        Ok(bytes)
    }

    /// A bucket's (own, other) records.
    pub fn take_pairs(&self, stream: Stream, bucket: usize) -> Result<(Vec<u32>, Vec<u32>)> {
        let bytes = self.take(stream, bucket)?;
        Ok(decode_pairs(&bytes))
    }

    /// A bucket's (own, other, created_at) records.
    pub fn take_timed(&self, stream: Stream, bucket: usize) -> Result<(Vec<u32>, Vec<u32>, Vec<i64>)> {
        let bytes = self.take(stream, bucket)?;
        Ok(decode_timed(&bytes))
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.writers.clear();
        // Best effort: a leftover folder in a temp dir is not worth failing a finished run.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Appends one (own, other) record.
#[inline]
pub fn encode_pair(out: &mut Vec<u8>, own: u32, other: u32) {
    out.extend_from_slice(&own.to_le_bytes());
    out.extend_from_slice(&other.to_le_bytes());
}

/// Appends one (own, other, created_at) record.
#[inline]
pub fn encode_timed(out: &mut Vec<u8>, own: u32, other: u32, created: i64) {
    encode_pair(out, own, other);
    out.extend_from_slice(&created.to_le_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn decode_pairs(bytes: &[u8]) -> (Vec<u32>, Vec<u32>) {
    bytes.par_chunks_exact(8).map(|r| (u32_at(r, 0), u32_at(r, 4))).unzip()
}

fn decode_timed(bytes: &[u8]) -> (Vec<u32>, Vec<u32>, Vec<i64>) {
    let (own, rest): (Vec<u32>, Vec<(u32, i64)>) = bytes
        .par_chunks_exact(16)
        .map(|r| (u32_at(r, 0), (u32_at(r, 4), i64::from_le_bytes(r[8..16].try_into().expect("8 bytes")))))
        .unzip();
    let (other, created) = rest.into_par_iter().unzip();
    (own, other, created)
}

/// Rows of one chunk per bucket, encoded: for each edge a→b, a record under a's bucket
/// (a local, b) and one under b's bucket (b local, a).
pub struct Routed {
    pub out: Vec<Vec<u8>>,
    pub inward: Vec<Vec<u8>>,
}

/// Routes a chunk of dense edge rows to both ends' buckets (`compute/routing.rs`), in
/// parallel parts whose order is kept (files hold rows in input order, so runs repeat byte
/// for byte on disk too).
pub fn route(buckets: &Buckets, src: &[u32], dst: &[u32], created: Option<&[i64]>) -> Vec<Routed> {
    const PART: usize = 1 << 16;
    let k = buckets.count();
    let record = if created.is_some() { 16 } else { 8 };
    let starts: Vec<u32> = (0..k).map(|b| buckets.start(b) as u32).collect();
    src.par_chunks(PART)
        .zip(dst.par_chunks(PART))
        .enumerate()
        .map(|(part, (src, dst))| {
            let mut routed = Routed { out: vec![Vec::new(); k], inward: vec![Vec::new(); k] };
            let reserve = record * src.len() / k + record;
            for v in routed.out.iter_mut().chain(routed.inward.iter_mut()) {
                v.reserve(reserve);
            }
            let place = |a: u32| {
                let bucket = buckets.of(a);
                Some((bucket, a - starts[bucket]))
            };
            route_edges(src, dst, place, |end, bucket, local, i| {
                let (other, records) = match end {
                    End::Source => (dst[i], &mut routed.out[bucket]),
                    End::Target => (src[i], &mut routed.inward[bucket]),
                };
                match created {
                    Some(t) => encode_timed(records, local, other, t[part * PART + i]),
                    None => encode_pair(records, local, other),
                }
            });
            routed
        })
        .collect()
}

impl Spill {
    /// Appends routed chunks: `out` records to the `out` stream, `inward` ones to `inward`.
    /// Files are written in parallel, one bucket's file per task, parts in order.
    pub fn append_routed(&mut self, out: Stream, inward: Stream, parts: &[Routed]) -> Result<()> {
        assert_ne!(out, inward, "two streams");
        crate::fault::write("spill_write").map_err(spill_error(&self.dir, "writing"))?;
        let k = self.buckets;
        for bucket in 0..k {
            if parts.iter().any(|p| !p.out[bucket].is_empty()) {
                self.open(out, bucket)?;
            }
            if parts.iter().any(|p| !p.inward[bucket].is_empty()) {
                self.open(inward, bucket)?;
            }
        }
        let paths: Vec<(PathBuf, PathBuf)> = (0..k).map(|b| (self.path(out, b), self.path(inward, b))).collect();
        let (first, second) = (out.index().min(inward.index()), out.index().max(inward.index()));
        let (low, high) = self.writers.split_at_mut(second * k);
        let (a, b) = (&mut low[first * k..(first + 1) * k], &mut high[..k]);
        let (out_writers, in_writers) = if out.index() < inward.index() { (a, b) } else { (b, a) };
        let written: u64 = out_writers
            .par_iter_mut()
            .zip(in_writers.par_iter_mut())
            .enumerate()
            .map(|(bucket, (o, i))| -> Result<u64> {
                let mut bytes = 0;
                for part in parts {
                    for (writer, records, path) in [
                        (&mut *o, &part.out[bucket], &paths[bucket].0),
                        (&mut *i, &part.inward[bucket], &paths[bucket].1),
                    ] {
                        if let Some(w) = writer.as_mut().filter(|_| !records.is_empty()) {
                            w.write_all(records).map_err(spill_error(path, "writing"))?;
                            bytes += records.len() as u64;
                        }
                    }
                }
                Ok(bytes)
            })
            .sum::<Result<u64>>()?;
        self.bytes += written;
        crate::fault::point("mid_spill");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_per_bucket_and_the_folder_goes() {
        let parent = tempfile::tempdir().unwrap();
        let (mut spill, _) = Spill::create(parent.path(), "t", 3).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_timed(&mut a, 1, 7, -5);
        encode_timed(&mut a, 0, 9, i64::MIN);
        encode_pair(&mut b, 2, 4);
        let routed = Routed { out: vec![Vec::new(), Vec::new(), a], inward: vec![b, Vec::new(), Vec::new()] };
        spill.append_routed(Stream::FollowsOut, Stream::EventsIn, &[routed]).unwrap();
        spill.finish_writing().unwrap();
        assert_eq!(spill.bytes(), 40);
        assert_eq!(spill.take_timed(Stream::FollowsOut, 2).unwrap(), (vec![1, 0], vec![7, 9], vec![-5, i64::MIN]));
        assert_eq!(spill.take_pairs(Stream::EventsIn, 0).unwrap(), (vec![2], vec![4]));
        assert_eq!(spill.take_pairs(Stream::EventsIn, 1).unwrap(), (vec![], vec![]));
        let dir = spill.dir().to_path_buf();
        drop(spill);
        assert!(!dir.exists());
    }

    #[test]
    fn a_new_spill_removes_the_folders_of_runs_that_are_gone_and_keeps_the_rest() {
        let parent = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = ProcessId { pid: child.id(), pid_start: None, ..ProcessId::me() };
        child.wait().unwrap();
        let folder = |name: &str, owner: Option<&ProcessId>| {
            let dir = parent.path().join(format!("{PREFIX}{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            if let Some(owner) = owner {
                std::fs::write(dir.join(OWNER), serde_json::to_vec(owner).unwrap()).unwrap();
            }
            dir
        };
        let (crashed, alive, unknown) =
            (folder("crashed", Some(&dead)), folder("alive", Some(&ProcessId::me())), folder("old", None));
        let (spill, removed) = Spill::create(parent.path(), "new", 2).unwrap();
        if dead.boot_id.is_some() {
            assert_eq!(removed, vec![crashed.clone()]);
            assert!(!crashed.exists());
        }
        assert!(alive.exists() && unknown.exists() && spill.dir().exists());
    }

    #[test]
    fn each_edge_goes_to_both_ends_buckets_in_local_ids() {
        // 6 accounts in 2 buckets: 0..3 and 3..6.
        let buckets = Buckets::new(6, 2);
        let parts = route(&buckets, &[0, 4], &[5, 3], Some(&[10, 20]));
        let (mut out0, mut in1, mut out1) = (Vec::new(), Vec::new(), Vec::new());
        encode_timed(&mut out0, 0, 5, 10);
        encode_timed(&mut in1, 2, 0, 10);
        encode_timed(&mut out1, 1, 3, 20);
        encode_timed(&mut in1, 0, 4, 20);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].out, vec![out0, out1]);
        assert_eq!(parts[0].inward, vec![Vec::new(), in1]);
    }
}
