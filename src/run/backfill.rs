//! `reciprocity backfill`: a range of nights, in date order, each run through the one pipeline
//! exactly as `reciprocity run --date D` would (lock, `_SUCCESS` last, exit codes).
//!
//! A night whose OUT already holds a completed run is skipped unless `--overwrite`; the first
//! night that fails stops the backfill with that night's exit code and a line saying which
//! nights are done, so the same command run again resumes where it stopped. Each night's
//! `{prev_date}` is the night before, so a job file comparing nights compares each with the
//! last; the first night of a range with no previous night runs without the comparison.

use std::time::Instant;

use chrono::NaiveDate;
use serde_json::json;

use crate::config::cli::{BackfillArgs, HistoryArgs, LogFormat};
use crate::config::job::Job;
use crate::error::{Error, Result};
use crate::io::store;
use crate::output::folder::is_complete;
use crate::output::progress::{new_run_id, Reporter};

/// At most ten years of nights in one backfill: a typo in a year is not a 3,000-year loop.
const MAX_NIGHTS: i64 = 3660;

/// What happened to one night.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Night {
    /// Computed and published.
    Ran,
    /// OUT already held a completed run.
    Skipped,
}

/// The nights of a finished backfill, in date order.
#[derive(Debug, Clone)]
pub struct Backfilled {
    pub nights: Vec<(NaiveDate, Night)>,
    pub seconds: f64,
    /// The summary of the history run over the range, with --history.
    pub history: Option<String>,
}

/// The nights `from..=to`.
pub fn nights(from: &str, to: &str) -> Result<Vec<NaiveDate>> {
    let day = |flag: &str, text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|e| Error::Config(format!("{flag} '{text}' is not YYYY-MM-DD: {e}")))
    };
    let (first, last) = (day("--from", from)?, day("--to", to)?);
    let count = (last - first).num_days() + 1;
    if count < 1 {
        return Err(Error::Config(format!("--from {first} is after --to {last}")));
    }
    if count > MAX_NIGHTS {
        return Err(Error::Config(format!("{count} nights from {first} to {last}: at most {MAX_NIGHTS} at once")));
    }
    Ok(first.iter_days().take(count as usize).collect())
}

/// Runs every night of the range in order; stops at the first failure.
pub fn backfill(args: &BackfillArgs) -> Result<Backfilled> {
    if args.run.date.is_some() {
        return Err(Error::Config("backfill takes --from and --to, not --date".into()));
    }
    let started = Instant::now();
    let dates = nights(&args.from, &args.to)?;
    let runtime = crate::io::runtime(1).map_err(|e| Error::internal("starting the I/O runtime", e))?;
    let mut done: Vec<(NaiveDate, Night)> = Vec::with_capacity(dates.len());
    let mut last_job = None;
    for date in dates {
        let night_started = Instant::now();
        let mut night_args = args.run.clone();
        night_args.date = Some(date.to_string());
        let job = Job::from_args(&night_args).map_err(|e| stopped(date, &done, e))?;
        let reporter = Reporter::new(job.log_format, new_run_id());
        let out = store::open(&job.out, &job.storage).map_err(|e| stopped(date, &done, e))?;
        let complete = runtime.block_on(is_complete(&out)).map_err(|e| stopped(date, &done, e))?;
        let night = if complete && !job.overwrite {
            Night::Skipped
        } else {
            crate::run::run(&job, &reporter).map_err(|e| stopped(date, &done, e))?;
            Night::Ran
        };
        say_night(&reporter, date, &night, night_started.elapsed().as_secs_f64(), &job.out);
        done.push((date, night));
        last_job = Some(job);
    }
    let history = match (&args.history, last_job) {
        (Some(url), Some(job)) => Some(history_of_range(url, &job, &done)?),
        _ => None,
    };
    Ok(Backfilled { nights: done, seconds: started.elapsed().as_secs_f64(), history })
}

/// `history` over the backfilled range: ROOT is the nights' output URL up to `dt=<date>`.
fn history_of_range(url: &str, job: &Job, done: &[(NaiveDate, Night)]) -> Result<String> {
    let last = done.last().expect("a night").0;
    let root = job.out.find(&format!("dt={last}")).map(|at| job.out[..at].trim_end_matches('/').to_string());
    let root = root.ok_or_else(|| {
        Error::Config(format!("--history needs the nights' output to be .../dt={{date}}/, not {}", job.out))
    })?;
    let history = HistoryArgs {
        root,
        from: done.first().map(|n| n.0.to_string()),
        to: Some(last.to_string()),
        out: url.to_string(),
        overwrite: true,
        log_format: job.log_format,
    };
    Ok(crate::run::history::history(&history)?.summary)
}

fn say_night(reporter: &Reporter, date: NaiveDate, night: &Night, seconds: f64, out: &str) {
    let status = match night {
        Night::Ran => "done",
        Night::Skipped => "already complete, skipped",
    };
    match reporter.format() {
        LogFormat::Text => eprintln!("night {date}: {status} in {seconds:.2}s -> {out}"),
        LogFormat::Json => reporter.event(
            "backfill",
            "night_end",
            json!({ "date": date.to_string(), "status": status, "seconds": seconds, "output": out }),
        ),
    }
}

/// The error that stops a backfill at `date`, saying which nights are done.
fn stopped(date: NaiveDate, done: &[(NaiveDate, Night)], source: Error) -> Error {
    let done = match (done.first(), done.last()) {
        (Some((first, _)), Some((last, _))) => format!("{} night(s) done, {first} to {last}", done.len()),
        _ => "no night done".to_string(),
    };
    Error::Backfill { date: date.to_string(), done, source: Box::new(source) }
}

impl Backfilled {
    /// The closing line.
    pub fn summary(&self) -> String {
        let ran = self.nights.iter().filter(|(_, n)| *n == Night::Ran).count();
        let (first, last) = (self.nights.first().map(|n| n.0), self.nights.last().map(|n| n.0));
        let range = match (first, last) {
            (Some(first), Some(last)) => format!("{first} to {last}"),
            _ => String::new(),
        };
        let line = format!(
            "backfill {range}: {} nights, {ran} run, {} already complete, in {:.1}s\n",
            self.nights.len(),
            self.nights.len() - ran,
            self.seconds
        );
        line + self.history.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nights_run_in_date_order_across_month_and_leap_days() {
        let got: Vec<String> = nights("2028-02-27", "2028-03-01").unwrap().iter().map(|d| d.to_string()).collect();
        assert_eq!(got, ["2028-02-27", "2028-02-28", "2028-02-29", "2028-03-01"]);
        assert_eq!(nights("2026-11-28", "2026-11-28").unwrap().len(), 1);
        assert!(nights("2026-11-29", "2026-11-28").is_err());
        assert!(nights("2026-11-28", "9026-11-28").is_err(), "a typo in a year is refused");
        assert!(nights("2026-13-01", "2026-12-01").is_err());
    }
}
