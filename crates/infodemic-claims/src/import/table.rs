//! Claims from a CSV file with a header row.

use crate::date::parse_date;
use crate::error::{ClaimsError, Location, Result};
use crate::verdict::RatingScale;
use crate::{ClaimOrigin, DebunkedClaim, Verdict};
use infodemic_core::claim;

/// The columns read; names match case-insensitively, other columns are ignored.
const COLUMNS: [&str; 7] = ["claim", "rating", "verdict", "reviewer", "url", "date", "language"];

/// Reads claims from CSV with a header row, from a file named `file`.
///
/// Columns: `claim` (required), `rating` (the publisher's words), `verdict` (one of
/// [`Verdict::NAMES`], any case, spaces or hyphens allowed; when empty the verdict comes from
/// `rating` by [`Verdict::from_rating`]), `reviewer`, `url`, `date` (RFC 3339 or
/// `YYYY-MM-DD`), `language`. Column names are case-insensitive; other columns are ignored;
/// empty cells are missing values; short rows are allowed.
///
/// # Errors
/// [`ClaimsError::Empty`] without a header row, [`ClaimsError::MissingColumn`] without a
/// `claim` column, and, with the record's line, [`ClaimsError::MissingField`] for an empty
/// claim, [`ClaimsError::BadDate`], [`ClaimsError::UnknownVerdict`] and
/// [`ClaimsError::Csv`] (bad quoting, invalid UTF-8).
pub fn read_csv(bytes: &[u8], file: &str) -> Result<Vec<DebunkedClaim>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(super::strip_bom(bytes));
    let headers = reader.headers().map_err(|e| csv_error(&e))?.clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ClaimsError::Empty);
    }
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let [claim_col, rating_col, verdict_col, reviewer_col, url_col, date_col, language_col] = COLUMNS.map(column);
    let claim_col = claim_col.ok_or(ClaimsError::MissingColumn { column: "claim" })?;
    let origin = ClaimOrigin::Import { file: file.to_owned() };

    let mut claims = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let cell = |index: Option<usize>| {
            index.and_then(|i| record.get(i)).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
        };
        let text =
            cell(Some(claim_col)).ok_or(ClaimsError::MissingField { at: Location::line(line), field: "claim" })?;
        let rating = cell(rating_col);
        let verdict = match cell(verdict_col) {
            Some(value) => value.parse::<Verdict>().map_err(|_| ClaimsError::UnknownVerdict { line, value })?,
            None => Verdict::from_rating(rating.as_deref(), None, None, None),
        };
        let published = match cell(date_col) {
            Some(value) => Some(parse_date(&value).ok_or(ClaimsError::BadDate { line, value })?),
            None => None,
        };
        let mut claim = DebunkedClaim::new(&text, verdict, origin.clone()).with_review_url(cell(url_col));
        claim.rating = rating;
        claim.reviewer = cell(reviewer_col);
        claim.published = published;
        claim.language = cell(language_col);
        claims.push(claim);
    }
    Ok(claim::dedupe(claims))
}

/// A csv error with its line, when the reader knows it.
pub(super) fn csv_error(error: &csv::Error) -> ClaimsError {
    let line = error.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => error.to_string(),
    };
    ClaimsError::Csv { line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<DebunkedClaim>> {
        read_csv(text.as_bytes(), "claims.csv")
    }

    #[test]
    fn reads_columns_in_any_order_and_case() {
        let text = "\u{feff}Notes,URL,Claim,Rating,Verdict,Reviewer,Date,Language\n\
                    x,https://checks.example.org/r/1,\"Masks cause CO2 poisoning\",Pants on Fire!,,PolitiFact,2020-06-01,en\n\
                    y,,Ivermectin cures COVID-19,Unsupported,false,Example Checks,2021-08-30T12:00:00Z,\n\
                    z,,  Onions in socks cure flu  \n";
        let claims = read(text).unwrap();
        assert_eq!(claims.len(), 3);
        assert_eq!(claims[0].verdict, Verdict::False);
        assert_eq!(claims[0].rating.as_deref(), Some("Pants on Fire!"));
        assert_eq!(claims[0].review_url.as_deref(), Some("https://checks.example.org/r/1"));
        assert_eq!(claims[0].language.as_deref(), Some("en"));
        assert_eq!(claims[1].verdict, Verdict::False, "the verdict column wins over the rating");
        assert_eq!(claims[1].language, None);
        assert_eq!(claims[2].text, "Onions in socks cure flu");
        assert_eq!(claims[2].verdict, Verdict::Unrated);
        assert_eq!(claims[2].origin, ClaimOrigin::Import { file: "claims.csv".into() });
    }

    #[test]
    fn duplicates_are_dropped() {
        let claims = read("claim\nBleach cures COVID\nbleach cures covid!\n").unwrap();
        assert_eq!(claims.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(read(""), Err(ClaimsError::Empty));
        assert_eq!(read("text,rating\nx,False\n"), Err(ClaimsError::MissingColumn { column: "claim" }));
        assert_eq!(
            read("claim,date\nA,2020-01-01\nB,01/02/2020\n"),
            Err(ClaimsError::BadDate { line: 3, value: "01/02/2020".into() })
        );
        assert_eq!(
            read("claim,verdict\nA,debunked\n"),
            Err(ClaimsError::UnknownVerdict { line: 2, value: "debunked".into() })
        );
        assert_eq!(
            read("claim,rating\nA,False\n,False\n"),
            Err(ClaimsError::MissingField { at: Location::line(3), field: "claim" })
        );
        let message = read("claim,date\nA,2020-01-01\nB,01/02/2020\n").unwrap_err().to_string();
        assert_eq!(message, "line 3: bad date `01/02/2020` (expected RFC 3339 or YYYY-MM-DD)");
        let bad_utf8 = read_csv(b"claim\nA\n\xff\xfe\n", "x");
        assert!(matches!(bad_utf8, Err(ClaimsError::Csv { line: 3, .. })), "{bad_utf8:?}");
    }
}
