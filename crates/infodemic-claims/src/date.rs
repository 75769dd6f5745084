//! Dates as fact-checkers publish them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses RFC 3339 (`2020-04-03T10:00:00Z`, `2020-04-03T10:00:00+02:00`), an ISO 8601 time
/// with a `+0200` offset, a date and time without an offset (taken as UTC), a bare date
/// (`2020-04-03`, midnight UTC) or RFC 2822. Surrounding whitespace is ignored.
pub(crate) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(time.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|time| time.and_utc());
    }
    DateTime::parse_from_rfc2822(text).ok().map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let cases = [
            ("2020-04-03T10:00:00Z", "2020-04-03T10:00:00+00:00"),
            ("2020-04-03T12:00:00+02:00", "2020-04-03T10:00:00+00:00"),
            ("2020-04-03T12:00:00+0200", "2020-04-03T10:00:00+00:00"),
            ("2020-04-03T10:00:00.250", "2020-04-03T10:00:00.250+00:00"),
            ("2020-04-03 10:00:00", "2020-04-03T10:00:00+00:00"),
            ("2020-04-03T10:00", "2020-04-03T10:00:00+00:00"),
            (" 2020-04-03 ", "2020-04-03T00:00:00+00:00"),
            ("Fri, 03 Apr 2020 10:00:00 GMT", "2020-04-03T10:00:00+00:00"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text).map(|t| t.to_rfc3339()).as_deref(), Some(expected), "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "yesterday", "2020-13-01", "03/04/2020", "2020-02-30"] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
