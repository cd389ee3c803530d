//! Times as text, in one home: RFC 3339 formatting of UTC times for every time string the product
//! writes (log record times and log object keys, a bundle's creation time, the drift report's
//! periods), and parsing for every time it reads (log record times, `GET /logs` bounds, the
//! `--since`/`--until` options of `drift` and `logs pull`). The core has no clock: adapters pass
//! the time in. Formatting and calendar checks are chrono 0.4's; times beyond chrono's range
//! (about ±262,000 years) are clamped to it, which no real clock or log reaches.

use alloc::string::{String, ToString};
use chrono::{DateTime, Utc};

/// `2026-11-27T01:23:45.678Z` for milliseconds since the Unix epoch (UTC, millisecond precision,
/// the layout of every log record's `ts`).
pub fn rfc3339_utc(epoch_ms: u64) -> String {
    let t = DateTime::from_timestamp_millis(i64::try_from(epoch_ms).unwrap_or(i64::MAX))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2026-11-27T01:23:45Z` for whole seconds since the Unix epoch (UTC; negative = before 1970).
pub fn rfc3339_utc_seconds(epoch_s: i64) -> String {
    let t = DateTime::from_timestamp(epoch_s, 0).unwrap_or(if epoch_s < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Epoch seconds of an RFC 3339 timestamp (`2026-11-27T01:02:03Z`; fractional seconds, dropped,
/// and `+hh:mm` offsets allowed); `None` when it is not one. Own code for the fixed layout (the
/// drift monitor reads one per log line, millions per report) with chrono's calendar check.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Some(v)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let minutes = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if sign == b'+' { minutes * 60 } else { -minutes * 60 }
        }
        _ => return None,
    };
    // chrono checks the calendar: 2026-02-30 is not a date (it must not become March 2nd).
    let midnight = chrono::NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    Some(midnight + hour * 3600 + minute * 60 + second - offset)
}

/// Milliseconds since the Unix epoch of an RFC 3339 time (chrono's RFC 3339 parser; any offset;
/// digits past milliseconds are truncated); `None` if unparseable or before 1970. The bounds and
/// record times of `GET /logs`.
pub fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    u64::try_from(t.timestamp_millis()).ok()
}

/// How a timestamp read by [`parse_timestamp`] was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsForm {
    /// RFC 3339 / ISO 8601 with a zone (`Z`, `+01:00`, `+0100`).
    Zoned,
    /// Without a zone (`2025-01-10T08:00:00.000000`, Python's `datetime.isoformat()` of a naive
    /// time, or a bare date): taken as UTC, and counted so a report can say so.
    Naive,
}

/// Epoch seconds of a log timestamp or of a `--since`/`--until` bound, as people and other tools
/// write them: RFC 3339 ([`parse_rfc3339`], the fast path), ISO 8601 with `+hhmm` offsets, a `T`
/// or a space, optional fractional seconds (dropped), no zone (UTC), or a bare date (its midnight
/// UTC). Parsing beyond the fast path is chrono's.
pub fn parse_timestamp(s: &str) -> Option<(i64, TsForm)> {
    use chrono::{NaiveDate, NaiveDateTime};
    if let Some(t) = parse_rfc3339(s) {
        return Some((t, TsForm::Zoned));
    }
    let s = s.trim();
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some((t.timestamp(), TsForm::Zoned));
        }
    }
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            let form = if naive.len() < s.len() { TsForm::Zoned } else { TsForm::Naive };
            return Some((t.and_utc().timestamp(), form));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| (t.and_utc().timestamp(), TsForm::Naive))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from Python: `datetime.fromtimestamp(s, timezone.utc).isoformat()`.
    #[test]
    fn formats_like_python_datetime() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_utc_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc_seconds(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc_seconds(1_796_083_200), "2026-12-01T00:00:00Z");
    }

    #[test]
    fn out_of_range_is_clamped_not_a_panic() {
        assert!(rfc3339_utc(u64::MAX).ends_with('Z'));
        assert!(rfc3339_utc_seconds(i64::MIN).ends_with('Z'));
        assert!(rfc3339_utc_seconds(i64::MAX).ends_with('Z'));
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-27T01:02:03.123456Z"), Some(1_795_741_323));
        assert_eq!(parse_rfc3339("2026-11-27T02:02:03+01:00"), Some(1_795_741_323));
        assert_eq!(parse_rfc3339("2026-13-27T01:02:03Z"), None);
        // Impossible calendar days are unreadable, not the next month's (Python's datetime agrees).
        assert_eq!(parse_rfc3339("2026-02-30T08:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-04-31T08:00:00Z"), None);
        assert_eq!(parse_rfc3339("2028-02-29T00:00:00Z"), Some(1_835_395_200));
        assert_eq!(parse_rfc3339("2026-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn timestamps_with_and_without_zone() {
        let utc = 1_736_496_000; // 2025-01-10T08:00:00Z
        assert_eq!(parse_timestamp("2025-01-10T08:00:00Z"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00.000000"), Some((utc, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10 08:00:00"), Some((utc, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10T09:00:00+0100"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00.5+0000"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10T03:00:00.123-05:00"), Some((utc, TsForm::Zoned)));
        assert_eq!(parse_timestamp("2025-01-10"), Some((utc - 8 * 3600, TsForm::Naive)));
        assert_eq!(parse_timestamp("2025-01-10T08:00:00ZZ"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
