//! `creditscore logs pull`: downloads the edge endpoint's prediction logs (`GET /logs`) into a
//! local JSONL file for the drift report.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use crate::CliError;

/// Largest `tail` the endpoint serves (core::service::MAX_LOG_TAIL).
const MAX_TAIL: u32 = 10_000;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: LogsCommand,
}

#[derive(Subcommand)]
enum LogsCommand {
    /// Download the newest prediction log records into a JSONL file (oldest first).
    Pull(PullArgs),
}

#[derive(ClapArgs)]
struct PullArgs {
    /// Base URL of the endpoint, e.g. http://127.0.0.1:8787 or https://creditscore.example.workers.dev
    #[arg(long)]
    url: String,
    /// The endpoint's LOGS_ACCESS_TOKEN (default: the LOGS_ACCESS_TOKEN environment variable).
    #[arg(long)]
    token: Option<String>,
    /// Output file (JSONL); written atomically.
    #[arg(long)]
    out: PathBuf,
    /// Number of newest records to fetch (1..=10000).
    #[arg(long, default_value_t = MAX_TAIL, value_parser = clap::value_parser!(u32).range(1..=MAX_TAIL as i64))]
    tail: u32,
}

#[derive(Debug)]
enum PullError {
    Http { url: String, status: u16, message: String },
    Transport { url: String, reason: String },
    BadRecord { line: usize, reason: String },
}

impl fmt::Display for PullError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullError::Http { url, status, message } => {
                let hint = match status {
                    401 => " (no token reached the server)",
                    403 => " (wrong token)",
                    503 => " (the endpoint has no LOGS_ACCESS_TOKEN or no log store)",
                    _ => "",
                };
                write!(f, "GET {url}: HTTP {status}{hint}: {message}")
            }
            PullError::Transport { url, reason } => write!(f, "GET {url}: {reason}"),
            PullError::BadRecord { line, reason } => {
                write!(f, "response line {line} is not a JSON log record: {reason}")
            }
        }
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    match args.command {
        LogsCommand::Pull(pull_args) => pull(&pull_args),
    }
}

fn pull(args: &PullArgs) -> Result<(), CliError> {
    let token = match args.token.clone().or_else(|| std::env::var("LOGS_ACCESS_TOKEN").ok()) {
        Some(t) if !t.trim().is_empty() => t,
        _ => return Err(CliError::Usage("pass --token or set LOGS_ACCESS_TOKEN".into())),
    };
    let url = format!("{}/logs?tail={}", args.url.trim_end_matches('/'), args.tail);
    let body = fetch(&url, token.trim()).map_err(|e| CliError::Other(e.to_string()))?;
    let mut records = 0usize;
    for (i, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(_)) => records += 1,
            Ok(_) => {
                let e = PullError::BadRecord { line: i + 1, reason: "not an object".into() };
                return Err(CliError::Other(e.to_string()));
            }
            Err(err) => {
                let e = PullError::BadRecord { line: i + 1, reason: err.to_string() };
                return Err(CliError::Other(e.to_string()));
            }
        }
    }
    write_atomically(&args.out, body.as_bytes())?;
    eprintln!("{records} log records written to {}", args.out.display());
    Ok(())
}

fn fetch(url: &str, token: &str) -> Result<String, PullError> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build();
    let response = agent.get(url).set("Authorization", &format!("Bearer {token}")).call();
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(status, r)) => {
            let text = r.into_string().unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or(text);
            return Err(PullError::Http { url: url.into(), status, message });
        }
        Err(e) => return Err(PullError::Transport { url: url.into(), reason: e.to_string() }),
    };
    let mut body = String::new();
    // ureq caps into_string() at 10 MB; 10,000 records can exceed it.
    response
        .into_reader()
        .take(1 << 30)
        .read_to_string(&mut body)
        .map_err(|e| PullError::Transport { url: url.into(), reason: e.to_string() })?;
    Ok(body)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let tmp = path.with_extension("partial");
    let mut file = std::fs::File::create(&tmp).map_err(CliError::io(&tmp))?;
    file.write_all(bytes).map_err(CliError::io(&tmp))?;
    file.sync_all().map_err(CliError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(CliError::io(path))
}
