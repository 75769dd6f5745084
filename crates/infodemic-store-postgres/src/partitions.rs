//! Which partition of `items` a day goes to, with a bound on how many there can be.
//!
//! Recent days (400 back from the day of the commit to 2 ahead: what feeds publish) get a
//! partition each, which retention drops by name. An item from outside that window must not
//! make a partition of its own: one hostile feed with a date on every day since 1970 would make
//! twenty thousand. So other days share a 365-day block (`items_r<lo>_<hi>`), days before 1900
//! share one partition and days from 2200 another. A block never overlaps a partition that
//! exists: it is clipped to the gap around its day. The count is then bounded by the days the
//! deployment has run (one daily partition each), plus about 300 blocks and the gaps between
//! them and daily partitions.

use chrono::{DateTime, NaiveDate, Utc};

/// The first day (since 1970) not in the shared partition of the earliest days: 1900-01-01.
const FLOOR: i64 = -25_567;
/// The first day of the shared partition of the latest days: 2200-01-01.
const CEILING: i64 = 84_006;
/// Days before the commit's day that get a partition of their own.
const DAILY_BACK: i64 = 400;
/// Days after the commit's day that get a partition of their own (feeds' clocks run ahead).
const DAILY_AHEAD: i64 = 2;
/// Days a block shares.
const BLOCK: i64 = 365;
/// Bounds of the `day` column (an `integer`), as half-open range ends.
const MIN: i64 = i32::MIN as i64;
const MAX: i64 = i32::MAX as i64 + 1;

/// The partition key of `time`: whole days since 1970-01-01 UTC (negative before). Integers,
/// like the microseconds in `time`, cover every time an item can carry; PostgreSQL's own date
/// and timestamp types stop at 4713 BC, and a date literal past year 9999 does not parse.
pub(crate) fn day_of(time: DateTime<Utc>) -> i32 {
    // chrono's range is ±262,000 years: about ±96 million days.
    i32::try_from(time.timestamp().div_euclid(86_400)).unwrap_or(if time.timestamp() < 0 { i32::MIN } else { i32::MAX })
}

/// The partitions that exist: half-open day ranges, sorted, not overlapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Partitions {
    ranges: Vec<(i64, i64)>,
}

impl Partitions {
    /// From partition names; names not made here are left out.
    pub(crate) fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut partitions = Self::default();
        for range in names.into_iter().filter_map(range_of_name) {
            partitions.insert(range);
        }
        partitions
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether a partition holds `day`.
    pub(crate) fn covers(&self, day: i32) -> bool {
        let day = i64::from(day);
        let after = self.ranges.partition_point(|(lo, _)| *lo <= day);
        after > 0 && day < self.ranges[after - 1].1
    }

    pub(crate) fn insert(&mut self, range: (i64, i64)) {
        let at = self.ranges.partition_point(|(lo, _)| *lo < range.0);
        if self.ranges.get(at) != Some(&range) {
            self.ranges.insert(at, range);
        }
    }

    /// The range of the partition to create for `day`, which none covers, when the commit's
    /// day is `today` (see the module docs).
    pub(crate) fn range_for(&self, day: i32, today: i32) -> (i64, i64) {
        let (d, today) = (i64::from(day), i64::from(today));
        let (lo, hi) = if d < FLOOR {
            (MIN, FLOOR)
        } else if d >= CEILING {
            (CEILING, MAX)
        } else if (today - DAILY_BACK..=today + DAILY_AHEAD).contains(&d) {
            (d, d + 1)
        } else {
            let lo = FLOOR + (d - FLOOR).div_euclid(BLOCK) * BLOCK;
            (lo, (lo + BLOCK).min(CEILING))
        };
        // Clipped to the gap around the day: the partitions on either side stay as they are.
        let after = self.ranges.partition_point(|(lo, _)| i64::from(day) >= *lo);
        let previous_end = after.checked_sub(1).map_or(MIN, |i| self.ranges[i].1);
        let next_start = self.ranges.get(after).map_or(MAX, |r| r.0);
        (lo.max(previous_end), hi.min(next_start))
    }
}

/// The date of a partition key.
fn date_of(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(day))
}

/// The name of the partition of `range`: `items_d20261120` for one day of a four-digit year
/// (what retention drops by name), `items_n<day>` for another single day (`m` for a minus
/// sign), `items_r<lo>_<hi>` for a wider range.
pub(crate) fn partition_name((lo, hi): (i64, i64)) -> String {
    let number = |n: i64| n.to_string().replace('-', "m");
    if hi == lo + 1 {
        return match date_of(lo) {
            Some(date) if (1000..=9999).contains(&chrono::Datelike::year(&date)) => {
                format!("items_d{}", date.format("%Y%m%d"))
            }
            _ => format!("items_n{}", number(lo)),
        };
    }
    format!("items_r{}_{}", number(lo), number(hi))
}

/// The range of a partition's name, for names [`partition_name`] made.
fn range_of_name(name: &str) -> Option<(i64, i64)> {
    let number = |text: &str| text.replace('m', "-").parse::<i64>().ok();
    if let Some(digits) = name.strip_prefix("items_d") {
        let date = NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?;
        let day = i64::from(day_of(date.and_hms_opt(0, 0, 0)?.and_utc()));
        return Some((day, day + 1));
    }
    if let Some(day) = name.strip_prefix("items_n") {
        let day = number(day)?;
        return Some((day, day + 1));
    }
    let (lo, hi) = name.strip_prefix("items_r")?.split_once('_')?;
    Some((number(lo)?, number(hi)?))
}

/// The bounds of `range` in `FOR VALUES FROM (..) TO (..)`: integers, or MINVALUE and
/// MAXVALUE past the column's range. Nothing from outside is spliced in.
pub(crate) fn bounds_sql((lo, hi): (i64, i64)) -> String {
    let lo = if lo <= MIN { "MINVALUE".to_owned() } else { lo.to_string() };
    let hi = if hi >= MAX { "MAXVALUE".to_owned() } else { hi.to_string() };
    format!("FROM ({lo}) TO ({hi})")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    /// Creates what a commit of `days` (in order) would, as the store does.
    fn commit(partitions: &mut Partitions, days: impl IntoIterator<Item = i32>, today: i32) {
        for day in days {
            if !partitions.covers(day) {
                let range = partitions.range_for(day, today);
                assert!(range.0 <= i64::from(day) && i64::from(day) < range.1, "{day} outside {range:?}");
                partitions.insert(range);
            }
        }
    }

    #[test]
    fn names_are_plain_identifiers_that_read_back() {
        assert_eq!(
            partition_name((i64::from(day_of(at(2026, 11, 20))), i64::from(day_of(at(2026, 11, 20))) + 1)),
            "items_d20261120"
        );
        assert_eq!(day_of(at(1970, 1, 1)), 0);
        assert_eq!(day_of(at(1969, 12, 31)), -1);
        assert_eq!((FLOOR, CEILING), (i64::from(day_of(at(1900, 1, 1))), i64::from(day_of(at(2200, 1, 1)))));
        let days = [at(2026, 11, 20), at(1970, 1, 1), at(1969, 12, 31), at(10_000, 1, 1), at(-4800, 3, 1)];
        let extremes = [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
        for time in days.into_iter().chain(extremes) {
            let day = i64::from(day_of(time));
            for range in [(day, day + 1), (day - 7, day + 358), (MIN, FLOOR), (CEILING, MAX)] {
                let name = partition_name(range);
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
                assert!(name.len() < 64, "PostgreSQL truncates longer names: {name}");
                assert_eq!(range_of_name(&name), Some(range), "{name}");
            }
        }
        assert_eq!(bounds_sql((MIN, FLOOR)), "FROM (MINVALUE) TO (-25567)");
        assert_eq!(bounds_sql((CEILING, MAX)), "FROM (84006) TO (MAXVALUE)");
    }

    /// A date on every day since 1970, and the earliest and latest a clock can give, make
    /// about one partition a year, not one a day; recent days get their own.
    #[test]
    fn hostile_dates_make_a_bounded_number_of_partitions() {
        let today = day_of(at(2026, 12, 3));
        let mut partitions = Partitions::default();
        commit(&mut partitions, (0..today + 2).rev(), today);
        commit(&mut partitions, [i32::MIN, i32::MAX, -1_000_000, 1_000_000, 84_006, -25_568], today);
        // 401 recent days + 2 ahead at most, 57 years of blocks, the two ends.
        assert!(partitions.len() <= 403 + 60 + 2, "{}", partitions.len());
        assert!((0..today).all(|day| partitions.covers(day)));
        assert!(partitions.covers(i32::MIN) && partitions.covers(i32::MAX));
        let recent = partitions.ranges.iter().filter(|(lo, hi)| hi - lo == 1).count();
        assert_eq!(recent, 402, "400 days back, today and tomorrow: one partition each");
    }

    /// Blocks made around daily partitions fill the gaps: no overlap, whatever the order.
    #[test]
    fn ranges_never_overlap_whatever_the_order() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..20 {
            let mut partitions = Partitions::default();
            let mut today = day_of(at(2020, 1, 1));
            for _ in 0..500 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Days from 1890 to 2210, and the clock moving forward a day now and then.
                let day = -29_000 + (state % 88_000) as i32;
                today += i32::from(state.is_multiple_of(3));
                commit(&mut partitions, [day], today);
            }
            let ranges = &partitions.ranges;
            assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "round {round}: {ranges:?}");
            assert!(ranges.iter().all(|(lo, hi)| lo < hi), "round {round}");
        }
    }
}
