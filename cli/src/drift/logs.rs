//! Streaming the prediction logs (records as docs/API.md describes them): one JSON object per line, read line by line in
//! bounded memory; a line that is not a usable log record is counted and sampled, never fatal.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::PathBuf;

/// Longest log line accepted; longer ones are skipped (and counted as malformed) without being
/// held in memory.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The log record: one definition in the core, written by the service and read here.
pub use creditscore_core::service::{InputValue, LogRecord, Num};

/// Why a line was not used, with its 1-based number.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MalformedLine {
    /// The file, when several are read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line number in its file.
    pub line: u64,
    pub reason: String,
}

/// Most malformed lines quoted in the report (all are counted).
pub const MAX_MALFORMED_EXAMPLES: usize = 10;

/// Reads lines into a reused buffer, never holding more than [`MAX_LINE_BYTES`] of one line.
pub struct LineReader<R> {
    inner: R,
    pub bytes_read: u64,
}

pub enum Line {
    Complete,
    TooLong(u64),
    End,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader { inner, bytes_read: 0 }
    }

    /// Fills `buf` with the next line (without its newline).
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Line> {
        buf.clear();
        let mut too_long: u64 = 0;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if !any {
                    return Ok(Line::End);
                }
                break;
            }
            any = true;
            let (part, used, done) = match memchr(chunk) {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if too_long > 0 || buf.len() + part.len() > MAX_LINE_BYTES {
                too_long += (buf.len() + part.len()) as u64;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if done {
                break;
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(if too_long > 0 { Line::TooLong(too_long) } else { Line::Complete })
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Parses one line (see [`LogRecord::from_json_line`]: non-finite numbers spoil only their own
/// value); `scratch` holds a rewritten copy of a line with non-finite numbers. `Err` carries the
/// reason it is malformed: not an object, not JSON, a probability outside [0, 1] or not finite,
/// or neither a scored record nor an error. The timestamp is read by the caller (an unreadable
/// one keeps the record, without a time).
pub fn parse_line<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<LogRecord<'a>, String> {
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(String::from("not a JSON object"));
    }
    let record = LogRecord::from_json_line(line, scratch).map_err(|e| e.to_string())?;
    match record.probability.clone().map(Num::finite) {
        Some(Some(p)) if !(0.0..=1.0).contains(&p) => {
            return Err(format!("probability {p} is not in [0, 1]"));
        }
        Some(None) => return Err(String::from("probability is not a finite number")),
        _ => {}
    }
    if record.error.is_none() && record.probability.is_none() && record.inputs.is_none() {
        return Err(String::from("neither a scored record (probability, inputs) nor an error"));
    }
    Ok(record)
}

pub use creditscore_core::time::{TsForm, parse_timestamp};

/// Longest key a [`CappedCounter`] keeps (bytes): hostile logs cannot make the report large.
pub const MAX_KEY_BYTES: usize = 128;

/// Counts with a cap on distinct keys (the rest pooled), so hostile logs cannot grow memory.
pub struct CappedCounter {
    pub counts: HashMap<String, u64>,
    pub other: u64,
    cap: usize,
}

impl CappedCounter {
    pub fn new(cap: usize) -> Self {
        CappedCounter { counts: HashMap::new(), other: 0, cap }
    }

    pub fn add(&mut self, key: &str) {
        let key = creditscore_core::schema::truncate(key, MAX_KEY_BYTES);
        if let Some(c) = self.counts.get_mut(key) {
            *c += 1;
        } else if self.counts.len() < self.cap {
            self.counts.insert(key.to_owned(), 1);
        } else {
            self.other += 1;
        }
    }

    /// Sorted by count, largest first.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// File names a directory given to `--logs` contributes (any depth, so that a copy of the
/// bucket's `logs/date=.../hour=.../` tree reads whole).
const LOG_FILE_SUFFIXES: [&str; 4] = [".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz"];

/// The files `--logs` names, in reading order: each file as given (`-` = standard input), and for
/// each directory every file below it whose name ends in `.ndjson`, `.ndjson.gz`, `.jsonl` or
/// `.jsonl.gz`, sorted by path (the partitioned key layout sorts by time). `Err` names a path
/// that does not exist or a directory without log files.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| (path.clone(), e))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut dirs = vec![path.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| (dir.clone(), e))? {
                let entry = entry.map_err(|e| (dir.clone(), e))?;
                let p = entry.path();
                // Directories are walked only when they are not symbolic links (no cycles).
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    dirs.push(p);
                } else if p.to_str().is_some_and(|n| LOG_FILE_SUFFIXES.iter().any(|s| n.ends_with(s)))
                    && p.is_file()
                {
                    found.push(p);
                }
            }
        }
        if found.is_empty() {
            let why = format!("no {} file in this directory", LOG_FILE_SUFFIXES.join(" / "));
            return Err((path.clone(), std::io::Error::new(ErrorKind::NotFound, why)));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Counts the bytes read from the underlying file (compressed bytes for a gzip file), for the
/// progress bar.
pub struct Counting<R> {
    inner: R,
    pub count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R> Counting<R> {
    pub fn new(inner: R, count: std::rc::Rc<std::cell::Cell<u64>>) -> Self {
        Counting { inner, count }
    }
}

/// The text of one log input: gzip (RFC 1952, several members allowed, as `cat a.gz b.gz`
/// makes; flate2) when it starts with the gzip magic bytes `1f 8b`, whatever its name; plain
/// otherwise.
pub fn decompressed<'a>(mut input: Box<dyn Read + 'a>) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = std::io::Cursor::new(magic[..got].to_vec()).chain(input);
    Ok(if magic[..got] == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, whole)))
    } else {
        Box::new(whole)
    })
}

/// The records already read, by their identity `(request_id, record_index)`, so that the
/// copies at-least-once delivery makes (and overlapping files) count once.
///
/// Memory: each key is kept as a 64-bit hash (SipHash-1-3, std's `DefaultHasher` with fixed
/// keys) - 8 bytes per unique record in a sorted array, plus a hash set of at most
/// [`SeenRecords::RECENT_MAX`] recent keys (about 9.4 MB) merged into the array when full: about
/// 90 MB for 10 million unique records, against 150-230 MB for a hash set of the same hashes and
/// several hundred MB for the keys themselves. Own code because no maintained crate offers an
/// exact set at 8 bytes per key without a rehash peak.
///
/// A hash collision would drop a unique record as a duplicate. With `n` unique records the
/// probability that any two of `n` 64-bit hashes collide is about `n^2 / 2^65`: 2.7e-6 at 10
/// million records, 2.7e-4 at 100 million.
pub struct SeenRecords {
    recent: std::collections::HashSet<u64, std::hash::BuildHasherDefault<Prehashed>>,
    sorted: Vec<u64>,
    /// [`SeenRecords::RECENT_MAX`] (smaller in tests, to exercise merges quickly).
    recent_max: usize,
}

/// The keys are hashes already: the set uses them as they are.
#[derive(Default)]
pub struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Default for SeenRecords {
    fn default() -> Self {
        SeenRecords { recent: Default::default(), sorted: Vec::new(), recent_max: Self::RECENT_MAX }
    }
}

impl SeenRecords {
    /// Most keys held in the hash set before they move to the sorted array: the capacity of a
    /// hashbrown table of 2^20 buckets (7/8 load), 9 bytes per bucket.
    pub const RECENT_MAX: usize = (1 << 20) / 8 * 7;

    /// `true` the first time a record identity is seen, `false` for a repeat.
    pub fn insert(&mut self, request_id: &str, record_index: Option<u64>) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        request_id.hash(&mut h);
        record_index.hash(&mut h);
        let key = h.finish();
        if contains_sorted(&self.sorted, key) || !self.recent.insert(key) {
            return false;
        }
        if self.recent.len() >= self.recent_max {
            self.merge();
        }
        true
    }

    /// Moves the recent keys into the sorted array: merged in place from the back, so the array
    /// grows by exactly the keys added (no second copy of it).
    fn merge(&mut self) {
        let mut new: Vec<u64> = self.recent.drain().collect();
        new.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(new.len());
        self.sorted.resize(old + new.len(), 0);
        let (mut i, mut j) = (old, new.len());
        for k in (0..self.sorted.len()).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1] > new[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = new[j - 1];
                j -= 1;
            }
        }
    }
}

/// Whether the sorted array holds `key`. The keys are uniform hashes, so interpolation search
/// finds a key in O(log log n) probes on average; after a few probes it falls back to binary
/// search, which bounds the worst case at O(log n).
fn contains_sorted(a: &[u64], key: u64) -> bool {
    let (mut lo, mut hi) = (0usize, a.len());
    for _ in 0..4 {
        if hi - lo < 16 {
            break;
        }
        let (first, last) = (a[lo], a[hi - 1]);
        if key < first || key > last {
            return false;
        }
        let span = (last - first) as u128;
        let guess = lo + ((key - first) as u128 * (hi - 1 - lo) as u128 / span.max(1)) as usize;
        match a[guess].cmp(&key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = guess + 1,
            std::cmp::Ordering::Greater => hi = guess,
        }
    }
    a[lo..hi].binary_search(&key).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_record_and_ignores_extra_fields() {
        let line = br#"{"ts":"2026-11-27T01:00:00Z","request_id":"r","record_index":0,"endpoint":"/predict","model_version":"1","threshold":0.4,"source":"api","client_id_hash":"ab","inputs":{"AMT_CREDIT":1000.5,"CODE_GENDER":"F","X":null,"Y":[1]},"warnings":[{"field":"AMT_CREDIT","code":"outside_training_range","message":"m"}],"probability":0.3,"prediction":0,"latency_us":120,"new_field":{"a":1}}"#;
        let mut scratch = Vec::new();
        let r = parse_line(line, &mut scratch).unwrap();
        let inputs = r.inputs.unwrap().0;
        assert_eq!(inputs.len(), 4);
        assert!(matches!(&inputs[0].1, InputValue::Number(v) if v.as_f64() == Some(1000.5)));
        assert!(matches!(&inputs[1].1, InputValue::Text(t) if t == "F"));
        assert!(matches!(inputs[2].1, InputValue::Null));
        assert!(matches!(&inputs[3].1, InputValue::Other(v) if v == &serde_json::json!([1])));
        assert_eq!(r.duplicate_keys, 0);
        assert_eq!(r.warnings[0].field, "AMT_CREDIT");
    }

    #[test]
    fn error_records_and_malformed_lines() {
        let mut scratch = Vec::new();
        let r = parse_line(
            br#"{"ts":"2026-11-27T01:00:00Z","error":{"code":"invalid"},"latency_us":5}"#,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(r.error.unwrap().code.as_deref(), Some("invalid"));
        for bad in [&b"{not json"[..], b"[1,2]", b"{}", br#"{"probability":"high"}"#, br#"{"probability":3}"#]
        {
            assert!(parse_line(bad, &mut scratch).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn non_finite_values_spoil_only_themselves() {
        // Python's json.dumps writes NaN, Infinity, -Infinity; 1e400 overflows f64.
        let line = br#"{"probability":0.2,"inputs":{"A":NaN,"B":Infinity,"C":-Infinity,"D":1e400,"E":"NaN, x","F":-1.5e3,"G":true}}"#;
        let mut scratch = Vec::new();
        let r = parse_line(line, &mut scratch).unwrap();
        let inputs = r.inputs.unwrap().0;
        for (name, value) in &inputs[..4] {
            assert!(matches!(value, InputValue::NonFinite), "{name}");
        }
        assert!(matches!(&inputs[4].1, InputValue::Text(t) if t == "NaN, x"));
        assert!(matches!(&inputs[5].1, InputValue::Number(v) if v.as_f64() == Some(-1500.0)));
        assert!(matches!(inputs[6].1, InputValue::Bool(true)));
        assert!(parse_line(br#"{"probability":NaN,"inputs":{}}"#, &mut scratch).is_err());
        // A line that is broken for another reason stays malformed, with serde_json's first message.
        let Err(e) = parse_line(br#"{"probability":0.2,"inputs":{"A":NaN}"#, &mut scratch) else {
            panic!("an unterminated line is malformed")
        };
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn repeated_keys_keep_the_last_value_and_are_counted() {
        let mut scratch = Vec::new();
        let r = parse_line(
            br#"{"probability":0.9,"probability":0.2,"ts":"a","ts":"b","inputs":{}}"#,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(r.probability.and_then(Num::finite), Some(0.2));
        assert_eq!(r.ts.as_deref(), Some("b"));
        assert_eq!(r.duplicate_keys, 2);
    }

    #[test]
    fn line_reader_bounds_long_lines() {
        let mut data = Vec::new();
        data.extend_from_slice(b"first\r\n");
        data.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        data.extend_from_slice(b"\nlast");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(1024, &data[..]));
        let mut buf = Vec::new();
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::Complete));
        assert_eq!(buf, b"first");
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::TooLong(_)));
        // Bounded: the buffer never holds more than one (capped) line, growth at most doubles it.
        assert!(buf.capacity() <= 2 * MAX_LINE_BYTES);
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::Complete));
        assert_eq!(buf, b"last");
        assert!(matches!(r.next_line(&mut buf).unwrap(), Line::End));
    }

    #[test]
    fn seen_records_are_exact_across_merges() {
        let mut seen = SeenRecords { recent_max: 1000, ..SeenRecords::default() };
        let n = 5 * 1000 + 10;
        for i in 0..n {
            assert!(seen.insert(&format!("req-{}", i / 3), Some(i % 3)), "{i}");
        }
        assert_eq!(seen.sorted.len(), 5 * 1000);
        assert!(seen.sorted.windows(2).all(|w| w[0] < w[1]));
        // Every key is found again, whether it sits in the sorted array or the recent set.
        for i in (0..n).step_by(7).chain(n - 5..n) {
            assert!(!seen.insert(&format!("req-{}", i / 3), Some(i % 3)), "{i}");
        }
        assert!(seen.insert("req-0", None) && !seen.insert("req-0", None));
        assert!(seen.insert(&format!("req-{}", n), Some(0)));
    }

    #[test]
    fn sorted_search_finds_every_key_and_no_other() {
        let mut keys: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        keys.extend([0, 1, u64::MAX]);
        keys.sort_unstable();
        keys.dedup();
        for &k in &keys {
            assert!(contains_sorted(&keys, k));
            assert!(!contains_sorted(&keys, k ^ 0x10) || keys.binary_search(&(k ^ 0x10)).is_ok());
        }
        assert!(!contains_sorted(&[], 7));
        // Skewed keys (not uniform) still end in a binary search.
        let skewed: Vec<u64> = (0..1000u64).map(|i| i * i * i).chain([u64::MAX]).collect();
        assert!(skewed.iter().all(|&k| contains_sorted(&skewed, k)));
        assert!(!contains_sorted(&skewed, 2));
    }

    #[test]
    fn gzip_is_read_by_its_magic_bytes() {
        use std::io::Write;
        let text = b"{\"a\":1}\n{\"b\":2}\n";
        let mut gz = Vec::new();
        for part in [&text[..8], &text[8..]] {
            // Two gzip members, as `cat a.gz b.gz` makes.
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).unwrap();
            gz.extend(enc.finish().unwrap());
        }
        for input in [&gz[..], &text[..], b"", b"{"] {
            let mut out = Vec::new();
            decompressed(Box::new(input)).unwrap().read_to_end(&mut out).unwrap();
            let want: &[u8] = if input == &gz[..] { text } else { input };
            assert_eq!(out, want);
        }
        let mut out = Vec::new();
        assert!(decompressed(Box::new(&gz[..gz.len() - 4])).unwrap().read_to_end(&mut out).is_err());
    }

    #[test]
    fn directories_expand_to_their_log_files_sorted() {
        let dir = std::env::temp_dir().join(format!("cs-drift-inputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in
            ["b/hour=01/x.ndjson", "b/hour=00/y.ndjson.gz", "a.jsonl", "c.jsonl.gz", "notes.txt", "d.json"]
        {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"").unwrap();
        }
        let got = expand_inputs(&[dir.clone(), PathBuf::from("-")]).unwrap();
        let names: Vec<String> =
            got.iter().map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string()).collect();
        assert_eq!(names, ["a.jsonl", "b/hour=00/y.ndjson.gz", "b/hour=01/x.ndjson", "c.jsonl.gz", "-"]);
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        assert!(expand_inputs(&[dir.join("empty")]).is_err());
        assert!(expand_inputs(&[dir.join("missing.jsonl")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn record_identity_is_read_leniently() {
        let mut scratch = Vec::new();
        let r = parse_line(
            br#"{"request_id":"r1","record_index":3,"probability":0.1,"inputs":{}}"#,
            &mut scratch,
        )
        .unwrap();
        assert_eq!((r.request_id.as_deref(), r.record_index), (Some("r1"), Some(3)));
        // Of another type: no identity, the record is kept.
        let r =
            parse_line(br#"{"request_id":7,"record_index":"x","probability":0.1,"inputs":{}}"#, &mut scratch)
                .unwrap();
        assert_eq!((r.request_id.as_deref(), r.record_index), (None, None));
        let r = parse_line(br#"{"request_id":"r","record_index":null,"error":{"code":"c"}}"#, &mut scratch)
            .unwrap();
        assert_eq!((r.request_id.as_deref(), r.record_index), (Some("r"), None));
    }
}
