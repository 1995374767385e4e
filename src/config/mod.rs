//! Configuration: the command line and job files, turned into one validated [`job::Job`].
//!
//! Nothing below here reads data or computes: it parses, checks and fills defaults, so that
//! nothing downstream re-checks what is checked here.

pub mod cli;
pub mod job;
mod job_file;
pub mod size;
pub mod window;
