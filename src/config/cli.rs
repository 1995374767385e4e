//! The command line as typed by people and schedulers: raw flags, no validation beyond
//! syntax. `job.rs` turns them (plus a job file) into one validated `Job`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "reciprocity",
    version,
    about = "Who follows back, and who actually talks to whom: reciprocity and engagement metrics from Parquet follow and interaction exports.",
    after_help = "Exit codes: 0 ok, 1 internal error, 2 usage or configuration, 3 bad input, 4 storage, 5 resource limit, 6 output locked by another run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute every table of the metric contract and write it to --out.
    Run(RunArgs),
    /// Write a synthetic population (follows, interactions, accounts) as Parquet.
    Generate(GenerateArgs),
    /// Check inputs (schemas, id types, row counts, what cleaning would drop) without
    /// computing metrics or writing anything: the pre-flight step of a pipeline.
    Validate(RunArgs),
    /// Render a finished run's tables as one self-contained HTML page.
    Report(ReportArgs),
    /// Run a range of nights in date order, as `run --date D` would each: skips nights
    /// already complete, stops at the first failure, resumes when run again.
    Backfill(BackfillArgs),
    /// Put the completed nights under ROOT (dt=YYYY-MM-DD/ outputs) together: population and
    /// brand histories, brand growth, tie survival, and whether following back pays.
    History(HistoryArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The folder holding the nights' dt=YYYY-MM-DD/ outputs (a URL or a path).
    pub root: String,
    /// The first night to read (YYYY-MM-DD; default: the first there is).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// The last night to read (YYYY-MM-DD; default: the last there is).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Where the history's tables go.
    #[arg(long, value_name = "URL")]
    pub out: String,
    /// Replace a completed history at --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Text (a summary) or JSON lines on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The first night (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: String,
    /// The last night (YYYY-MM-DD), included.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: String,
    /// Then run `history` over the range's nights (the output's dt={date}/ folders) into URL,
    /// replacing what it held.
    #[arg(long, value_name = "URL")]
    pub history: Option<String>,
    /// Every flag of `run` but --date; --overwrite recomputes nights already complete.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Progress bars on a terminal, a human summary at the end.
    Text,
    /// One JSON object per line on stderr (run id, stage, counts, durations).
    Json,
}

/// How the result tables are compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableCompression {
    /// Fast to write and read, and what most Parquet writers (Spark, DuckDB, pyarrow) use.
    #[default]
    Snappy,
    /// Level 1: about two thirds of snappy's bytes, slower to write.
    Zstd,
    /// LZ4_RAW: fast; readers older than parquet-format 2.9 cannot read it.
    Lz4,
    /// Uncompressed.
    None,
}

impl TableCompression {
    /// The Parquet codec.
    pub fn codec(self) -> parquet::basic::Compression {
        use parquet::basic::{Compression, ZstdLevel};
        match self {
            TableCompression::Snappy => Compression::SNAPPY,
            TableCompression::Zstd => Compression::ZSTD(ZstdLevel::try_new(1).expect("a valid level")),
            TableCompression::Lz4 => Compression::LZ4_RAW,
            TableCompression::None => Compression::UNCOMPRESSED,
        }
    }

    /// Its name in job files and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            TableCompression::Snappy => "snappy",
            TableCompression::Zstd => "zstd",
            TableCompression::Lz4 => "lz4",
            TableCompression::None => "none",
        }
    }
}

#[derive(Debug, Default, Clone, Args)]
pub struct RunArgs {
    /// A job file (TOML); flags given here override its values.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// The run date that replaces {date} in URLs (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Override one job-file value, e.g. --set parameters.min_followers=20 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Follow edges: one Parquet object or a prefix of *.parquet objects.
    #[arg(long, value_name = "URL")]
    pub follows: Option<String>,
    /// Interaction events (replies, mentions, likes, reposts).
    #[arg(long, value_name = "URL")]
    pub interactions: Option<String>,
    /// The previous night's follows: adds the follow_changes table and population diff columns.
    #[arg(long, value_name = "URL")]
    pub previous_follows: Option<String>,
    /// Accounts with their type (`brand` marks a brand).
    #[arg(long, value_name = "URL")]
    pub accounts: Option<String>,
    /// Where the result tables go.
    #[arg(long, value_name = "URL")]
    pub out: Option<String>,

    /// Accounts with fewer followers are in camp `insufficient` [default: 10].
    #[arg(long, value_name = "N")]
    pub min_followers: Option<u64>,
    /// Only interactions of the last LENGTH before midnight UTC of --date count, e.g. 30d
    /// (units d, w, h); not with --window-start/--window-end.
    #[arg(long, value_name = "LENGTH")]
    pub window: Option<String>,
    /// Only interactions at or after this instant count (RFC 3339; {date} and {prev_date} expand).
    #[arg(long, value_name = "RFC3339")]
    pub window_start: Option<String>,
    /// Only interactions before this instant count (RFC 3339; {date} and {prev_date} expand).
    #[arg(long, value_name = "RFC3339")]
    pub window_end: Option<String>,
    /// Extra brand ids, comma-separated, added to accounts typed `brand`.
    #[arg(long, value_name = "ID,ID,...", value_delimiter = ',')]
    pub brands: Vec<String>,
    /// brand_audience's 2-hop reach: `exact` (column reach_2hop), or `estimate` (column
    /// reach_2hop_est, within 2% at 95% confidence, several times faster) [default: exact].
    #[arg(long, value_name = "MODE")]
    pub reach_2hop: Option<String>,
    /// Worker threads for computation [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace a completed run in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Also write OUT/report.html (the page `reciprocity report` renders).
    #[arg(long)]
    pub report: bool,
    /// How the result tables are compressed [default: snappy].
    #[arg(long, value_enum)]
    pub compression: Option<TableCompression>,
    /// How progress and the end-of-run report are written to stderr [default: text].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Memory the run may use (e.g. 16GiB); a run expected to need more is computed in
    /// buckets spilled to --spill-dir [default: 80% of the machine's memory].
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Compute in K buckets of accounts, one after another, spilled to --spill-dir
    /// (out of core) [default: in memory, or as many buckets as --memory-limit needs].
    #[arg(long, value_name = "K")]
    pub buckets: Option<usize>,
    /// Local folder for a bucketed run's spill files [default: the system's temp dir].
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// A bucketed run reads the inputs again for every bucket instead of spilling them to
    /// --spill-dir: no local disk needed, K reads of the inputs instead of one.
    #[arg(long)]
    pub rescan: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write follows/, interactions/ and accounts/.
    #[arg(long, value_name = "URL")]
    pub out: String,
    /// Number of accounts (not with --evolve-from, which keeps the population's accounts).
    #[arg(long, value_name = "N", required_unless_present = "evolve_from")]
    pub accounts: Option<u64>,
    /// Write the next night of the population at this URL instead: new follows and
    /// follow-backs, unfollows (one-way ties more often than mutual ones), a few mass unfollowers.
    #[arg(long, value_name = "URL", conflicts_with = "accounts")]
    pub evolve_from: Option<String>,
    /// Mean number of accounts each account follows.
    #[arg(long, value_name = "MEAN", default_value_t = 35.0)]
    pub following: f64,
    /// Mean number of interaction events each account sends.
    #[arg(long, value_name = "MEAN", default_value_t = 20.0)]
    pub interactions: f64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Parquet objects per dataset [default: 8, fewer for small populations].
    #[arg(long, value_name = "N")]
    pub files: Option<usize>,
    /// Replace existing files under --out.
    #[arg(long)]
    pub overwrite: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A finished run's output (it must hold _SUCCESS).
    #[arg(value_name = "OUT")]
    pub out: String,
    /// Give these brands pages (repeatable) [default: the 20 with most followers].
    #[arg(long = "brand", value_name = "ID")]
    pub brands: Vec<String>,
    /// Where to write the page [default: OUT/report.html].
    #[arg(long, value_name = "FILE")]
    pub html: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
