//! RFC 3339 formatting of UTC times: the one home for every time string the product writes (log
//! record times and log object keys, a bundle's creation time, the drift report's periods). The
//! core has no clock: adapters pass the time in. Formatting is chrono 0.4's; times beyond chrono's
//! range (about ±262,000 years) are clamped to it, which no real clock or log reaches.

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
}
