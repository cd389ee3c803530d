//! `creditscore logs pull`: downloads the edge endpoint's prediction logs (`GET /logs`) into a
//! local JSONL file for the drift report: a time range page by page (following `X-Next-Cursor`,
//! resumable, duplicates of at-least-once delivery dropped), or the newest N records.

use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use crate::CliError;
use crate::input::{through_symlink, with_suffix, write_atomically};
use crate::progress::Progress;

/// Largest `tail` the endpoint serves (core::service::MAX_LOG_TAIL).
const MAX_TAIL: u32 = 10_000;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: LogsCommand,
}

#[derive(Subcommand)]
enum LogsCommand {
    /// Download prediction log records (a time range, or the newest N) into a JSONL file, oldest first.
    Pull(PullArgs),
}

#[derive(ClapArgs)]
struct PullArgs {
    /// Base URL of the endpoint, e.g. http://127.0.0.1:8787 or https://creditscore.example.workers.dev
    #[arg(long, value_parser = endpoint_url)]
    url: String,
    /// The endpoint's LOGS_ACCESS_TOKEN (default: the LOGS_ACCESS_TOKEN environment variable).
    #[arg(long)]
    token: Option<String>,
    /// Output file (JSONL, time order); written atomically. An interrupted pull keeps OUT.partial
    /// and OUT.pull-state; re-running with the same --url/--since/--until resumes there.
    #[arg(long)]
    out: PathBuf,
    /// First record time, inclusive (RFC 3339, e.g. 2026-11-01T00:00:00Z, or what `drift
    /// --since` takes: a date = its midnight UTC, ISO 8601 without a zone = UTC); default: the
    /// oldest.
    #[arg(long, conflicts_with = "tail", value_parser = query_time)]
    since: Option<String>,
    /// End time, exclusive (as --since); default: up to the newest record.
    #[arg(long, conflicts_with = "tail", value_parser = query_time)]
    until: Option<String>,
    /// Records per request (GET /logs `limit`, 1..=10000).
    #[arg(long, default_value_t = MAX_TAIL, value_parser = clap::value_parser!(u32).range(1..=MAX_TAIL as i64))]
    page_size: u32,
    /// Only the newest N records (1..=10000), in one request, instead of a paged time range.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_TAIL as i64))]
    tail: Option<u32>,
}

/// `--url` with its scheme: without one, ureq's own message ("RelativeUrlWithoutBase") does not
/// say what is missing.
fn endpoint_url(s: &str) -> Result<String, String> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(s.trim().to_owned())
    } else {
        Err(format!("start it with http:// or https:// (e.g. http://{})", s.trim()))
    }
}

/// `--since`/`--until` as sent to `GET /logs` (which takes RFC 3339): an RFC 3339 time as
/// written; the other forms `drift` accepts, as RFC 3339 UTC.
fn query_time(s: &str) -> Result<String, String> {
    if creditscore_core::time::parse_rfc3339_ms(s).is_some() {
        return Ok(s.trim().to_owned());
    }
    crate::input::time_bound(s).map(creditscore_core::time::rfc3339_utc_seconds)
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
        Some(t) if !t.trim().is_empty() => t.trim().to_owned(),
        _ => return Err(CliError::Usage("pass --token or set LOGS_ACCESS_TOKEN".into())),
    };
    let base = args.url.trim_end_matches('/');
    if let Some(tail) = args.tail {
        let url = format!("{base}/logs?tail={tail}");
        let page = fetch(&url, &token).map_err(|e| CliError::Other(e.to_string()))?;
        let records = check_records(&page.body)?;
        write_atomically(&args.out, page.body.as_bytes())?;
        eprintln!(
            "{records} log records written to {} ({} duplicates dropped)",
            args.out.display(),
            page.duplicates
        );
        return Ok(());
    }
    paged_pull(args, base, &token)
}

/// What an interrupted pull left: the query it was for, the cursor of the next page and how many
/// bytes of OUT.partial hold whole pages (a page appended after the last state write is cut off
/// and fetched again).
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct PullState {
    url: String,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    bytes: u64,
    records: u64,
    duplicates: u64,
}

fn paged_pull(args: &PullArgs, base: &str, token: &str) -> Result<(), CliError> {
    // OUT a symbolic link: the pull (its partial file, its state, the final rename) goes to the
    // file behind it, as every result file the CLI writes.
    let out = through_symlink(&args.out);
    let partial = with_suffix(&out, ".partial");
    let state_path = with_suffix(&out, ".pull-state");
    let fresh = PullState {
        url: base.to_owned(),
        since: args.since.clone(),
        until: args.until.clone(),
        cursor: None,
        bytes: 0,
        records: 0,
        duplicates: 0,
    };
    let mut state =
        match std::fs::read(&state_path).ok().and_then(|b| serde_json::from_slice::<PullState>(&b).ok()) {
            Some(s)
                if (&s.url, &s.since, &s.until) == (&fresh.url, &fresh.since, &fresh.until)
                    && partial.exists() =>
            {
                s
            }
            _ => fresh,
        };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&partial)
        .map_err(CliError::io(&partial))?;
    file.set_len(state.bytes).map_err(CliError::io(&partial))?;
    // Duplicates share their record's time, so only records of the newest time need remembering.
    let mut recent = RecentKeys::default();
    if state.bytes > 0 {
        eprintln!("resuming: {} records already in {}", state.records, partial.display());
        let reader = std::io::BufReader::new(&file);
        for line in std::io::BufRead::lines(reader) {
            let line = line.map_err(CliError::io(&partial))?;
            recent.insert(&line);
        }
    }
    file.seek(SeekFrom::End(0)).map_err(CliError::io(&partial))?;
    let mut progress = Progress::new("log records pulled");
    loop {
        let mut url = format!("{base}/logs?limit={}", args.page_size);
        for (name, value) in [("since", &args.since), ("until", &args.until), ("cursor", &state.cursor)] {
            if let Some(v) = value {
                url.push_str(&format!("&{name}={}", encode(v)));
            }
        }
        let page = fetch(&url, token).map_err(|e| CliError::Other(e.to_string())).and_then(|page| {
            check_records(&page.body)?;
            Ok(page)
        });
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                // Nothing pulled yet: leave no empty OUT.partial / OUT.pull-state behind.
                if state.bytes == 0 {
                    drop(file);
                    let _ = std::fs::remove_file(&partial);
                    let _ = std::fs::remove_file(&state_path);
                }
                return Err(e);
            }
        };
        let mut kept = String::with_capacity(page.body.len());
        for line in page.body.lines().filter(|l| !l.trim().is_empty()) {
            if recent.insert(line) {
                kept.push_str(line);
                kept.push('\n');
                state.records += 1;
            } else {
                state.duplicates += 1;
            }
        }
        state.duplicates += page.duplicates;
        file.write_all(kept.as_bytes()).map_err(CliError::io(&partial))?;
        file.sync_data().map_err(CliError::io(&partial))?;
        state.bytes += kept.len() as u64;
        state.cursor = page.next_cursor;
        let state_json = serde_json::to_vec(&state).map_err(|e| CliError::Other(e.to_string()))?;
        write_atomically(&state_path, &state_json)?;
        progress.update(state.records, None);
        if state.cursor.is_none() {
            break;
        }
    }
    drop(file);
    std::fs::rename(&partial, &out).map_err(CliError::io(&out))?;
    let _ = std::fs::remove_file(&state_path);
    progress.finish(state.records);
    eprintln!(
        "{} log records written to {} ({} duplicates dropped)",
        state.records,
        args.out.display(),
        state.duplicates
    );
    Ok(())
}

/// Record keys (request id, record index) seen at the newest record time so far.
#[derive(Default)]
struct RecentKeys {
    ms: u64,
    keys: HashSet<(String, Option<u64>)>,
}

impl RecentKeys {
    /// `false` if the line repeats a record already kept. Lines that are not log records are kept.
    fn insert(&mut self, line: &str) -> bool {
        let Some(k) = creditscore_core::service::record_key(line) else { return true };
        if k.ms != self.ms {
            if k.ms < self.ms {
                // Out of time order (cannot happen with this server): compare within its time.
                return true;
            }
            self.ms = k.ms;
            self.keys.clear();
        }
        self.keys.insert((k.request_id, k.index))
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every non-empty line must be a JSON object; returns how many there are.
fn check_records(body: &str) -> Result<usize, CliError> {
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
    Ok(records)
}

/// One `GET /logs` response.
struct Page {
    body: String,
    next_cursor: Option<String>,
    /// Duplicates the server dropped (`X-Log-Duplicates`).
    duplicates: u64,
}

fn fetch(url: &str, token: &str) -> Result<Page, PullError> {
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
        Err(ureq::Error::Transport(t)) => {
            // ureq's Display repeats the URL, which PullError already names: kind, message, cause.
            let mut reason = t.kind().to_string();
            if let Some(message) = t.message() {
                reason.push_str(&format!(": {message}"));
            }
            if let Some(cause) = std::error::Error::source(&t) {
                reason.push_str(&format!(" ({cause})"));
            }
            return Err(PullError::Transport { url: url.into(), reason });
        }
    };
    let next_cursor = response.header("X-Next-Cursor").map(str::to_owned).filter(|c| !c.is_empty());
    let duplicates = response.header("X-Log-Duplicates").and_then(|d| d.parse().ok()).unwrap_or(0);
    let mut body = String::new();
    // ureq caps into_string() at 10 MB; 10,000 records can exceed it.
    response
        .into_reader()
        .take(1 << 30)
        .read_to_string(&mut body)
        .map_err(|e| PullError::Transport { url: url.into(), reason: e.to_string() })?;
    Ok(Page { body, next_cursor, duplicates })
}
