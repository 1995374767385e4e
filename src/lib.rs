//! `reciprocity`: who follows back, and who actually talks to whom.
//!
//! The crate's layers, each a folder, and the one direction they depend in
//! (docs/architecture.md says where a new table, input, execution or metric goes):
//!
//! ```text
//! config   the command line and job files -> one validated Job
//! run      the one pipeline: plan -> lock -> compute -> publish -> release; its executions
//!          (in memory, buckets spilled or re-read, buckets computed elsewhere) plug in
//! output   results -> tables, manifest, summary, report; the output folder's protocol
//! io       object_store, Parquet in and out, spill files, the lock (async lives here)
//! compute  pure kernels over columns: cleaning, routing, graphs, metrics
//! ```
//!
//! `run` uses `output`, `io` and `compute`; `output` uses `io` and `compute`; `io` uses
//! `compute`'s row types only; `compute` uses nothing else of the crate. `generate` writes
//! synthetic populations with `io`.

pub mod compute;
pub mod config;
pub mod error;
pub mod fault;
pub mod generate;
pub mod id_type;
pub mod io;
pub mod output;
pub mod run;

pub use output::folder::TABLES;
pub use output::progress::new_run_id;
pub use run::run;
