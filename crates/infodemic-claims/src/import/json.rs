//! ClaimReview JSON: one object, an array, JSON lines, or a Fact Check Tools API export.

use serde_json::{Deserializer, Map, Value};

use crate::error::{ClaimsError, Location, Result};
use crate::jsonld::{self, Context};
use crate::verdict::RatingScale;
use crate::{ClaimId, ClaimOrigin, DebunkedClaim, Verdict};
use infodemic_core::claim;

/// Reads ClaimReview JSON from a file named `file`.
///
/// Accepts one `ClaimReview` object (also inside `@graph`), an array of them, JSON lines
/// (any whitespace-separated sequence of values) of them, and the Google Fact Check Tools
/// API shape `{"claims": [{"text", "claimant", "claimDate", "claimReview": [{"publisher":
/// {"name", "site"}, "url", "title", "reviewDate", "textualRating", "languageCode"}]}]}`,
/// whole or one claim per line. A Fact Check Tools claim yields one claim per review.
/// Empty input yields no claims.
///
/// # Errors
/// [`ClaimsError::Json`] for invalid JSON, [`ClaimsError::NotClaimReview`] for a record of
/// another kind, [`ClaimsError::MissingField`] for a review without claim text; each with
/// the line (and array element) of the record.
pub fn read_claimreview_json(bytes: &[u8], file: &str) -> Result<Vec<DebunkedClaim>> {
    let bytes = super::strip_bom(bytes);
    let origin = ClaimOrigin::Import { file: file.to_owned() };
    let mut claims = Vec::new();
    let mut stream = Deserializer::from_slice(bytes).into_iter::<Value>();
    loop {
        let line = line_at(bytes, stream.byte_offset());
        let value = match stream.next() {
            None => break,
            Some(Ok(value)) => value,
            Some(Err(error)) => return Err(ClaimsError::Json { line: error.line(), message: strip_position(&error) }),
        };
        match &value {
            Value::Object(object) if object.get("claims").is_some_and(Value::is_array) => {
                for (index, claim) in object.get("claims").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let at = Location { line, element: Some(index + 1) };
                    read_record(claim, at, &origin, &mut claims)?;
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    read_record(item, Location { line, element: Some(index + 1) }, &origin, &mut claims)?;
                }
            }
            other => read_record(other, Location::line(line), &origin, &mut claims)?,
        }
    }
    Ok(claim::dedupe(claims))
}

/// One record: a ClaimReview (or a document holding some) or a Fact Check Tools claim.
fn read_record(value: &Value, at: Location, origin: &ClaimOrigin, out: &mut Vec<DebunkedClaim>) -> Result<()> {
    let Some(object) = value.as_object() else {
        return Err(ClaimsError::NotClaimReview { at, found: kind_of(value).to_owned() });
    };
    if object.contains_key("claimReview") {
        return read_fact_check_tools_claim(object, at, origin, out);
    }
    let mut reviews = Vec::new();
    jsonld::find_claim_reviews(value, &mut reviews);
    if reviews.is_empty() {
        let types = jsonld::type_names(object);
        let found = if types.is_empty() { "an object without @type".to_owned() } else { types.join(", ") };
        return Err(ClaimsError::NotClaimReview { at, found });
    }
    let context = Context::new(value, None, origin.clone());
    for review in reviews {
        out.push(
            jsonld::claim_from_review(review, &context)
                .ok_or(ClaimsError::MissingField { at, field: "claimReviewed" })?,
        );
    }
    Ok(())
}

/// A claim of the Fact Check Tools API (`claims:search` answers, Fact Check Explorer exports).
fn read_fact_check_tools_claim(
    claim: &Map<String, Value>,
    at: Location,
    origin: &ClaimOrigin,
    out: &mut Vec<DebunkedClaim>,
) -> Result<()> {
    let text = claim.get("text").and_then(jsonld::text_of).ok_or(ClaimsError::MissingField { at, field: "text" })?;
    let claimant = claim.get("claimant").and_then(jsonld::text_of);
    let claim_date = claim.get("claimDate").and_then(Value::as_str).and_then(crate::date::parse_date);
    let reviews = claim.get("claimReview").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if reviews.is_empty() {
        tracing::debug!(message = "Fact Check Tools claim without reviews skipped", line = at.line);
    }
    for review in reviews.iter().filter_map(Value::as_object) {
        let rating = review.get("textualRating").and_then(jsonld::text_of);
        let publisher = review.get("publisher").and_then(Value::as_object);
        let reviewer = publisher
            .and_then(|p| p.get("name").and_then(jsonld::text_of).or_else(|| p.get("site").and_then(jsonld::text_of)));
        let review_url = review.get("url").and_then(Value::as_str).map(str::trim).filter(|u| !u.is_empty());
        out.push(DebunkedClaim {
            id: ClaimId::of(&text, review_url, origin),
            text: text.clone(),
            verdict: Verdict::from_rating(rating.as_deref(), None, None, None),
            rating,
            reviewer,
            review_url: review_url.map(str::to_owned),
            published: review.get("reviewDate").and_then(Value::as_str).and_then(crate::date::parse_date),
            claimant: claimant.clone(),
            claim_date,
            appearances: Vec::new(),
            language: review.get("languageCode").and_then(jsonld::text_of),
            origin: origin.clone(),
        });
    }
    Ok(())
}

/// The 1-based line of the first non-whitespace byte at or after `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let start = bytes[offset.min(bytes.len())..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(bytes.len(), |skip| offset + skip);
    1 + bytes[..start].iter().filter(|&&b| b == b'\n').count()
}

/// A serde_json message without its " at line L column C" suffix (the line is reported apart).
fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    }
}

/// A JSON value's kind, for error messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a nested array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<DebunkedClaim>> {
        read_claimreview_json(text.as_bytes(), "claims.json")
    }

    const REVIEW_A: &str = r#"{"@context": "https://schema.org", "@type": "ClaimReview",
        "claimReviewed": "Drinking hot water kills the coronavirus",
        "url": "https://checks.example.org/r/hot-water",
        "datePublished": "2020-03-20",
        "author": {"@type": "Organization", "name": "Example Checks"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1, "alternateName": "False"}}"#;

    #[test]
    fn one_object() {
        let claims = read(REVIEW_A).unwrap();
        assert_eq!(claims.len(), 1);
        let claim = &claims[0];
        assert_eq!(claim.verdict, Verdict::False);
        assert_eq!(claim.reviewer.as_deref(), Some("Example Checks"));
        assert_eq!(claim.published.map(|t| t.to_rfc3339()).as_deref(), Some("2020-03-20T00:00:00+00:00"));
        assert_eq!(claim.origin, ClaimOrigin::Import { file: "claims.json".into() });
    }

    #[test]
    fn array_and_json_lines_and_bom() {
        let b = REVIEW_A.replace("hot water", "cold water").replace("r/hot-water", "r/cold-water");
        let array = format!("[{REVIEW_A}, {b}, {REVIEW_A}]");
        assert_eq!(read(&array).unwrap().len(), 2, "duplicates are dropped");
        let lines = format!("{}\n\n{}\n", REVIEW_A.replace('\n', " "), b.replace('\n', " "));
        assert_eq!(read(&lines).unwrap().len(), 2);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), lines.as_bytes()].concat();
        assert_eq!(read_claimreview_json(&with_bom, "x").unwrap().len(), 2);
        assert!(read("  \n").unwrap().is_empty());
    }

    #[test]
    fn fact_check_tools_export() {
        let export = r#"{"claims": [
          {"text": "Vitamin C megadoses cure COVID-19", "claimant": "Viral post", "claimDate": "2020-03-01T00:00:00Z",
           "claimReview": [
             {"publisher": {"name": "Example Checks", "site": "checks.example.org"},
              "url": "https://checks.example.org/r/vitamin-c", "title": "No, vitamin C does not cure COVID-19",
              "reviewDate": "2020-03-05T10:00:00Z", "textualRating": "False", "languageCode": "en"},
             {"publisher": {"site": "verifica.example.net"},
              "url": "https://verifica.example.net/vitamina-c", "textualRating": "Engañoso", "languageCode": "es"}]},
          {"text": "A claim nobody reviewed", "claimReview": []}],
         "nextPageToken": "abc"}"#;
        let claims = read(export).unwrap();
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[0].verdict, Verdict::False);
        assert_eq!(claims[0].claimant.as_deref(), Some("Viral post"));
        assert!(claims[0].claim_date.is_some());
        assert_eq!(claims[1].reviewer.as_deref(), Some("verifica.example.net"));
        assert_eq!(claims[1].verdict, Verdict::Misleading);
        assert_eq!(claims[1].language.as_deref(), Some("es"));
        assert_ne!(claims[0].id, claims[1].id);
    }

    #[test]
    fn errors_name_the_line() {
        let bad_line = format!("{}\n{{\"@type\": \"ClaimReview\",\n", REVIEW_A.replace('\n', " "));
        assert!(matches!(read(&bad_line), Err(ClaimsError::Json { line: 3, .. })), "{:?}", read(&bad_line));
        let not_review = format!("{}\n{{\"@type\": \"NewsArticle\"}}", REVIEW_A.replace('\n', " "));
        assert_eq!(
            read(&not_review),
            Err(ClaimsError::NotClaimReview { at: Location::line(2), found: "NewsArticle".into() })
        );
        let no_text = r#"[{"@type": "ClaimReview", "claimReviewed": "x"}, {"@type": "ClaimReview"}]"#;
        assert_eq!(
            read(no_text),
            Err(ClaimsError::MissingField { at: Location { line: 1, element: Some(2) }, field: "claimReviewed" })
        );
        assert!(matches!(read("[1]"), Err(ClaimsError::NotClaimReview { .. })));
        let message = read(&bad_line).unwrap_err().to_string();
        assert!(message.starts_with("line 3: invalid JSON: EOF"), "{message}");
    }
}
