//! A campaign's items over time in equal buckets, as a sparkline or a chart shows them: hourly
//! for short campaigns, a few hours or whole days for longer ones, so that the number of
//! buckets stays readable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use infodemic_core::Campaign;

/// Bucket widths in hours, narrowest first. Below a day they divide 24, so buckets line up with
/// UTC midnight; above, whole days and weeks (see [`align`]).
const WIDTHS: [i64; 12] = [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 672];

/// Items per bucket over a time range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// Start of the first bucket, in hours since the Unix epoch: a round time for the width
    /// (a multiple of it; weeks start on Mondays) unless there is only one bucket.
    pub start_hour: i64,
    /// Width of every bucket in hours.
    pub bucket_hours: i64,
    /// Items per bucket, oldest first; never empty.
    pub counts: Vec<u32>,
}

impl Timeline {
    /// When bucket `index` starts (it may be past the end, for the end of the last bucket).
    pub fn bucket_start(&self, index: usize) -> DateTime<Utc> {
        let index = i64::try_from(index).unwrap_or(i64::MAX);
        hour_time(self.start_hour.saturating_add(index.saturating_mul(self.bucket_hours)))
    }

    /// Start of the first bucket.
    pub fn start(&self) -> DateTime<Utc> {
        self.bucket_start(0)
    }

    /// End of the last bucket (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.bucket_start(self.counts.len())
    }

    /// Whether buckets are whole days (labels then show dates without hours).
    pub fn is_daily(&self) -> bool {
        self.bucket_hours % 24 == 0
    }

    /// The bucket width for people: `hour`, `3 hours`, `day`, `week`, `2 days`.
    pub fn unit(&self) -> String {
        match self.bucket_hours {
            1 => "hour".to_owned(),
            24 => "day".to_owned(),
            168 => "week".to_owned(),
            hours if hours % 168 == 0 => format!("{} weeks", hours / 168),
            hours if hours % 24 == 0 => format!("{} days", hours / 24),
            hours => format!("{hours} hours"),
        }
    }

    /// Largest bucket count.
    pub fn max(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }
}

/// The instant `hour` hours after the Unix epoch (the epoch itself when out of chrono's range).
fn hour_time(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default()
}

/// Hours from the epoch (a Thursday) to the first Monday, 1970-01-05.
const FIRST_MONDAY: i64 = 96;

/// The start of the bucket of width `width` that holds `hour`: a multiple of the width, so that
/// 6-hour buckets start at 00, 06, 12 and 18 UTC, and weeks start on Mondays.
pub(crate) fn align(hour: i64, width: i64) -> i64 {
    let offset = if width % 168 == 0 { FIRST_MONDAY } else { 0 };
    hour.saturating_sub(offset).div_euclid(width).saturating_mul(width).saturating_add(offset)
}

/// Buckets needed to cover `first..=last` hours with width `width`, aligned to the width.
fn buckets_needed(first: i64, last: i64, width: i64) -> i64 {
    let start = align(first, width);
    last.saturating_sub(start).div_euclid(width).saturating_add(1)
}

/// Bins `hourly` (items per hour since the epoch) between `first_hour` and `last_hour`
/// (inclusive, in either order) into at most `max_buckets` buckets (0 counts as 1), of the
/// narrowest width that fits: 1, 2, 3, 4, 6 or 12 hours, 1, 2 or 3 days, 1, 2 or 4 weeks, else
/// whole days. Hours outside the range are left out.
pub fn bin_hourly(hourly: &BTreeMap<i64, u32>, first_hour: i64, last_hour: i64, max_buckets: usize) -> Timeline {
    let (first, last) = (first_hour.min(last_hour), first_hour.max(last_hour));
    let max_buckets = i64::try_from(max_buckets.max(1)).unwrap_or(i64::MAX);
    if max_buckets == 1 {
        // One bucket for the whole range (not aligned: no width of the table need fit).
        let total = hourly.range(first..=last).fold(0u32, |sum, (_, n)| sum.saturating_add(*n));
        return Timeline {
            start_hour: first,
            bucket_hours: last.saturating_sub(first).saturating_add(1),
            counts: vec![total],
        };
    }
    let width =
        WIDTHS.iter().copied().find(|width| buckets_needed(first, last, *width) <= max_buckets).unwrap_or_else(|| {
            // Longer than the table covers: whole days, enough of them that max_buckets - 1 buckets
            // span the range, since aligning the start adds at most one.
            let days = last.saturating_sub(first).div_euclid(24).saturating_add(1);
            let per_bucket = days.saturating_add(max_buckets - 2) / (max_buckets - 1);
            per_bucket.max(1).saturating_mul(24)
        });
    let start_hour = align(first, width);
    let n_buckets = usize::try_from(buckets_needed(first, last, width)).unwrap_or(1).max(1);
    let mut counts = vec![0u32; n_buckets];
    for (hour, count) in hourly.range(first..=last) {
        let index = usize::try_from(hour.saturating_sub(start_hour).div_euclid(width)).unwrap_or(0);
        if let Some(slot) = counts.get_mut(index) {
            *slot = slot.saturating_add(*count);
        }
    }
    Timeline { start_hour, bucket_hours: width, counts }
}

/// The campaign's [`Timeline`] from its first to its last item (the wider of `first_seen` to
/// `last_seen` and the hours in `hourly`), in at most `max_buckets` buckets.
pub fn campaign_timeline(campaign: &Campaign, max_buckets: usize) -> Timeline {
    let mut first = campaign.first_seen.timestamp().div_euclid(3600);
    let mut last = campaign.last_seen.timestamp().div_euclid(3600);
    if let (Some((low, _)), Some((high, _))) = (campaign.hourly.first_key_value(), campaign.hourly.last_key_value()) {
        first = first.min(*low);
        last = last.max(*high);
    }
    bin_hourly(&campaign.hourly, first, last, max_buckets)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::export::fixtures::{at, campaign, hour};

    #[test]
    fn short_spans_are_hourly() {
        let hourly = BTreeMap::from([(hour(0), 2), (hour(3), 5)]);
        let timeline = bin_hourly(&hourly, hour(0), hour(3), 24);
        assert_eq!(timeline.counts, vec![2, 0, 0, 5]);
        assert_eq!((timeline.bucket_hours, timeline.unit().as_str()), (1, "hour"));
        assert_eq!(timeline.start(), at(0));
        assert_eq!(timeline.end(), at(4));
    }

    #[test]
    fn wider_buckets_keep_the_count_under_the_limit_and_the_sum() {
        let hourly: BTreeMap<i64, u32> = (0..100).map(|h| (hour(h), 1)).collect();
        let timeline = bin_hourly(&hourly, hour(0), hour(99), 20);
        assert_eq!(timeline.bucket_hours, 6);
        assert!(timeline.counts.len() <= 20);
        assert_eq!(timeline.counts.iter().sum::<u32>(), 100);
        // Aligned to the width: 6-hour buckets start at 00, 06, 12 or 18 UTC.
        assert_eq!(timeline.start_hour % 6, 0);
    }

    #[test]
    fn weeks_start_on_monday() {
        use chrono::{Datelike, Weekday};
        // 2026-03-02 is a Monday; start a day later and span half a year.
        let hourly = BTreeMap::from([(hour(24), 1), (hour(24 * 180), 1)]);
        let timeline = bin_hourly(&hourly, hour(24), hour(24 * 180), 30);
        assert_eq!(timeline.bucket_hours, 168);
        assert_eq!(timeline.start(), at(0));
        assert_eq!(timeline.start().weekday(), Weekday::Mon);
    }

    #[test]
    fn long_spans_are_daily_or_wider() {
        let hourly = BTreeMap::from([(hour(0), 1), (hour(24 * 40), 1)]);
        let timeline = bin_hourly(&hourly, hour(0), hour(24 * 40), 60);
        assert!(timeline.is_daily());
        assert_eq!(timeline.unit(), "day");
        assert_eq!(timeline.counts.len(), 41);
        // Years: beyond the table of widths, still under the limit.
        let timeline = bin_hourly(&hourly, hour(0), hour(24 * 365 * 5), 30);
        assert!(timeline.is_daily() && timeline.counts.len() <= 30, "{timeline:?}");
        assert_eq!(timeline.counts.iter().sum::<u32>(), 2);
    }

    #[test]
    fn degenerate_inputs_give_one_bucket() {
        let timeline = bin_hourly(&BTreeMap::new(), hour(5), hour(5), 0);
        assert_eq!(timeline.counts, vec![0]);
        let reversed = bin_hourly(&BTreeMap::from([(hour(1), 3)]), hour(2), hour(0), 10);
        assert_eq!(reversed.counts, vec![0, 3, 0]);
        let extreme = bin_hourly(&BTreeMap::from([(i64::MIN, 1), (i64::MAX, 1)]), i64::MIN, i64::MAX, 10);
        assert!(!extreme.counts.is_empty() && extreme.counts.len() <= 10);
    }

    #[test]
    fn campaign_timeline_covers_first_to_last_seen() {
        let campaign = campaign(1, 30);
        let timeline = campaign_timeline(&campaign, 48);
        assert_eq!(timeline.counts.len(), 31);
        assert_eq!(timeline.counts.iter().sum::<u32>(), campaign.size);
    }
}
