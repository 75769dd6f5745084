//! Time arguments: `2026-11-01`, `2026-11-01T12:00:00Z`, or a span back from now: `7d`, `12h`.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Parses a `--since`/`--until` value relative to `now`.
pub fn parse_when(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let value = value.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(midnight.and_utc());
        }
    }
    if let Some(span) = parse_span(value) {
        return now.checked_sub_signed(span).ok_or_else(|| format!("`{value}` reaches too far back"));
    }
    Err(format!("`{value}` is not a date (2026-11-01), a time (2026-11-01T12:00:00Z) or a span (30m, 12h, 7d, 2w)"))
}

fn parse_span(value: &str) -> Option<Duration> {
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = value.split_at(split);
    let amount: i64 = digits.parse().ok()?;
    match unit {
        "m" | "min" => Duration::try_minutes(amount),
        "h" => Duration::try_hours(amount),
        "d" => Duration::try_days(amount),
        "w" => Duration::try_weeks(amount),
        _ => None,
    }
}

/// clap value parser: the same, relative to the moment of parsing.
pub fn when_arg(value: &str) -> Result<DateTime<Utc>, String> {
    parse_when(value, Utc::now())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn parses_dates_times_and_spans() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        assert_eq!(parse_when("2026-11-01", now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
        assert_eq!(
            parse_when("2026-11-01T10:00:00+02:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()
        );
        assert_eq!(parse_when("7d", now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap());
        assert_eq!(parse_when("12h", now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap());
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["yesterday", "7x", "2026-13-01", "", "d"] {
            assert!(parse_when(bad, Utc::now()).is_err(), "{bad}");
        }
    }
}
