//! The Cheng et al. 2021 COVID-19 rumour data set (`news.csv`, MIT licence).

use super::table::csv_error;
use crate::error::{ClaimsError, Location, Result};
use crate::{ClaimOrigin, DebunkedClaim, Verdict};
use infodemic_core::claim;

/// The data set's name in [`ClaimOrigin::Dataset`].
pub const CHENG_DATASET: &str = "cheng2020-news";

/// The reviewer recorded for its claims: the labels come from Snopes, collected by the
/// authors, published under the MIT licence.
pub const CHENG_REVIEWER: &str = "Snopes / Cheng et al. 2021 (MIT)";

/// Reads `news.csv` of Cheng et al. 2021, "COVID-19 rumor dataset"
/// (github.com/MickeysClubhouse/COVID-19-rumor-dataset): no header row; columns id, label
/// (`F` false, `T` true, `U` unverified), text, popularity; possibly a UTF-8 BOM.
///
/// Keeps the rows labelled `F`, as [`Verdict::False`] with rating `F`, reviewer
/// [`CHENG_REVIEWER`] and origin `Dataset { name: CHENG_DATASET }`; drops the others and
/// duplicate texts.
///
/// # Errors
/// [`ClaimsError::Csv`] for a row without 4 fields or bad quoting or UTF-8, and
/// [`ClaimsError::MissingField`] for an `F` row without text, with the line.
pub fn read_cheng_news(bytes: &[u8]) -> Result<Vec<DebunkedClaim>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(super::strip_bom(bytes));
    let origin = ClaimOrigin::Dataset { name: CHENG_DATASET.to_owned() };
    let mut claims = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        if record.len() != 4 {
            let message = format!("expected 4 fields (id, label, text, popularity), found {}", record.len());
            return Err(ClaimsError::Csv { line, message });
        }
        if record.get(1).map(str::trim) != Some("F") {
            continue;
        }
        let text = record.get(2).map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return Err(ClaimsError::MissingField { at: Location::line(line), field: "text" });
        }
        let mut claim = DebunkedClaim::new(text, Verdict::False, origin.clone());
        claim.rating = Some("F".to_owned());
        claim.reviewer = Some(CHENG_REVIEWER.to_owned());
        claim.language = Some("en".to_owned());
        claims.push(claim);
    }
    Ok(claim::dedupe(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_false_rows() {
        let text = "\u{feff}3,F,\"Garlic water cures COVID-19, say doctors\",3\n\
                    4,T,Handwashing reduces spread,2\n\
                    5,U,Warm weather will kill the virus,2\n\
                    6,F,garlic water cures covid 19 say doctors,1\n\
                    7,F,Hair dryers kill the virus,2\n";
        let claims = read_cheng_news(text.as_bytes()).unwrap();
        let texts: Vec<&str> = claims.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["Garlic water cures COVID-19, say doctors", "Hair dryers kill the virus"]);
        assert!(claims.iter().all(|c| c.verdict == Verdict::False
            && c.reviewer.as_deref() == Some(CHENG_REVIEWER)
            && c.origin == ClaimOrigin::Dataset { name: CHENG_DATASET.into() }));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            read_cheng_news(b"1,F,ok,3\n2,F,too,many,fields\n"),
            Err(ClaimsError::Csv {
                line: 2,
                message: "expected 4 fields (id, label, text, popularity), found 5".into()
            })
        );
        assert_eq!(
            read_cheng_news(b"1,F,ok,3\n2,T,,1\n3,F, ,1\n"),
            Err(ClaimsError::MissingField { at: Location::line(3), field: "text" })
        );
        assert!(read_cheng_news(b"").unwrap().is_empty());
    }
}
