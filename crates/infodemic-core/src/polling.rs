//! When to poll a feed next: adaptive intervals, weighted failure accounting, and backoff
//! that grows instead of giving up. Pure functions of the state, the outcome and the time.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::FeedState;

/// A failure score at or above this makes a feed "failing" (e.g. one 404 or 410, or three
/// timeouts in a row).
pub const FAILING_SCORE: f32 = 3.0;

/// Bounds of polling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollPolicy {
    /// Shortest interval, however busy a feed is.
    pub min: Duration,
    /// Interval of a new feed.
    pub base: Duration,
    /// Longest interval of a healthy feed, however quiet.
    pub max: Duration,
    /// Longest wait after failures: a failing feed is still tried this often.
    pub max_backoff: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(5 * 60),
            base: Duration::from_secs(30 * 60),
            max: Duration::from_secs(6 * 3600),
            max_backoff: Duration::from_secs(24 * 3600),
        }
    }
}

/// How bad a failure is for the feed's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Likely permanent: 404, 410, DNS name not found, not a feed.
    Hard,
    /// Likely transient: timeouts, 5xx, 429, connection resets.
    Soft,
}

impl FailureKind {
    /// What one failure adds to the score.
    pub fn weight(self) -> f32 {
        match self {
            FailureKind::Hard => 3.0,
            FailureKind::Soft => 1.0,
        }
    }
}

/// What happened to one poll, as far as scheduling cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PollOutcome {
    /// Fetched and parsed: `new` of `seen` items were new.
    Fetched {
        /// New items.
        new: usize,
        /// Items in the feed.
        seen: usize,
    },
    /// Unchanged (304, or the same body as last time).
    Unchanged,
    /// Failed.
    Failed(FailureKind),
    /// Not attempted or not the feed's fault: the network was down. Nothing is counted.
    NetworkDown,
}

/// Updates `state` after a poll at `now` (recording the attempt) and sets its next poll time. `not_before` is the
/// server's wish (Retry-After, Cache-Control max-age, Expires): never poll earlier, but not
/// later than the policy's longest backoff either.
pub fn schedule(
    state: &mut FeedState,
    outcome: PollOutcome,
    now: DateTime<Utc>,
    not_before: Option<DateTime<Utc>>,
    policy: &PollPolicy,
) {
    state.last_attempt = Some(state.last_attempt.map_or(now, |t| t.max(now)));
    state.first_attempt.get_or_insert(now);
    let clamp = |secs: f64, max: Duration| secs.clamp(policy.min.as_secs_f64(), max.as_secs_f64());
    let interval = f64::from(state.interval_secs.max(1));
    let (interval, wait) = match outcome {
        PollOutcome::Fetched { new, seen } => {
            state.failure_score = 0.0;
            let ratio = if seen == 0 { 0.0 } else { new as f64 / seen as f64 };
            // Mostly duplicates: poll less often. Mostly new: the feed moves faster than us.
            let factor = if ratio >= 0.5 {
                1.0 / 1.5
            } else if ratio < 0.2 {
                1.25
            } else {
                1.0
            };
            let next = clamp(interval * factor, policy.max);
            (next, next)
        }
        PollOutcome::Unchanged => {
            state.failure_score = 0.0;
            let next = clamp(interval * 1.1, policy.max);
            (next, next)
        }
        PollOutcome::Failed(kind) => {
            state.failure_score += kind.weight();
            // Back off exponentially in the score, capped: the feed is never dropped.
            let exponent = state.failure_score.min(16.0);
            (interval, clamp(interval * 2f64.powf(f64::from(exponent) / 2.0), policy.max_backoff))
        }
        PollOutcome::NetworkDown => (interval, clamp(interval, policy.max)),
    };
    state.interval_secs = interval.round() as u32;
    let mut next = now + chrono::Duration::milliseconds((wait * 1000.0) as i64);
    if let Some(server) = not_before {
        let cap = now + chrono::Duration::from_std(policy.max_backoff).unwrap_or(chrono::Duration::days(1));
        next = next.max(server.min(cap));
    }
    state.next_poll = Some(next);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::SourceId;

    fn state() -> FeedState {
        FeedState::new(SourceId::new("f").unwrap(), "https://e.org/f".to_owned())
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    #[test]
    fn busy_feeds_speed_up_and_quiet_ones_slow_down_within_bounds() {
        let policy = PollPolicy::default();
        let mut busy = state();
        for _ in 0..20 {
            schedule(&mut busy, PollOutcome::Fetched { new: 40, seen: 50 }, now(), None, &policy);
        }
        assert_eq!(u64::from(busy.interval_secs), policy.min.as_secs());
        let mut quiet = state();
        for _ in 0..40 {
            schedule(&mut quiet, PollOutcome::Fetched { new: 0, seen: 50 }, now(), None, &policy);
        }
        assert_eq!(u64::from(quiet.interval_secs), policy.max.as_secs());
        assert_eq!(quiet.next_poll, Some(now() + chrono::Duration::hours(6)));
    }

    #[test]
    fn hard_failures_weigh_more_and_backoff_grows_but_is_capped() {
        let policy = PollPolicy::default();
        let (mut hard, mut soft) = (state(), state());
        schedule(&mut hard, PollOutcome::Failed(FailureKind::Hard), now(), None, &policy);
        schedule(&mut soft, PollOutcome::Failed(FailureKind::Soft), now(), None, &policy);
        assert!(hard.failure_score > soft.failure_score);
        assert!(hard.next_poll > soft.next_poll);
        assert_eq!(hard.health(), crate::FeedHealth::Failing);
        assert_eq!(soft.health(), crate::FeedHealth::Degraded);
        for _ in 0..50 {
            schedule(&mut hard, PollOutcome::Failed(FailureKind::Hard), now(), None, &policy);
        }
        assert_eq!(hard.next_poll, Some(now() + chrono::Duration::hours(24)), "still polled daily");
        schedule(&mut hard, PollOutcome::Fetched { new: 1, seen: 1 }, now(), None, &policy);
        assert_eq!(hard.health(), crate::FeedHealth::Healthy);
    }

    #[test]
    fn network_outages_count_nothing() {
        let mut feed = state();
        schedule(&mut feed, PollOutcome::NetworkDown, now(), None, &PollPolicy::default());
        assert_eq!(feed.failure_score, 0.0);
    }

    #[test]
    fn the_servers_retry_after_is_honoured_up_to_the_cap() {
        let policy = PollPolicy::default();
        let mut feed = state();
        let later = now() + chrono::Duration::hours(3);
        schedule(&mut feed, PollOutcome::Failed(FailureKind::Soft), now(), Some(later), &policy);
        assert_eq!(feed.next_poll, Some(later));
        let absurd = now() + chrono::Duration::days(30);
        schedule(&mut feed, PollOutcome::Unchanged, now(), Some(absurd), &policy);
        assert_eq!(feed.next_poll, Some(now() + chrono::Duration::hours(24)));
    }
}
