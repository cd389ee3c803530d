//! Prediction logs at volume: the time-partitioned object layout, the queue message and batch
//! object formats, and reading records back by time (`GET /logs?since&until&limit&cursor`) or
//! newest first (`GET /logs?tail=N`), with duplicates (at-least-once delivery) dropped.
//!
//! Layout (docs/LOGS.md): `logs/date=YYYY-MM-DD/hour=HH/<first ts>_<id>.ndjson`, where `<id>` is
//! the request id (direct path: one object per request; a failed queue send written directly: the
//! first request of the send, one object per minute) or the batch id (queue path: one object per
//! delivered batch and minute). Every object holds only records whose `ts` lies in the minute
//! of its `<first ts>`, at or after it: a reader that lists keys in order can therefore merge
//! minute by minute and return records in exact time order. Keys written before this layout
//! (`logs/<inverted ms>_<ts>_<request id>.ndjson`, one request each) stay readable by `tail`.
//!
//! The adapter performs the I/O (listing, reading, writing); everything decided about keys,
//! record order, duplicates and cursors is here, so that it is unit-tested natively.

use crate::time::parse_rfc3339_ms;
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

use super::{ApiError, MAX_LOG_TAIL, NDJSON, Response, issue, rfc3339_utc};
use crate::schema::IssueCode;

/// Every partitioned key starts with this (then the date): a listing from here walks time order.
pub const PARTITIONED_PREFIX: &str = "logs/date=";
/// Most records one `GET /logs?since=..` page returns, and its default.
pub const MAX_LOG_PAGE: usize = MAX_LOG_TAIL;
/// Records per `GET /logs?since=..` page when `limit` is not given.
pub const DEFAULT_LOG_PAGE: usize = 1000;
/// Largest body of one queue message the producer sends (bytes). Cloudflare Queues accept
/// 128 KB (128,000 bytes) per message including about 100 bytes of metadata
/// (developers.cloudflare.com/queues/platform/limits); the rest is margin.
pub const MAX_QUEUE_MESSAGE_BYTES: usize = 120_000;
/// Most messages and bytes in one `sendBatch` call (same limits page: 100 messages, 256 KB).
pub const MAX_SEND_BATCH_MESSAGES: usize = 100;
pub const MAX_SEND_BATCH_BYTES: usize = 240_000;

const MINUTE_MS: u64 = 60_000;
/// Legacy keys: 9999999999999 - ms.
const LEGACY_MAX_MS: u64 = 9_999_999_999_999;
/// Latest time a key can carry (9999-12-31T23:59:59.999Z): keeps dates four digits.
const MAX_KEY_MS: u64 = 253_402_300_799_999;

/// Key of a partitioned log object whose first record has time `first_ms` (milliseconds since
/// the Unix epoch); `id` is the request id (direct path) or batch id (queue path).
pub fn partitioned_key(first_ms: u64, id: &str) -> String {
    let ts = rfc3339_utc(first_ms.min(MAX_KEY_MS));
    format!("{PARTITIONED_PREFIX}{}/hour={}/{ts}_{id}.ndjson", &ts[..10], &ts[11..13])
}

/// Listing position (R2 `startAfter`) just before every partitioned key of the minute holding
/// `ms`: a key sorts after its own `<first ts>` prefix.
fn minute_start_after(ms: u64) -> String {
    let minute = ms.min(MAX_KEY_MS) / MINUTE_MS * MINUTE_MS;
    let ts = rfc3339_utc(minute);
    format!("{PARTITIONED_PREFIX}{}/hour={}/{ts}", &ts[..10], &ts[11..13])
}

/// Time (ms) of a log object's first record, from its key, in either layout; `None` for keys
/// that are not log objects.
pub fn key_time_ms(key: &str) -> Option<u64> {
    if key.starts_with(PARTITIONED_PREFIX) {
        let name = key.rsplit('/').next()?;
        let (ts, _) = name.split_once('_')?;
        return parse_rfc3339_ms(ts);
    }
    let rest = key.strip_prefix(super::LOG_KEY_PREFIX)?;
    let digits = rest.get(..13).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    (rest.as_bytes().get(13) == Some(&b'_')).then_some(())?;
    Some(LEGACY_MAX_MS - digits.parse::<u64>().ok()?)
}

/// The minute (ms since the epoch / 60,000) whose records a log object holds.
pub fn key_minute(key: &str) -> Option<u64> {
    key_time_ms(key).map(|ms| ms / MINUTE_MS)
}

/// Splits one request's NDJSON log lines into queue message bodies of at most `max_bytes`
/// each, never cutting a line. A single line longer than `max_bytes` becomes a message of its own
/// and is reported as oversized (`true`): the adapter writes it directly instead of queueing it.
pub fn split_ndjson(ndjson: &str, max_bytes: usize) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut current = String::new();
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let needed = line.len() + 1;
        if needed > max_bytes {
            out.push((format!("{line}\n"), true));
            continue;
        }
        if current.len() + needed > max_bytes {
            out.push((core::mem::take(&mut current), false));
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.is_empty() {
        out.push((current, false));
    }
    out
}

/// Milliseconds the worker holds an isolate's log records before sending them to the queue
/// together (see [`LogCoalescer`]). Far below the consumer's own `max_batch_timeout` (seconds), so
/// it adds nothing a reader of the logs would notice.
pub const LOG_COALESCE_MS: u64 = 20;

/// Log records of an isolate's recent requests that go to the queue together.
///
/// Why: every queue send is a round trip (about 0.8 ms of workerd CPU per request under `make
/// serve`, measured by `make bench-worker`) and, on Cloudflare, a billed operation per 64 KB.
/// Concurrent requests in one isolate therefore share a send: the first request into an empty
/// buffer schedules the send [`LOG_COALESCE_MS`] later (`waitUntil`, which keeps the isolate alive
/// until it is done); the others only append. A send carries whole records, split into messages by
/// [`split_ndjson`] as before, so the consumer sees nothing new.
#[derive(Debug, Default)]
pub struct LogCoalescer {
    ndjson: String,
    first: Option<(u64, String)>,
}

/// What [`LogCoalescer::take`] hands to the sender.
#[derive(Debug, PartialEq, Eq)]
pub struct CoalescedLogs {
    /// Start of the first request in the batch (ms since the Unix epoch).
    pub first_ms: u64,
    /// Request id of the first request (names a directly written fallback object).
    pub first_id: String,
    /// The records, NDJSON, in arrival order.
    pub ndjson: String,
}

impl LogCoalescer {
    /// Appends one request's NDJSON records (started at `started_ms`, request id `request_id`).
    /// Returns `true` when the buffer was empty, i.e. when the caller must schedule the send.
    pub fn push(&mut self, ndjson: &str, started_ms: u64, request_id: &str) -> bool {
        let first = self.first.is_none();
        if first {
            self.first = Some((started_ms, request_id.into()));
        }
        self.ndjson.push_str(ndjson);
        if !ndjson.is_empty() && !ndjson.ends_with('\n') {
            self.ndjson.push('\n');
        }
        first
    }

    /// Takes every record waiting, leaving the buffer empty; `None` when nothing is waiting.
    pub fn take(&mut self) -> Option<CoalescedLogs> {
        let (first_ms, first_id) = self.first.take()?;
        Some(CoalescedLogs { first_ms, first_id, ndjson: core::mem::take(&mut self.ndjson) })
    }
}

/// Groups message bodies into `sendBatch` calls within the batch limits (count and total bytes).
pub fn send_batches(messages: Vec<String>) -> Vec<Vec<String>> {
    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let start_new = match batches.last() {
            None => true,
            Some(b) => b.len() >= MAX_SEND_BATCH_MESSAGES || bytes + m.len() > MAX_SEND_BATCH_BYTES,
        };
        if start_new {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += m.len();
        if let Some(b) = batches.last_mut() {
            b.push(m);
        }
    }
    batches
}

/// The R2 objects for one delivered queue batch: its records (NDJSON lines from every message
/// body) grouped by minute, each group sorted by (ts, request id, record index) and keyed
/// `partitioned_key(first ts, "<batch id>")`. One object per batch unless the batch spans minutes.
/// Lines without a readable `ts` go to the minute of `fallback_ms` (the delivery time) so that
/// nothing is dropped.
pub fn batch_objects<S: AsRef<str>>(bodies: &[S], batch_id: &str, fallback_ms: u64) -> Vec<(String, String)> {
    let mut records: Vec<(SortKey, &str)> = Vec::new();
    for body in bodies {
        for line in body.as_ref().lines().filter(|l| !l.trim().is_empty()) {
            let key = record_key(line).unwrap_or(SortKey {
                ms: fallback_ms,
                request_id: String::new(),
                index: None,
            });
            records.push((key, line));
        }
    }
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let mut objects: Vec<(String, String)> = Vec::new();
    let mut current_minute = None;
    for (key, line) in records {
        let minute = key.ms / MINUTE_MS;
        if current_minute != Some(minute) {
            current_minute = Some(minute);
            objects.push((partitioned_key(key.ms, batch_id), String::new()));
        }
        if let Some((_, text)) = objects.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    objects
}

/// Id of a delivered queue batch for its object keys: the first 16 hex digits of SHA-256 over
/// its message ids (sorted, newline-separated). A redelivery of the same messages writes the same
/// keys (overwriting instead of adding a copy).
pub fn batch_id<S: AsRef<str>>(message_ids: &[S]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<&str> = message_ids.iter().map(AsRef::as_ref).collect();
    ids.sort_unstable();
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Position of a record in the time order: (ts in ms, request id, record index; a failed
/// request's `null` index sorts first). Two deliveries of one record have equal keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey {
    /// The record's `ts`, in milliseconds since the Unix epoch (UTC).
    pub ms: u64,
    /// The record's `request_id`.
    pub request_id: String,
    /// The record's `record_index` (position in the request's `data` array); `None` for the
    /// one record of a failed request.
    pub index: Option<u64>,
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    request_id: Cow<'a, str>,
    #[serde(default)]
    record_index: Option<u64>,
}

/// The sort key of one NDJSON log line; `None` if the line is not a log record.
pub fn record_key(line: &str) -> Option<SortKey> {
    let head: Head<'_> = serde_json::from_str(line).ok()?;
    Some(SortKey {
        ms: parse_rfc3339_ms(&head.ts)?,
        request_id: head.request_id.into_owned(),
        index: head.record_index,
    })
}

/// An opaque `X-Next-Cursor` value: the sort key of the last record returned (`v1.<ms>.<index or
/// n>.<request id>`); the next page returns records strictly after it.
pub(super) fn encode_cursor(k: &SortKey) -> String {
    let index = k.index.map_or(String::from("n"), |i| format!("{i}"));
    format!("v1.{}.{index}.{}", k.ms, k.request_id)
}

pub(super) fn decode_cursor(s: &str) -> Option<SortKey> {
    let rest = s.strip_prefix("v1.")?;
    let (ms, rest) = rest.split_once('.')?;
    let (index, request_id) = rest.split_once('.')?;
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
    if request_id.len() > 128 || !request_id.chars().all(unreserved) {
        return None;
    }
    let index = if index == "n" { None } else { Some(index.parse().ok()?) };
    Some(SortKey { ms: ms.parse().ok()?, request_id: request_id.into(), index })
}

/// A validated `GET /logs?since&until&limit&cursor` query.
#[derive(Clone, Debug, PartialEq)]
pub struct LogQuery {
    /// Inclusive lower bound (ms); `None`: from the first record.
    pub since_ms: Option<u64>,
    /// Exclusive upper bound (ms); `None`: up to the newest record.
    pub until_ms: Option<u64>,
    /// Most records in this page (1..=[`MAX_LOG_PAGE`]).
    pub limit: usize,
    /// Records strictly after this position (from `cursor`).
    pub after: Option<SortKey>,
}

pub(super) fn parse_query(
    params: &alloc::collections::BTreeMap<String, String>,
) -> Result<Option<LogQuery>, ApiError> {
    let window = ["since", "until", "limit", "cursor"];
    if !window.iter().any(|k| params.contains_key(*k)) {
        return Ok(None);
    }
    let mut issues = Vec::new();
    if params.contains_key("tail") {
        issues.push(issue(
            "query.tail",
            IssueCode::WrongType,
            "`tail` cannot be combined with since/until/limit/cursor",
            "either tail=N (newest records) or since/until/limit/cursor (a time window, paged)",
        ));
    }
    let mut time = |name: &str| -> Option<u64> {
        let raw = params.get(name)?;
        let parsed = parse_rfc3339_ms(raw);
        if parsed.is_none() {
            issues.push(issue(
                &format!("query.{name}"),
                IssueCode::WrongType,
                format!("`{}` is not an RFC 3339 time at or after 1970", super::truncate(raw, 40)),
                "an RFC 3339 time, e.g. 2026-11-30T14:00:00Z",
            ));
        }
        parsed
    };
    let (since_ms, until_ms) = (time("since"), time("until"));
    if let (Some(s), Some(u)) = (since_ms, until_ms)
        && s > u
    {
        issues.push(issue(
            "query.since",
            IssueCode::OutOfRange,
            "`since` is later than `until`",
            "since <= until (since inclusive, until exclusive)",
        ));
    }
    let limit = match params.get("limit") {
        None => DEFAULT_LOG_PAGE,
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LOG_PAGE).contains(&n) => n,
            _ => {
                issues.push(issue(
                    "query.limit",
                    IssueCode::OutOfRange,
                    format!("`{}` is not an integer in [1, {MAX_LOG_PAGE}]", super::truncate(raw, 40)),
                    format!("an integer in [1, {MAX_LOG_PAGE}] (default {DEFAULT_LOG_PAGE})"),
                ));
                0
            }
        },
    };
    let after = match params.get("cursor") {
        None => None,
        Some(raw) => {
            let decoded = decode_cursor(raw.trim());
            if decoded.is_none() {
                issues.push(issue(
                    "query.cursor",
                    IssueCode::WrongType,
                    "not a cursor this endpoint returned",
                    "the X-Next-Cursor header of the previous page, unchanged",
                ));
            }
            decoded
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::invalid("invalid query parameter", issues));
    }
    Ok(Some(LogQuery { since_ms, until_ms, limit, after }))
}

/// One page of `GET /logs?since&until&limit&cursor`, filled minute by minute. The adapter lists
/// keys from [`LogPage::start_after`] under [`PARTITIONED_PREFIX`] in ascending order, groups
/// consecutive keys by [`key_minute`], stops at the first minute for which
/// [`LogPage::past_window`] holds, and passes each minute's object texts to
/// [`LogPage::add_minute`] until [`LogPage::is_full`]; then [`LogPage::finish`].
#[derive(Debug)]
pub struct LogPage {
    query: LogQuery,
    lines: Vec<String>,
    last: Option<SortKey>,
    duplicates: usize,
    skipped: usize,
    /// A record after the last returned one was seen.
    more: bool,
}

impl LogPage {
    /// An empty page for a parsed query (from [`Outcome::ReadWindow`](super::Outcome::ReadWindow)).
    pub fn new(query: LogQuery) -> LogPage {
        LogPage { query, lines: Vec::new(), last: None, duplicates: 0, skipped: 0, more: false }
    }

    /// The first time a record of this page can have.
    fn start_ms(&self) -> u64 {
        let since = self.query.since_ms.unwrap_or(0);
        self.query.after.as_ref().map_or(since, |a| a.ms.max(since))
    }

    /// Listing position: every key of the page's first minute sorts after it.
    pub fn start_after(&self) -> String {
        minute_start_after(self.start_ms())
    }

    /// Whether objects of `minute` (and every later one) hold only records at or after `until`.
    pub fn past_window(&self, minute: u64) -> bool {
        self.query.until_ms.is_some_and(|u| minute.saturating_mul(MINUTE_MS) >= u)
    }

    /// Whether the page holds `limit` records (the adapter can stop reading).
    pub fn is_full(&self) -> bool {
        self.lines.len() >= self.query.limit
    }

    /// Adds every record of one minute (the texts of all objects of that minute, any order).
    pub fn add_minute<S: AsRef<str>>(&mut self, objects: &[S]) {
        let start = self.start_ms();
        let mut records: Vec<(SortKey, &str)> = Vec::new();
        for text in objects {
            for line in text.as_ref().lines().filter(|l| !l.trim().is_empty()) {
                let Some(key) = record_key(line) else {
                    self.skipped += 1;
                    continue;
                };
                let in_window = key.ms >= start && self.query.until_ms.is_none_or(|u| key.ms < u);
                let after_cursor = self.query.after.as_ref().is_none_or(|a| &key > a);
                if in_window && after_cursor {
                    records.push((key, line));
                }
            }
        }
        records.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, line) in records {
            if self.last.as_ref() == Some(&key) {
                self.duplicates += 1;
                continue;
            }
            if self.is_full() {
                self.more = true;
                break;
            }
            self.lines.push(String::from(line));
            self.last = Some(key);
        }
    }

    /// The NDJSON response. `more_objects`: the listing was stopped before the end of the window
    /// (keys remain unread), so a next page may hold records.
    pub fn finish(self, more_objects: bool) -> Response {
        let next = match &self.last {
            Some(last) if self.more || (self.is_full() && more_objects) => Some(encode_cursor(last)),
            _ => None,
        };
        let mut headers = ndjson_headers(self.lines.len(), self.duplicates, self.skipped);
        if let Some(c) = next {
            headers.push(("X-Next-Cursor", c));
        }
        Response { status: 200, content_type: NDJSON, body: join_lines(&self.lines), headers }
    }
}

fn ndjson_headers(records: usize, duplicates: usize, skipped: usize) -> Vec<(&'static str, String)> {
    alloc::vec![
        ("Cache-Control", String::from("no-store")),
        ("X-Log-Records", format!("{records}")),
        ("X-Log-Duplicates", format!("{duplicates}")),
        ("X-Log-Skipped", format!("{skipped}")),
    ]
}

fn join_lines<S: AsRef<str>>(lines: &[S]) -> String {
    let mut body = String::with_capacity(lines.iter().map(|l| l.as_ref().len() + 1).sum());
    for line in lines {
        body.push_str(line.as_ref());
        body.push('\n');
    }
    body
}

/// `GET /logs?tail=N`: the newest `tail` unique records, oldest first. The adapter passes the
/// texts of log objects whole minute by whole minute, newest minute first (in either key
/// layout; see [`key_minute`]), until [`LogTail::is_full`].
#[derive(Debug)]
pub struct LogTail {
    tail: usize,
    /// Unique records so far, newest minute first, each minute sorted ascending.
    minutes: Vec<Vec<(SortKey, String)>>,
    unique: usize,
    duplicates: usize,
    skipped: usize,
}

impl LogTail {
    /// An empty tail of `tail` records (from [`Outcome::ReadLogs`](super::Outcome::ReadLogs)).
    pub fn new(tail: usize) -> LogTail {
        LogTail { tail, minutes: Vec::new(), unique: 0, duplicates: 0, skipped: 0 }
    }

    /// Whether `tail` unique records have been added (older minutes cannot change the answer).
    pub fn is_full(&self) -> bool {
        self.unique >= self.tail
    }

    /// Adds every record of one minute (the texts of all its objects, any order); minutes must
    /// come newest first. Lines that are not log records are counted as skipped, repeated
    /// records (same [`SortKey`]) as duplicates.
    pub fn add_minute<S: AsRef<str>>(&mut self, objects: &[S]) {
        let mut records: Vec<(SortKey, String)> = Vec::new();
        for text in objects {
            for line in text.as_ref().lines().filter(|l| !l.trim().is_empty()) {
                match record_key(line) {
                    Some(key) => records.push((key, String::from(line))),
                    None => self.skipped += 1,
                }
            }
        }
        records.sort_by(|a, b| a.0.cmp(&b.0));
        let before = records.len();
        records.dedup_by(|a, b| a.0 == b.0);
        self.duplicates += before - records.len();
        self.unique += records.len();
        self.minutes.push(records);
    }

    /// The NDJSON response: the newest `tail` records, oldest first, with `X-Log-Records`,
    /// `X-Log-Duplicates` and `X-Log-Skipped` headers.
    pub fn finish(self) -> Response {
        let mut lines: Vec<String> = self.minutes.into_iter().rev().flatten().map(|(_, l)| l).collect();
        let skip = lines.len().saturating_sub(self.tail);
        let lines = lines.split_off(skip);
        Response {
            status: 200,
            content_type: NDJSON,
            body: join_lines(&lines),
            headers: ndjson_headers(lines.len(), self.duplicates, self.skipped),
        }
    }
}
