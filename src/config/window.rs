//! The interaction window: absolute instants, or relative to the run's date.
//!
//! `window = "30d"` (or `--window 30d`) means `[date − 30 days, date)`, midnight UTC of the
//! run's `--date`; units are `d` (days), `w` (weeks) and `h` (hours). `window_start` and
//! `window_end` are RFC 3339 instants in which `{date}` and `{prev_date}` expand as in URLs
//! (e.g. `"{prev_date}T06:00:00Z"`). A relative window and an absolute bound in the same place
//! is an error; window settings given as flags replace the job file's entirely.

use chrono::{NaiveDate, TimeDelta};

use crate::error::{Error, Result};

/// The window settings of one place (the flags, or the job file), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowSettings {
    pub relative: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

impl WindowSettings {
    fn is_empty(&self) -> bool {
        self.relative.is_none() && self.start.is_none() && self.end.is_none()
    }
}

/// The window's bounds in ns since the epoch (each may be open), from the flags if they set
/// any window key, else from the job file.
pub fn resolve(flags: WindowSettings, file: WindowSettings, date: NaiveDate) -> Result<(Option<i64>, Option<i64>)> {
    let (chosen, place) = if flags.is_empty() { (file, "the job file") } else { (flags, "the flags") };
    match chosen.relative {
        Some(relative) if chosen.start.is_some() || chosen.end.is_some() => Err(Error::Config(format!(
            "{place} give both window = '{relative}' and window_start/window_end: use one or the other"
        ))),
        Some(relative) => {
            let end = midnight_ns(date)?;
            Ok((Some(end - length(&relative)?.num_nanoseconds().expect("checked in length")), Some(end)))
        }
        None => {
            let instant = |name: &str, text: Option<String>| {
                text.map(|t| parse_instant(name, &crate::config::job::expand_dates(&t, date)?)).transpose()
            };
            Ok((instant("window_start", chosen.start)?, instant("window_end", chosen.end)?))
        }
    }
}

/// "30d", "2w", "12h" as a duration.
fn length(text: &str) -> Result<TimeDelta> {
    let bad = || Error::Config(format!("window = '{text}' is not a length such as 30d, 2w or 12h"));
    let trimmed = text.trim();
    let split = trimmed.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let hours = match unit {
        "h" => Some(n),
        "d" => n.checked_mul(24),
        "w" => n.checked_mul(24 * 7),
        _ => None,
    }
    .filter(|&h| h > 0 && h <= 24 * 366 * 100)
    .ok_or_else(bad)?;
    Ok(TimeDelta::hours(hours))
}

fn midnight_ns(date: NaiveDate) -> Result<i64> {
    date.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
        .ok_or_else(|| Error::Config(format!("run date {date} is outside the representable range")))
}

pub(crate) fn parse_instant(name: &str, text: &str) -> Result<i64> {
    let instant = chrono::DateTime::parse_from_rfc3339(text.trim())
        .map_err(|e| Error::Config(format!("{name} '{text}' is not an RFC 3339 instant: {e}")))?;
    instant
        .timestamp_nanos_opt()
        .ok_or_else(|| Error::Config(format!("{name} '{text}' is outside the representable range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn ns(text: &str) -> i64 {
        parse_instant("t", text).unwrap()
    }

    fn relative(text: &str) -> WindowSettings {
        WindowSettings { relative: Some(text.into()), ..Default::default() }
    }

    #[test]
    fn a_relative_window_ends_at_midnight_of_the_run_date_across_month_ends_and_leap_days() {
        let none = WindowSettings::default();
        let got = resolve(relative("1d"), none.clone(), day("2026-03-01")).unwrap();
        assert_eq!(got, (Some(ns("2026-02-28T00:00:00Z")), Some(ns("2026-03-01T00:00:00Z"))));
        let leap = resolve(none.clone(), relative("2d"), day("2028-03-01")).unwrap();
        assert_eq!(leap, (Some(ns("2028-02-28T00:00:00Z")), Some(ns("2028-03-01T00:00:00Z"))), "Feb 29 is inside");
        let month = resolve(relative("30d"), none.clone(), day("2026-12-07")).unwrap();
        assert_eq!(month.0, Some(ns("2026-11-07T00:00:00Z")));
        assert_eq!(
            resolve(relative("2w"), none.clone(), day("2026-01-10")).unwrap().0,
            Some(ns("2025-12-27T00:00:00Z"))
        );
        assert_eq!(resolve(relative("12h"), none, day("2026-01-10")).unwrap().0, Some(ns("2026-01-09T12:00:00Z")));
    }

    #[test]
    fn absolute_bounds_expand_dates_and_flags_replace_the_file() {
        let file = WindowSettings {
            start: Some("{prev_date}T06:00:00Z".into()),
            end: Some("{date}T06:00:00Z".into()),
            relative: None,
        };
        let got = resolve(WindowSettings::default(), file.clone(), day("2026-03-01")).unwrap();
        assert_eq!(got, (Some(ns("2026-02-28T06:00:00Z")), Some(ns("2026-03-01T06:00:00Z"))));
        let from_flags = resolve(relative("1d"), file, day("2026-03-01")).unwrap();
        assert_eq!(from_flags.1, Some(ns("2026-03-01T00:00:00Z")), "a flag replaces the file's window");
    }

    #[test]
    fn both_kinds_in_one_place_and_bad_lengths_are_refused() {
        let both =
            WindowSettings { relative: Some("30d".into()), start: Some("2026-01-01T00:00:00Z".into()), end: None };
        let err = resolve(WindowSettings::default(), both, day("2026-03-01")).unwrap_err().to_string();
        assert!(err.contains("use one or the other"), "{err}");
        for bad in ["30", "d", "-3d", "0d", "3m", "1.5d", ""] {
            assert!(resolve(relative(bad), WindowSettings::default(), day("2026-03-01")).is_err(), "{bad}");
        }
    }
}
