//! The threads of one run: a rayon pool for the kernels and a tokio runtime for storage.

use crate::config::job::Job;
use crate::error::{Error, Result};

/// A run's compute threads and I/O runtime, sized by `run.threads` (default: every core).
pub struct Workers {
    pub pool: rayon::ThreadPool,
    pub runtime: tokio::runtime::Runtime,
    /// Row groups decoded or objects fetched at once.
    pub concurrency: usize,
}

impl Workers {
    pub fn new(job: &Job) -> Result<Workers> {
        let threads = job.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::internal("starting the compute threads", e))?;
        let runtime = crate::io::runtime(threads).map_err(|e| Error::internal("starting the I/O runtime", e))?;
        Ok(Workers { pool, runtime, concurrency: threads * 2 })
    }
}
