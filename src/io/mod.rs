//! The I/O edge: object storage, Parquet in and out, spill files and the output lock, on a
//! tokio runtime of its own.
//!
//! Everything async lives below this module; the rest of the crate is synchronous. Nothing
//! here knows the job: callers say which objects, columns and options.

pub mod dataset;
pub mod decode;
pub mod inputs;
pub mod landing;
pub mod leased_store;
pub mod lock;
pub mod object_reader;
pub mod process;
pub mod spill;
pub mod store;
pub mod stream;
pub mod table_reader;
pub mod write;

/// A runtime for storage I/O and Parquet decoding, with `threads` workers.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("reciprocity-io")
        .enable_all()
        .build()
}
