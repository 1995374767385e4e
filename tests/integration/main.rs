//! The integration tests: one binary (one link of the crate and its dependencies), a module
//! per concern, as ripgrep's are.

mod bad_input;
mod buckets;
mod cli;
mod common;
mod crash;
mod docs;
mod external;
mod follow_changes;
mod metrics_tiny;
mod nights;
mod oracle_properties;
mod realdata;
mod reliability;
mod report;
mod s3;
