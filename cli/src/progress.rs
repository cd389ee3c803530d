//! Progress on stderr, only when stderr is a terminal (never in logs or pipes).
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    enabled: bool,
    what: &'static str,
    started: Instant,
    last: Instant,
}

impl Progress {
    pub fn new(what: &'static str) -> Self {
        let now = Instant::now();
        Progress { enabled: std::io::stderr().is_terminal(), what, started: now, last: now }
    }

    /// Reports `done` items (and the total when known), at most 4 times a second.
    pub fn update(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let mut err = std::io::stderr().lock();
        let _ = match total {
            Some(t) if t > 0 => {
                write!(
                    err,
                    "\r{}: {done}/{t} ({:.0}%), {rate:.0}/s   ",
                    self.what,
                    100.0 * done as f64 / t as f64
                )
            }
            _ => write!(err, "\r{}: {done}, {rate:.0}/s   ", self.what),
        };
    }

    pub fn finish(&self, done: u64) {
        if self.enabled {
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!("\r{}: {done} in {secs:.2} s                    ", self.what);
        }
    }
}
