//! Fixed-memory accumulators for the operational part of the report: latency percentiles, refusal
//! and error rates over time, and the predicted-probability histogram.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

/// Relative width of a latency bucket: percentiles are exact to within this factor (2 %).
pub const LATENCY_BUCKET_GROWTH: f64 = 1.02;
const LATENCY_BUCKETS: usize = 1300; // 1.02^1300 ~ 1.6e11 us: beyond any plausible latency

/// Log-bucketed histogram of latencies in microseconds (values below 1 us share the first bucket).
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    count: u64,
    max: f64,
    sum: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram { counts: vec![0; LATENCY_BUCKETS], count: 0, max: 0.0, sum: 0.0 }
    }
}

impl LatencyHistogram {
    /// Adds one latency in microseconds; negative and non-finite values are ignored.
    pub fn push(&mut self, micros: f64) {
        if !(micros.is_finite() && micros >= 0.0) {
            return;
        }
        let bucket = if micros <= 1.0 {
            0
        } else {
            (libm::ceil(libm::log(micros) / libm::log(LATENCY_BUCKET_GROWTH)) as usize)
                .min(LATENCY_BUCKETS - 1)
        };
        self.counts[bucket] += 1;
        self.count += 1;
        self.max = self.max.max(micros);
        self.sum += micros;
    }

    /// Latencies added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact mean latency (microseconds); NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.sum / self.count as f64 }
    }

    /// Exact largest latency (microseconds); NaN when empty.
    pub fn max(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.max }
    }

    /// Upper bound of the bucket holding the q-quantile (within 2 % of the exact value).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = libm::ceil(q.clamp(0.0, 1.0) * self.count as f64).max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let upper = if i == 0 { 1.0 } else { libm::pow(LATENCY_BUCKET_GROWTH, i as f64) };
                return upper.min(self.max);
            }
        }
        self.max
    }
}

/// Log records of one time period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PeriodCounts {
    /// Records (scored ones and failed requests).
    pub records: u64,
    /// Scored records refused (prediction 1).
    pub refused: u64,
    /// Records of failed requests.
    pub errors: u64,
}

/// Most periods kept; beyond, the period doubles and neighbours merge (bounded memory whatever
/// the time span of the logs).
pub const MAX_PERIODS: usize = 4096;

/// Counts per time period (UTC epoch seconds), starting with one-minute periods.
#[derive(Clone, Debug)]
pub struct TimeSeries {
    period_seconds: i64,
    periods: BTreeMap<i64, PeriodCounts>,
}

impl Default for TimeSeries {
    fn default() -> Self {
        TimeSeries { period_seconds: 60, periods: BTreeMap::new() }
    }
}

/// One period of [`TimeSeries::periods`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Period {
    /// Start of the period, epoch seconds.
    pub start: i64,
    /// Length of the period in seconds (equal for every period of one series).
    pub seconds: i64,
    /// What happened in it.
    pub counts: PeriodCounts,
}

impl TimeSeries {
    /// Adds counts at a time (UTC epoch seconds); merges periods in pairs when more than
    /// [`MAX_PERIODS`] would be kept.
    pub fn add(&mut self, epoch_seconds: i64, records: u64, refused: u64, errors: u64) {
        let key = epoch_seconds.div_euclid(self.period_seconds);
        let entry = self.periods.entry(key).or_default();
        entry.records += records;
        entry.refused += refused;
        entry.errors += errors;
        if self.periods.len() > MAX_PERIODS {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.period_seconds = self.period_seconds.saturating_mul(2);
        let old = core::mem::take(&mut self.periods);
        for (k, c) in old {
            let e = self.periods.entry(k.div_euclid(2)).or_default();
            e.records += c.records;
            e.refused += c.refused;
            e.errors += c.errors;
        }
    }

    /// At most `max_points` consecutive periods covering the whole span (empty ones included).
    pub fn periods(&self, max_points: usize) -> Vec<Period> {
        match (self.periods.first_key_value(), self.periods.last_key_value()) {
            (Some((&first, _)), Some((&last, _))) => self.span(first, last, max_points),
            _ => Vec::new(),
        }
    }

    /// Periods `first..=last` (keys) grouped into at most `max_points`.
    fn span(&self, first: i64, last: i64, max_points: usize) -> Vec<Period> {
        let span = (last - first + 1) as u64;
        let group = span.div_ceil(max_points.max(1) as u64).max(1) as i64;
        let mut out: Vec<Period> = Vec::new();
        let mut start = first;
        while start <= last {
            let mut counts = PeriodCounts::default();
            for (_, c) in self.periods.range(start..start.saturating_add(group)) {
                counts.records += c.records;
                counts.refused += c.refused;
                counts.errors += c.errors;
            }
            out.push(Period {
                start: start.saturating_mul(self.period_seconds),
                seconds: group * self.period_seconds,
                counts,
            });
            start = start.saturating_add(group);
        }
        out
    }
}

/// The time chart's range and what falls outside it: see [`TimeSeries::chart`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeChart {
    /// At most `max_points` consecutive periods covering the chart's range.
    pub periods: Vec<Period>,
    /// Records whose time is outside the range (not drawn).
    pub outside_records: u64,
    /// Earliest of those times (epoch seconds, start of its period).
    pub outside_first: Option<i64>,
    /// Latest of those times (epoch seconds, start of its period).
    pub outside_last: Option<i64>,
}

/// Share of records cut at each end to find the bulk of the times: see [`TimeSeries::chart`].
pub const TIME_TRIM: f64 = 0.005;
/// Least margin added on each side of the bulk, seconds.
pub const TIME_MIN_MARGIN: i64 = 3600;

impl TimeSeries {
    /// The chart over a robust range, so that one record with a wrong clock (1970, 9999) does
    /// not squeeze every other record into one point: the bulk is the span from the 0.5 % to the
    /// 99.5 % quantile of the record times ([`TIME_TRIM`]), widened on each side by that span
    /// (at least [`TIME_MIN_MARGIN`]). Evenly spread logs lose nothing (their extremes are within
    /// one span of the bulk); records beyond are counted and their times given. Robust to up to
    /// 0.5 % of records at any times.
    pub fn chart(&self, max_points: usize) -> TimeChart {
        let total: u64 = self.periods.values().map(|c| c.records).sum();
        let quantile = |q: f64| -> Option<i64> {
            let target = libm::ceil(q * total as f64).max(1.0) as u64;
            let mut acc = 0u64;
            self.periods.iter().find_map(|(&k, c)| {
                acc += c.records;
                (acc >= target).then_some(k)
            })
        };
        let (Some(lo), Some(hi)) = (quantile(TIME_TRIM), quantile(1.0 - TIME_TRIM)) else {
            return TimeChart {
                periods: Vec::new(),
                outside_records: 0,
                outside_first: None,
                outside_last: None,
            };
        };
        let margin = (hi - lo).max(TIME_MIN_MARGIN.div_euclid(self.period_seconds).max(1));
        let (from, to) = (lo.saturating_sub(margin), hi.saturating_add(margin));
        let mut outside =
            TimeChart { periods: Vec::new(), outside_records: 0, outside_first: None, outside_last: None };
        for (&k, c) in &self.periods {
            if k < from || k > to {
                outside.outside_records += c.records;
                let t = k.saturating_mul(self.period_seconds);
                outside.outside_first.get_or_insert(t);
                outside.outside_last = Some(t);
            }
        }
        let first = self.periods.range(from..=to).next().map(|(&k, _)| k);
        let last = self.periods.range(from..=to).next_back().map(|(&k, _)| k);
        if let (Some(first), Some(last)) = (first, last) {
            outside.periods = self.span(first, last, max_points);
        }
        outside
    }
}

/// Fixed-bin histogram of probabilities over [0, 1].
#[derive(Clone, Debug)]
pub struct ProbabilityHistogram {
    /// [`PROBABILITY_BINS`] counts; bin `i` holds [i/1000, (i+1)/1000), the last one also 1.0 (fine
    /// enough for the report to draw bins that follow the data, bounded whatever the log size).
    pub counts: Vec<u64>,
}

/// Bins of a [`ProbabilityHistogram`] (width 0.001).
pub const PROBABILITY_BINS: usize = 1000;

impl Default for ProbabilityHistogram {
    fn default() -> Self {
        ProbabilityHistogram { counts: vec![0; PROBABILITY_BINS] }
    }
}

impl ProbabilityHistogram {
    /// Counts one probability; values outside [0, 1] (and NaN) are ignored.
    pub fn push(&mut self, p: f64) {
        if (0.0..=1.0).contains(&p) {
            let i = ((p * PROBABILITY_BINS as f64) as usize).min(PROBABILITY_BINS - 1);
            self.counts[i] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_within_two_percent() {
        let mut h = LatencyHistogram::default();
        for v in 1..=10_000 {
            h.push(v as f64);
        }
        for (q, exact) in [(0.5, 5000.0), (0.9, 9000.0), (0.99, 9900.0)] {
            let got = h.quantile(q);
            assert!(got >= exact && got <= exact * 1.02, "q{q}: {got}");
        }
        assert_eq!(h.max(), 10_000.0);
    }

    #[test]
    fn time_series_stays_bounded() {
        let mut t = TimeSeries::default();
        for h in 0..100_000i64 {
            t.add(h * 3600, 1, (h % 2) as u64, 0);
        }
        assert!(t.periods.len() <= MAX_PERIODS);
        let p = t.periods(60);
        assert!(p.len() <= 60);
        assert_eq!(p.iter().map(|p| p.counts.records).sum::<u64>(), 100_000);
    }

    #[test]
    fn one_wrong_clock_does_not_flatten_the_chart() {
        let day = 1_795_651_200; // 2026-11-26T00:00:00Z
        let mut t = TimeSeries::default();
        for m in 0..600i64 {
            t.add(day + m * 60, 1, 0, 0);
        }
        t.add(0, 1, 0, 0); // 1970
        t.add(253_402_300_799, 1, 0, 0); // 9999-12-31
        let c = t.chart(60);
        assert_eq!(c.outside_records, 2);
        assert_eq!((c.outside_first, c.outside_last), (Some(0), Some(253_402_300_740)));
        assert_eq!(c.periods.first().unwrap().start, day);
        let end = c.periods.last().map(|p| p.start + p.seconds).unwrap();
        assert!(end >= day + 600 * 60 && end <= day + 700 * 60, "{end}");
        assert_eq!(c.periods.iter().map(|p| p.counts.records).sum::<u64>(), 600);
        // Evenly spread records: nothing is cut.
        let mut even = TimeSeries::default();
        (0..1000i64).for_each(|h| even.add(day + h * 3600, 1, 0, 0));
        let c = even.chart(60);
        assert_eq!(c.outside_records, 0);
        assert_eq!(c.periods.iter().map(|p| p.counts.records).sum::<u64>(), 1000);
        // Two batches a month apart are both kept.
        let mut two = TimeSeries::default();
        (0..100i64).for_each(|m| two.add(day + m * 60, 1, 0, 0));
        (0..100i64).for_each(|m| two.add(day + 30 * 86_400 + m * 60, 1, 0, 0));
        assert_eq!(two.chart(60).outside_records, 0);
    }
}
