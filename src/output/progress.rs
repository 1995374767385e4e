//! What a run tells the person or scheduler watching it: stages, progress, warnings.
//!
//! Text mode draws progress bars on a terminal (hidden otherwise) and leaves the end-of-run
//! summary to `summary.rs`; JSON mode writes one object per line on stderr with the run id,
//! stage, counts and durations. Every stage's duration is kept for the manifest.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::cli::LogFormat;

/// How long one stage took.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
}

pub struct Reporter {
    format: LogFormat,
    run_id: String,
    draw_bars: bool,
    timings: Mutex<Vec<StageTime>>,
    warnings: Mutex<Vec<String>>,
}

impl Reporter {
    pub fn new(format: LogFormat, run_id: String) -> Reporter {
        Reporter {
            draw_bars: format == LogFormat::Text && std::io::stderr().is_terminal(),
            format,
            run_id,
            timings: Mutex::default(),
            warnings: Mutex::default(),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Runs one stage, timing it; `detail` describes the result for the log.
    pub fn stage<T, E>(
        &self,
        name: &str,
        work: impl FnOnce() -> Result<T, E>,
        detail: impl FnOnce(&T) -> Value,
    ) -> Result<T, E> {
        let spinner = self.spinner(name);
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        spinner.finish_and_clear();
        let value = result?;
        self.timings.lock().expect("timings").push(StageTime { stage: name.to_string(), seconds });
        self.json_line("info", name, "stage_end", json!({ "seconds": seconds, "detail": detail(&value) }));
        Ok(value)
    }

    /// A progress bar over `total` units (hidden unless text mode on a terminal).
    pub fn bar(&self, message: &str, total: u64) -> ProgressBar {
        self.bar_of(message, total, "rows")
    }

    /// A progress bar over `total` of some `unit` (hidden unless text mode on a terminal).
    pub fn bar_of(&self, message: &str, total: u64, unit: &str) -> ProgressBar {
        if !self.draw_bars {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let template = format!("{{msg:>12}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{eta}})");
        bar.set_style(ProgressStyle::with_template(&template).expect("valid template").progress_chars("=> "));
        bar.set_message(message.to_string());
        bar
    }

    fn spinner(&self, name: &str) -> ProgressBar {
        if !self.draw_bars {
            return ProgressBar::hidden();
        }
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"));
        spinner.set_message(name.to_string());
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner
    }

    /// Something the user should know that does not stop the run.
    pub fn warn(&self, message: String) {
        match self.format {
            LogFormat::Text => eprintln!("warning: {message}"),
            LogFormat::Json => self.json_line("warn", "run", "warning", json!({ "message": message })),
        }
        self.warnings.lock().expect("warnings").push(message);
    }

    /// A JSON-mode event (text mode prints nothing for it).
    pub fn event(&self, stage: &str, event: &str, fields: Value) {
        self.json_line("info", stage, event, fields);
    }

    fn json_line(&self, level: &str, stage: &str, event: &str, fields: Value) {
        if self.format != LogFormat::Json {
            return;
        }
        let mut line = json!({
            "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": level,
            "run_id": self.run_id,
            "stage": stage,
            "event": event,
        });
        if let (Value::Object(line), Value::Object(fields)) = (&mut line, fields) {
            line.extend(fields);
        }
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }

    pub fn timings(&self) -> Vec<StageTime> {
        self.timings.lock().expect("timings").clone()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().expect("warnings").clone()
    }
}

/// An id for this run's log lines and manifest (not part of any result).
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    format!("{}-{:x}", now.format("%Y%m%dT%H%M%S"), std::process::id())
}
