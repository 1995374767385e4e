//! The library's typed errors, and the exit code each kind of failure maps to.
//!
//! Every variant names what it is about (object, column, setting) and keeps its cause, so
//! that `main` can print the whole chain once and a scheduler can branch on the exit code.

use thiserror::Error;

/// Exit codes, documented in README.md ("Exit codes"); schedulers branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Internal = 1,
    Usage = 2,
    BadInput = 3,
    Storage = 4,
    ResourceLimit = 5,
    Busy = 6,
}

#[derive(Debug, Error)]
pub enum Error {
    /// The job file, a flag or a `--set` is wrong: nothing was read.
    #[error("invalid job configuration: {0}")]
    Config(String),

    /// The job file could not be read or parsed.
    #[error("cannot read job file {path}")]
    JobFile {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A URL that cannot be turned into a store.
    #[error("invalid storage URL '{url}': {reason}")]
    Url { url: String, reason: String },

    /// The output already holds a finished run and `--overwrite` was not given.
    #[error("{out} already holds a completed run (_SUCCESS exists) of other inputs or settings; pass --overwrite to replace it")]
    OutputExists { out: String },

    /// Another run holds the lock on OUT.
    #[error("{out} is locked by {holder}; wait for it to finish, or remove {out}/_LOCK if that run is gone")]
    Locked { out: String, holder: String },

    /// This run held the lock on OUT and lost it: it stopped before writing anything further.
    #[error("lost the lock on {out} ({reason}); stopped before writing anything further")]
    LockLost { out: String, reason: String },

    /// A dataset URL that lists no Parquet objects.
    #[error(
        "dataset '{dataset}' at {url} has no Parquet objects (expected one object or a prefix of *.parquet objects)"
    )]
    EmptyDataset { dataset: String, url: String },

    /// The input is readable but wrong: schema, types, contents.
    #[error("bad input in {object}, column '{column}': {problem}")]
    Column { object: String, column: String, problem: String },

    /// The input is readable but wrong in a way not tied to one column.
    #[error("bad input in {object}: {problem}")]
    Input { object: String, problem: String },

    /// An object that is not valid Parquet (truncated, corrupt, another format).
    #[error("cannot decode Parquet object {object}")]
    Parquet {
        object: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Object storage failed (after object_store's retries).
    #[error("storage error on {object} during {operation}")]
    Storage {
        object: String,
        operation: &'static str,
        #[source]
        source: object_store::Error,
    },

    /// An input object was rewritten or removed after the run listed it: the tables would
    /// mix two snapshots of the export.
    #[error("input changed during the run: {object} is no longer the version listed at the start; rerun once the export is complete")]
    InputChanged {
        object: String,
        #[source]
        source: object_store::Error,
    },

    /// The input is too large for this run's limits.
    #[error("resource limit: {0}")]
    Resource(String),

    /// A bucketed run's local spill files failed (disk full, no permission, ...).
    #[error("spill file {path} during {operation}")]
    Spill {
        path: String,
        operation: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// The disk under the spill folder filled up.
    #[error("the spill disk is full (writing {path}); free space there, point --spill-dir at a larger disk, or pass --rescan to re-read the inputs instead of spilling")]
    SpillDiskFull {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A backfill stopped at a night that failed; its exit code is that night's.
    #[error("backfill stopped at night {date} ({done}; the same command resumes from here)")]
    Backfill {
        date: String,
        done: String,
        #[source]
        source: Box<Error>,
    },

    /// Building an output table failed; a bug, not bad input.
    #[error("internal error while {context}")]
    Internal {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes on one line, each said once: some libraries repeat their
/// source's text inside their own message, and printing the chain as is would stutter.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        let text = e.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) | Error::JobFile { .. } | Error::Url { .. } | Error::OutputExists { .. } => {
                ExitCode::Usage
            }
            Error::EmptyDataset { .. }
            | Error::Column { .. }
            | Error::Input { .. }
            | Error::Parquet { .. }
            | Error::InputChanged { .. } => ExitCode::BadInput,
            Error::Storage { source, .. } => match source {
                // A missing input object is the user's URL, not a flaky store.
                object_store::Error::NotFound { .. } => ExitCode::BadInput,
                _ => ExitCode::Storage,
            },
            Error::Resource(_) | Error::Spill { .. } | Error::SpillDiskFull { .. } => ExitCode::ResourceLimit,
            Error::Locked { .. } | Error::LockLost { .. } => ExitCode::Busy,
            Error::Internal { .. } => ExitCode::Internal,
            Error::Backfill { source, .. } => source.exit_code(),
        }
    }

    pub fn column(object: impl Into<String>, column: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Column { object: object.into(), column: column.into(), problem: problem.into() }
    }

    pub fn storage(object: impl Into<String>, operation: &'static str, source: object_store::Error) -> Self {
        Error::Storage { object: object.into(), operation, source }
    }

    pub fn internal(context: impl Into<String>, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal { context: context.into(), source: source.into() }
    }
}
