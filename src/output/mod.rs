//! Output: what a run computed, turned into the output folder's objects and the words a
//! person reads.
//!
//! `computed` is the hand-over from every execution; `tables` and `account_parts` make the
//! Parquet tables, `manifest` the record of the run, `folder` the output folder's object
//! names and the order they are written in, `publish` does all of it in that order;
//! `summary` and `report` are the text and the HTML page; `progress` logs stages, bars and
//! events as the run goes.

pub mod account_parts;
pub mod computed;
pub mod folder;
pub mod history_tables;
pub mod manifest;
pub mod progress;
pub mod publish;
pub mod report;
pub mod summary;
pub mod tables;
