//! The `reciprocity` command: parse, run, print the error chain once, exit with its code.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use reciprocity::config::cli::{Cli, Command, GenerateArgs, LogFormat, RunArgs};
use reciprocity::config::job::Job;
use reciprocity::output::progress::Reporter;

// Multi-GB working sets are allocated and freed stage after stage; mimalloc reuses freed
// pages instead of returning and re-faulting them (measured in docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run(args),
        Command::Generate(args) => generate(args),
        Command::Validate(args) => validate(args),
        Command::History(args) => reciprocity::run::history::history(args)
            .map(|done| {
                if args.log_format == LogFormat::Text {
                    eprint!("{}", done.summary)
                }
            })
            .map_err(Into::into),
        Command::Backfill(args) => {
            reciprocity::run::backfill::backfill(args).map(|done| eprint!("{}", done.summary())).map_err(Into::into)
        }
        Command::Report(args) => {
            reciprocity::output::report::page::report_page(&args.out, &args.brands, args.html.as_deref())
                .map(|page| eprintln!("wrote {page}"))
                .map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", reciprocity::error::one_line(error.as_ref()));
            let code = error
                .downcast_ref::<reciprocity::error::Error>()
                .map_or(reciprocity::error::ExitCode::Internal, |e| e.exit_code());
            ExitCode::from(code as u8)
        }
    }
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    let job = Job::from_args(args)?;
    let reporter = Reporter::new(job.log_format, reciprocity::new_run_id());
    let outcome = reciprocity::run(&job, &reporter)?;
    if job.log_format == LogFormat::Text {
        eprint!("{}", outcome.summary());
    }
    Ok(())
}

fn validate(args: &RunArgs) -> anyhow::Result<()> {
    let job = Job::for_validation(args)?;
    let reporter = Reporter::new(job.log_format, reciprocity::new_run_id());
    let report = reciprocity::run::validate::validate(&job, &reporter)?;
    match job.log_format {
        LogFormat::Json => println!("{}", serde_json::to_string(&report)?),
        LogFormat::Text => eprint!("{}", report.render()),
    }
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let report = reciprocity::generate::run(args).context("generate failed")?;
    eprintln!("{report}");
    Ok(())
}
