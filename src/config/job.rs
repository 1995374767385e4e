//! One fully validated [`Job`] from a job file, `--set` overrides and flags.
//!
//! Precedence: flags, then `--set key=value`, then the job file, then defaults. Unknown keys
//! are errors. `{date}` and `{prev_date}` in URLs expand from `--date` (default: today in
//! UTC — the one place the clock is read). Nothing downstream re-checks what is checked here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

use crate::config::cli::{LogFormat, RunArgs, TableCompression};
pub use crate::config::job_file::{AccountColumns, Columns, FollowColumns, InteractionColumns};
use crate::config::job_file::{JobFile, ParameterSection, StorageSection};
use crate::config::window::{self, WindowSettings};
use crate::error::{Error, Result};
use crate::io::lock::LockTerms;
use crate::io::store::StorageOptions;

/// Metric parameters, as the contract names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub min_followers: u64,
    /// follow_back_rate at or above this: camp `follows_back_all`.
    pub follows_back_all_rate: f64,
    /// follow_back_rate at or above this (and below the one above): camp `selective`.
    pub selective_rate: f64,
    /// `[start, end)` on interactions' created_at, as ns since the Unix epoch (UTC).
    pub window_start_ns: Option<i64>,
    pub window_end_ns: Option<i64>,
    /// Ids listed as brands in addition to accounts typed `brand`.
    pub brands: Vec<i128>,
    /// Estimate brand_audience's 2-hop reach instead of counting it exactly.
    pub reach_2hop_estimate: bool,
}

/// The most buckets a run may use: each keeps six spill files open while spilling, and
/// 6 × 128 stays under the usual limit of 1,024 open files per process.
pub const MAX_BUCKETS: usize = 128;

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Job {
    pub follows: String,
    pub interactions: Option<String>,
    pub accounts: Option<String>,
    /// The previous night's follows, for follow_changes.
    pub previous_follows: Option<String>,
    /// Whether a previous night that is not there is an error (else a warning).
    pub previous_required: bool,
    pub out: String,
    pub columns: Columns,
    pub params: Params,
    pub run_date: NaiveDate,
    pub overwrite: bool,
    /// Also write OUT/report.html.
    pub report: bool,
    /// The result tables' Parquet compression.
    pub compression: TableCompression,
    pub threads: Option<usize>,
    pub log_format: LogFormat,
    pub storage: StorageOptions,
    /// Bytes a run may use; checked against the inputs' row counts before reading them.
    pub memory_limit: Option<u64>,
    /// Buckets of accounts to compute one after another (out of core); `None`: in memory
    /// unless the memory limit needs buckets.
    pub buckets: Option<usize>,
    /// Where a bucketed run spills its rows.
    pub spill_dir: PathBuf,
    /// A bucketed run re-reads the inputs for each bucket instead of spilling.
    pub rescan: bool,
    /// The lock's lease: how long it lives unrenewed, how often it is renewed.
    pub lock: LockTerms,
}

impl Job {
    /// Builds the job from flags and, if `--job` is given, the job file.
    pub fn from_args(args: &RunArgs) -> Result<Job> {
        Self::parse(args, true)
    }

    /// The job of `reciprocity validate`: the same, but no output is needed.
    pub fn for_validation(args: &RunArgs) -> Result<Job> {
        Self::parse(args, false)
    }

    fn parse(args: &RunArgs, need_out: bool) -> Result<Job> {
        let mut table = match &args.job {
            Some(path) => read_job_file(path)?,
            None => toml::Table::new(),
        };
        for assignment in &args.set {
            apply_set(&mut table, assignment)?;
        }
        let file: JobFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(e.to_string().trim().to_string()))?;
        let run_date = match &args.date {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|e| Error::Config(format!("--date '{d}' is not YYYY-MM-DD: {e}")))?,
            None => chrono::Utc::now().date_naive(),
        };
        let expand = |url: String| expand_dates(&url, run_date);

        let follows = args.follows.clone().or(file.input.follows).ok_or_else(|| {
            Error::Config("no follows input: pass --follows URL or set input.follows in the job file".into())
        })?;
        let out = match args.out.clone().or(file.output.out) {
            Some(out) => out,
            None if !need_out => String::new(),
            None => return Err(Error::Config("no output: pass --out URL or set output.out in the job file".into())),
        };
        let memory_limit = match args.memory_limit.clone().or(file.run.memory_limit) {
            Some(text) => Some(crate::config::size::parse_size(&text).ok_or_else(|| {
                Error::Config(format!("memory limit '{text}' is not a size such as 16GiB or 3000MB"))
            })?),
            None => crate::config::size::default_limit(),
        };
        let lease = seconds("run.lock_lease_s", file.run.lock_lease_s)?.unwrap_or(Duration::from_secs(120));
        let lock = LockTerms {
            lease,
            renew_every: seconds("run.lock_renew_s", file.run.lock_renew_s)?.unwrap_or(lease / 4),
            stale_without_lease: seconds("run.stale_lock_after_s", file.run.stale_lock_after_s)?
                .unwrap_or(Duration::from_secs(6 * 3600)),
        };
        if lock.renew_every.is_zero() || lock.renew_every >= lock.lease {
            return Err(Error::Config(format!(
                "run.lock_renew_s ({}s) must be more than 0 and less than run.lock_lease_s ({}s)",
                lock.renew_every.as_secs_f64(),
                lease.as_secs_f64()
            )));
        }

        let params = params(args, file.parameters, run_date)?;
        let storage = storage(file.storage)?;
        let job = Job {
            follows: expand(follows)?,
            interactions: args.interactions.clone().or(file.input.interactions).map(expand).transpose()?,
            accounts: args.accounts.clone().or(file.input.accounts).map(expand).transpose()?,
            previous_follows: args.previous_follows.clone().or(file.input.previous_follows).map(expand).transpose()?,
            previous_required: file.input.previous_required.unwrap_or(false),
            out: expand(out)?,
            columns: file.columns,
            params,
            run_date,
            overwrite: args.overwrite || file.output.overwrite.unwrap_or(false),
            report: args.report || file.output.report.unwrap_or(false),
            compression: args.compression.or(file.output.compression).unwrap_or_default(),
            threads: args.threads.or(file.run.threads),
            log_format: args.log_format.or(file.run.log_format).unwrap_or(LogFormat::Text),
            storage,
            memory_limit,
            buckets: args.buckets.or(file.run.buckets),
            spill_dir: args.spill_dir.clone().or(file.run.spill_dir).unwrap_or_else(std::env::temp_dir),
            rescan: args.rescan || file.run.rescan.unwrap_or(false),
            lock,
        };
        job.validate()?;
        Ok(job)
    }

    fn validate(&self) -> Result<()> {
        let p = &self.params;
        for (name, rate) in [("follows_back_all_rate", p.follows_back_all_rate), ("selective_rate", p.selective_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::Config(format!("parameters.{name} = {rate} is not within [0, 1]")));
            }
        }
        if p.selective_rate > p.follows_back_all_rate {
            return Err(Error::Config(format!(
                "parameters.selective_rate ({}) is above follows_back_all_rate ({})",
                p.selective_rate, p.follows_back_all_rate
            )));
        }
        if let (Some(s), Some(e)) = (p.window_start_ns, p.window_end_ns) {
            if s >= e {
                return Err(Error::Config("window_start must be before window_end".into()));
            }
        }
        if (p.window_start_ns.is_some() || p.window_end_ns.is_some()) && self.interactions.is_none() {
            return Err(Error::Config("an interaction window needs an interactions input".into()));
        }
        if self.threads == Some(0) {
            return Err(Error::Config("threads must be at least 1".into()));
        }
        if let Some(k) = self.buckets {
            if !(1..=MAX_BUCKETS).contains(&k) {
                return Err(Error::Config(format!(
                    "buckets = {k}: use 1 to {} (or leave it out to let the memory limit decide)",
                    MAX_BUCKETS
                )));
            }
        }
        Ok(())
    }
}

/// The metric parameters: flags, then the job file, then the contract's defaults.
fn params(args: &RunArgs, p: ParameterSection, run_date: NaiveDate) -> Result<Params> {
    let flags = WindowSettings {
        relative: args.window.clone(),
        start: args.window_start.clone(),
        end: args.window_end.clone(),
    };
    let file =
        WindowSettings { relative: p.window, start: p.window_start.map(value_text), end: p.window_end.map(value_text) };
    let (window_start_ns, window_end_ns) = window::resolve(flags, file, run_date)?;
    let brands =
        if args.brands.is_empty() { p.brands.into_iter().map(value_text).collect() } else { args.brands.clone() };
    Ok(Params {
        min_followers: args.min_followers.or(p.min_followers).unwrap_or(10),
        follows_back_all_rate: p.follows_back_all_rate.unwrap_or(0.9),
        selective_rate: p.selective_rate.unwrap_or(0.1),
        window_start_ns,
        window_end_ns,
        brands: brands.iter().map(|b| parse_brand_id(b)).collect::<Result<_>>()?,
        reach_2hop_estimate: match args.reach_2hop.clone().or(p.reach_2hop).as_deref() {
            None | Some("exact") => false,
            Some("estimate") => true,
            Some(other) => return Err(Error::Config(format!("reach_2hop = '{other}': use 'exact' or 'estimate'"))),
        },
    })
}

/// Storage timeouts and retries: the job file, then object_store's defaults as we set them.
fn storage(s: StorageSection) -> Result<StorageOptions> {
    let defaults = StorageOptions::default();
    Ok(StorageOptions {
        read_timeout: seconds("storage.read_timeout_s", s.read_timeout_s)?.unwrap_or(defaults.read_timeout),
        connect_timeout: seconds("storage.connect_timeout_s", s.connect_timeout_s)?.unwrap_or(defaults.connect_timeout),
        max_retries: s.max_retries.unwrap_or(defaults.max_retries),
        retry_timeout: seconds("storage.retry_timeout_s", s.retry_timeout_s)?.unwrap_or(defaults.retry_timeout),
    })
}

fn read_job_file(path: &Path) -> Result<toml::Table> {
    let job_file_error =
        |source: Box<dyn std::error::Error + Send + Sync>| Error::JobFile { path: path.display().to_string(), source };
    let text = std::fs::read_to_string(path).map_err(|e| job_file_error(e.into()))?;
    text.parse::<toml::Table>().map_err(|e| job_file_error(e.into()))
}

/// `--set a.b=value`: value is read as TOML (numbers, booleans, arrays), else as a string.
fn apply_set(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let (key, raw) =
        assignment.split_once('=').ok_or_else(|| Error::Config(format!("--set '{assignment}' is not KEY=VALUE")))?;
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.trim().split('.').collect();
    let (last, sections) = parts.split_last().expect("split yields one part");
    let mut current = table;
    for section in sections {
        current = current
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| Error::Config(format!("--set {key}: '{section}' is not a section")))?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

/// `{date}` and `{prev_date}` in `text` as YYYY-MM-DD.
pub(crate) fn expand_dates(url: &str, date: NaiveDate) -> Result<String> {
    let prev = date.pred_opt().ok_or_else(|| Error::Config("run date out of range".into()))?;
    Ok(url
        .replace("{date}", &date.format("%Y-%m-%d").to_string())
        .replace("{prev_date}", &prev.format("%Y-%m-%d").to_string()))
}

fn value_text(value: toml::Value) -> String {
    match value {
        toml::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_brand_id(text: &str) -> Result<i128> {
    text.trim().parse::<i128>().map_err(|_| Error::Config(format!("brand id '{text}' is not an integer")))
}

fn seconds(name: &str, value: Option<f64>) -> Result<Option<Duration>> {
    value
        .map(|v| Duration::try_from_secs_f64(v).map_err(|_| Error::Config(format!("{name} = {v} is not a duration"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RunArgs {
        RunArgs {
            follows: Some("f".into()),
            out: Some("o/dt={date}".into()),
            date: Some("2026-11-28".into()),
            ..Default::default()
        }
    }

    #[test]
    fn dates_expand_and_defaults_apply() {
        let job = Job::from_args(&args()).unwrap();
        assert_eq!(job.out, "o/dt=2026-11-28");
        assert_eq!(job.params.min_followers, 10);
        assert_eq!(job.params.follows_back_all_rate, 0.9);
        assert_eq!(job.columns.follows.follower_id, "follower_id");
    }

    #[test]
    fn set_overrides_and_unknown_keys_fail() {
        let mut a = args();
        a.set = vec!["parameters.min_followers=3".into(), "columns.follows.follower_id=src".into()];
        let job = Job::from_args(&a).unwrap();
        assert_eq!(job.params.min_followers, 3);
        assert_eq!(job.columns.follows.follower_id, "src");

        a.set = vec!["parameters.min_folowers=3".into()];
        let err = Job::from_args(&a).unwrap_err().to_string();
        assert!(err.contains("min_folowers"), "{err}");
    }

    #[test]
    fn flags_override_set_values() {
        let mut a = args();
        a.set = vec!["parameters.min_followers=3".into()];
        a.min_followers = Some(7);
        assert_eq!(Job::from_args(&a).unwrap().params.min_followers, 7);
    }

    #[test]
    fn bad_windows_and_rates_are_refused() {
        let mut a = args();
        a.interactions = Some("i".into());
        a.window_start = Some("2026-02-01T00:00:00Z".into());
        a.window_end = Some("2026-01-01T00:00:00Z".into());
        assert!(Job::from_args(&a).is_err());
        let mut a = args();
        a.set = vec!["parameters.selective_rate=0.95".into()];
        assert!(Job::from_args(&a).is_err());
        let mut a = args();
        a.window_start = Some("2026-02-01T00:00:00Z".into());
        assert!(Job::from_args(&a).is_err(), "a window without interactions is refused");
    }

    #[test]
    fn prev_date_expands_to_the_day_before() {
        let mut a = args();
        a.date = Some("2026-03-01".into());
        a.previous_follows = Some("s3://b/follows/dt={prev_date}/".into());
        let job = Job::from_args(&a).unwrap();
        assert_eq!(job.previous_follows.as_deref(), Some("s3://b/follows/dt=2026-02-28/"));
    }

    #[test]
    fn brand_ids_accept_wide_integers() {
        let mut a = args();
        a.brands = vec!["18446744073709551615".into(), "-4".into()];
        let job = Job::from_args(&a).unwrap();
        assert_eq!(job.params.brands, vec![u64::MAX as i128, -4]);
    }

    #[test]
    fn compression_defaults_to_snappy_and_is_set_by_file_or_flag() {
        let mut a = args();
        assert_eq!(Job::from_args(&a).unwrap().compression, TableCompression::Snappy);
        a.set = vec!["output.compression=\"zstd\"".into()];
        assert_eq!(Job::from_args(&a).unwrap().compression, TableCompression::Zstd);
        a.compression = Some(TableCompression::None);
        assert_eq!(Job::from_args(&a).unwrap().compression, TableCompression::None);
        a.compression = None;
        a.set = vec!["output.compression=\"gzip\"".into()];
        let err = Job::from_args(&a).unwrap_err().to_string();
        assert!(err.contains("gzip"), "{err}");
    }
}
