//! Planted-surge evaluation of the surge rules with the default [`SurgeConfig`].
//!
//! Synthetic, seeded and deterministic: campaigns are Poisson processes in continuous time.
//! Items are fed one at a time in time order, both with their time
//! ([`SurgeDetector::observe_unix`], what the pipeline does) and with their hour only
//! ([`SurgeDetector::observe`]), so a rule fires on the item that makes the surge visible
//! and a delay is measured to that item.
//!
//! - **Background**: established campaigns at 0.05 to 2 items/h (and 5 items/h, beyond the
//!   target range), flat or with a ±50 % daily cycle, over 6 weeks; the first week is warm-up
//!   (the baseline fills and the opening window passes) and is not counted. Every EARS or
//!   CUSUM alert afterwards is a false alert. Target: at most 1 per 1,000 background items,
//!   pooled over 0.05 to 2 items/h; no row may pass 2. (Opening alerts are counted apart:
//!   a campaign of 2 items/h does open with more than 5 items in 6 hours.)
//! - **Planted surges**: 9 days of background, then the rate is multiplied by 5 or 10 for
//!   6 hours from a random instant. A surge is detected when a surge alert is raised within
//!   2 hours of its start. Target: at least 90 % detected. Two hours of a ×5 surge on a
//!   1 item/h campaign bring 8 extra items on average against 2 expected; at one false alert
//!   per 1,000 items even an ideal count threshold on that 2-hour window (9 items) catches
//!   only about 67 % of them, and ×10 on 0.5 items/h (7 items) about 87 %. The target is
//!   therefore asserted for surges that bring at least [`MIN_EXTRA_ITEMS`] (16) extra items
//!   in their first 2 hours (×5 on 2 items/h, where the ideal rule reaches 98 %; ×10 on
//!   1 item/h; and up); the lower rates are measured and printed.
//! - **Openings**: new campaigns with K to 2K items within their first T hours are all
//!   flagged, on the K-th item; new campaigns with K − 1 items in their first T hours are not.
//!
//! Run with `cargo test -p infodemic-campaigns --test surge_eval -- --nocapture` to see the
//! figures; with `INFODEMIC_SLOW_TESTS=1` (and `--release`) for larger samples.

#![allow(clippy::print_stderr, clippy::unwrap_used)]

use infodemic_campaigns::surge::{SurgeConfig, SurgeDetector, SurgeSignal};

/// An arbitrary hour index (early 2025) where simulated campaigns start.
const START_HOUR: i64 = 482_000;

/// xorshift64* (Vigna 2016): small, seeded, good enough for a simulation.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Poisson(mean) by Knuth's product of uniforms, in chunks of at most 30 so `e^-mean`
    /// stays well inside f64.
    fn poisson(&mut self, mean: f64) -> u32 {
        let mut left = mean;
        let mut total = 0;
        while left > 0.0 {
            let chunk = left.min(30.0);
            left -= chunk;
            let limit = (-chunk).exp();
            let mut product = self.uniform();
            while product > limit {
                total += 1;
                product *= self.uniform();
            }
        }
        total
    }

    /// `n` times uniform in `[from, from + length)`.
    fn times(&mut self, n: u32, from: f64, length: f64, into: &mut Vec<f64>) {
        into.extend((0..n).map(|_| from + length * self.uniform()));
    }
}

/// Item times (hours from the campaign's start) of a Poisson process at `rate` items/h for
/// `hours` hours, with a ±50 % daily cycle when `daily` is set.
fn background(rng: &mut Rng, rate: f64, hours: u32, daily: bool) -> Vec<f64> {
    let mut times = Vec::new();
    for hour in 0..hours {
        let cycle = if daily { 1.0 + 0.5 * (std::f64::consts::TAU * f64::from(hour) / 24.0).sin() } else { 1.0 };
        let n = rng.poisson(rate * cycle);
        rng.times(n, f64::from(hour), 1.0, &mut times);
    }
    times.sort_by(f64::total_cmp);
    times
}

/// How items reach the detector: with their time ([`SurgeDetector::observe_unix`], what the
/// pipeline does) or with their hour only ([`SurgeDetector::observe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    Timed,
    Hourly,
}

/// Feeds the items one by one, in time order; returns each alert with the time of the item
/// that raised it.
fn replay(times: &[f64], cfg: &SurgeConfig, feed: Feed) -> Vec<(f64, SurgeSignal)> {
    let mut detector = SurgeDetector::new();
    let mut alerts = Vec::new();
    for &time in times {
        let signals = match feed {
            Feed::Timed => detector.observe_unix(START_HOUR * 3600 + (time * 3600.0).floor() as i64, 1, cfg),
            Feed::Hourly => detector.observe(START_HOUR + time.floor() as i64, 1, cfg),
        };
        alerts.extend(signals.into_iter().map(|signal| (time, signal)));
    }
    alerts
}

/// Sample sizes: quick by default, larger with `INFODEMIC_SLOW_TESTS=1` (the figures quoted in
/// the module documentation of `surge` come from the larger run).
fn scale(quick: usize, slow: usize) -> usize {
    if std::env::var_os("INFODEMIC_SLOW_TESTS").is_some_and(|v| v == "1") {
        slow
    } else {
        quick
    }
}

const BACKGROUND_RATES: [f64; 7] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0];
/// Rates within the target range of the issue (0.05 to 2 items/h).
const TARGET_MAX_RATE: f64 = 2.0;

#[test]
fn background_campaigns_raise_at_most_one_false_alert_per_thousand_items() {
    let cfg = SurgeConfig::default();
    let weeks = 6;
    let warm_up = 24.0 * 7.0;
    let campaigns = scale(30, 200);
    let mut rng = Rng::new(20_250_601);
    // Pooled over the target range: items, false alerts (timed feed), false alerts (hourly).
    let mut pooled = [0usize; 3];
    eprintln!("background: {campaigns} campaigns per row, {weeks} weeks each, first week not counted");
    eprintln!(
        "{:>7} {:>6} {:>8} {:>12} {:>10} {:>12} {:>10} {:>9}",
        "rate/h", "daily", "items", "alerts timed", "per 1k", "alerts hourly", "per 1k", "openings"
    );
    for daily in [false, true] {
        for rate in BACKGROUND_RATES {
            let (mut items, mut timed, mut hourly, mut openings) = (0usize, 0usize, 0usize, 0usize);
            for _ in 0..campaigns {
                let times = background(&mut rng, rate, 24 * 7 * weeks, daily);
                items += times.iter().filter(|&&t| t >= warm_up).count();
                for (feed, alerts) in [(Feed::Timed, &mut timed), (Feed::Hourly, &mut hourly)] {
                    for (time, signal) in replay(&times, &cfg, feed) {
                        if !signal.is_surge() {
                            openings += usize::from(feed == Feed::Timed);
                        } else if time >= warm_up {
                            *alerts += 1;
                        }
                    }
                }
            }
            let per_thousand = |alerts: usize| 1000.0 * alerts as f64 / items as f64;
            eprintln!(
                "{rate:>7} {daily:>6} {items:>8} {timed:>12} {:>10.3} {hourly:>12} {:>10.3} {openings:>9}",
                per_thousand(timed),
                per_thousand(hourly)
            );
            if rate <= TARGET_MAX_RATE {
                pooled[0] += items;
                pooled[1] += timed;
                pooled[2] += hourly;
            }
            // Beside the pooled target, no single row may be far off it.
            for alerts in [timed, hourly] {
                assert!(
                    per_thousand(alerts) <= 2.0,
                    "rate {rate}/h (daily cycle: {daily}): {:.3} false alerts per 1,000 items",
                    per_thousand(alerts)
                );
            }
        }
    }
    let [items, timed, hourly] = pooled;
    let per_thousand = |alerts: usize| 1000.0 * alerts as f64 / items as f64;
    eprintln!(
        "0.05 to 2 items/h: {items} items; {timed} false alerts timed = {:.3} per 1,000 items, \
         {hourly} hourly = {:.3} per 1,000 items",
        per_thousand(timed),
        per_thousand(hourly)
    );
    assert!(per_thousand(timed) <= 1.0, "{:.3} false alerts per 1,000 background items", per_thousand(timed));
    assert!(per_thousand(hourly) <= 1.0, "{:.3} false alerts per 1,000 background items", per_thousand(hourly));
}

#[test]
fn planted_surges_are_detected_within_two_hours() {
    let cfg = SurgeConfig::default();
    let trials = scale(250, 2000);
    let history = 24.0 * 9.0;
    let surge_hours = 6.0;
    let window = 2.0;
    let mut rng = Rng::new(7_777);
    // Over the asserted rows: trials, detected within 2 h timed, and hourly.
    let mut pooled = [0usize; 3];
    eprintln!("planted surges: {trials} trials per row, 9 days of history, 6 h surge from a random instant");
    eprintln!(
        "{:>7} {:>4} {:>11} {:>10} {:>12} {:>10} {:>11} {:>12}",
        "rate/h", "×", "extra in 2h", "2 h timed", "median delay", "6 h timed", "2 h hourly", "alert before"
    );
    for multiple in [5.0, 10.0] {
        for rate in BACKGROUND_RATES {
            let (mut timed, mut within_surge, mut hourly, mut alert_before) = (0usize, 0usize, 0usize, 0usize);
            let mut delays = Vec::new();
            for _ in 0..trials {
                let start = history + 24.0 * rng.uniform();
                let total_hours = (start + surge_hours).ceil() as u32 + 1;
                let mut times = background(&mut rng, rate, total_hours, false);
                let extra = rng.poisson((multiple - 1.0) * rate * surge_hours);
                rng.times(extra, start, surge_hours, &mut times);
                times.sort_by(f64::total_cmp);
                for feed in [Feed::Timed, Feed::Hourly] {
                    let alerts: Vec<f64> =
                        replay(&times, &cfg, feed).into_iter().filter(|(_, s)| s.is_surge()).map(|(t, _)| t).collect();
                    let first = alerts.iter().find(|&&t| t >= start && t < start + surge_hours).map(|&t| t - start);
                    let detected = first.is_some_and(|delay| delay <= window);
                    if feed == Feed::Hourly {
                        hourly += usize::from(detected);
                        continue;
                    }
                    timed += usize::from(detected);
                    // A false alert in the day before can hold the episode open over the surge.
                    alert_before += usize::from(alerts.iter().any(|&t| t < start && t >= start - 24.0));
                    if let Some(delay) = first {
                        within_surge += 1;
                        delays.push(delay);
                    }
                }
            }
            delays.sort_by(f64::total_cmp);
            let median = delays.get(delays.len() / 2).map_or("-".to_owned(), |d| format!("{d:.2} h"));
            let extra_in_window = (multiple - 1.0) * rate * window;
            let percent = |n: usize| 100.0 * n as f64 / trials as f64;
            eprintln!(
                "{rate:>7} {multiple:>4} {extra_in_window:>11.1} {:>9.1}% {median:>12} {:>9.1}% {:>10.1}% {alert_before:>12}",
                percent(timed),
                percent(within_surge),
                percent(hourly),
            );
            if extra_in_window >= MIN_EXTRA_ITEMS {
                pooled[0] += trials;
                pooled[1] += timed;
                pooled[2] += hourly;
                for detected in [timed, hourly] {
                    assert!(
                        percent(detected) >= 85.0,
                        "rate {rate}/h ×{multiple}: {:.1} % within 2 h",
                        percent(detected)
                    );
                }
            }
        }
    }
    let [trials, timed, hourly] = pooled;
    let percent = |n: usize| 100.0 * n as f64 / trials as f64;
    eprintln!(
        "surges bringing ≥ {MIN_EXTRA_ITEMS} extra items in 2 h: detected within 2 h {:.1} % timed, {:.1} % hourly \
         ({trials} trials)",
        percent(timed),
        percent(hourly)
    );
    assert!(percent(timed) >= 90.0, "{:.1} % of planted surges detected within 2 h", percent(timed));
    assert!(percent(hourly) >= 90.0, "{:.1} % of planted surges detected within 2 h (hourly)", percent(hourly));
}

/// The 2-hour target is asserted for surges that bring at least this many extra items in
/// their first 2 hours on average: ×5 on 2 items/h, ×10 on 1 item/h and above.
const MIN_EXTRA_ITEMS: f64 = 16.0;

#[test]
fn planted_openings_are_flagged_and_near_misses_are_not() {
    let cfg = SurgeConfig::default();
    let k = cfg.opening_items;
    let t = f64::from(cfg.opening_window_hours);
    let trials: u32 = 500;
    let mut rng = Rng::new(42);
    let (mut flagged, mut near_misses_flagged, mut on_time) = (0u32, 0u32, 0u32);
    for trial in 0..trials {
        // A burst of K to 2K items within the first T hours (the first at hour 0), then a
        // slow tail.
        let n = k + (trial % (k + 1));
        let mut times = vec![0.0];
        rng.times(n - 1, 0.0, t, &mut times);
        times.extend(background(&mut rng, 0.05, 24 * 3, false).into_iter().map(|x| x + t));
        times.sort_by(f64::total_cmp);
        let openings: Vec<f64> =
            replay(&times, &cfg, Feed::Timed).into_iter().filter(|(_, s)| !s.is_surge()).map(|(t, _)| t).collect();
        if openings.len() == 1 {
            flagged += 1;
            // Raised by the K-th item.
            on_time += u32::from(openings[0] == times[k as usize - 1]);
        }
        // K − 1 items in the window, then the slow tail: never an opening.
        let mut times = vec![0.0];
        rng.times(k - 2, 0.0, t, &mut times);
        times.extend(background(&mut rng, 0.05, 24 * 3, false).into_iter().map(|x| x + t));
        times.sort_by(f64::total_cmp);
        let openings = replay(&times, &cfg, Feed::Timed).iter().filter(|(_, s)| !s.is_surge()).count();
        near_misses_flagged += u32::try_from(openings).unwrap();
    }
    eprintln!(
        "openings (K = {k} items in T = {t} h): {flagged}/{trials} planted flagged, {on_time} on the K-th item; \
         {near_misses_flagged}/{trials} near misses (K − 1 items) flagged"
    );
    assert_eq!(flagged, trials);
    assert_eq!(on_time, trials);
    assert_eq!(near_misses_flagged, 0);
}
