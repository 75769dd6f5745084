//! Values read from JSON-LD text without a JSON parser: a page's structured data is often
//! malformed, and only a few string values are wanted.

/// The unescaped string value of the first `"key": "..."` pair in a JSON text.
pub(super) fn json_string_value(json: &str, key: &str) -> Option<String> {
    let rest = json_value_after_key(json, key)?;
    rest.starts_with('"').then(|| json_string(rest)).flatten()
}

/// The text following the first `"key":` in `json`, from its value's first character.
pub(super) fn json_value_after_key<'j>(json: &'j str, key: &str) -> Option<&'j str> {
    let pattern = format!("\"{key}\"");
    let mut from = 0;
    while let Some(found) = json.get(from..)?.find(&pattern) {
        let after = from + found + pattern.len();
        if let Some(value) = json.get(after..)?.trim_start().strip_prefix(':') {
            return Some(value.trim_start());
        }
        from = after;
    }
    None
}

/// An author's name from JSON-LD: `"author": "Name"`, or the first `"name"` inside the
/// author object or array.
pub(super) fn json_author(json: &str) -> Option<String> {
    let value = json_value_after_key(json, "author")?;
    if value.starts_with('"') {
        return json_string(value);
    }
    if value.starts_with('{') || value.starts_with('[') {
        return json_string_value(json_value_span(value), "name");
    }
    None
}

/// The JSON value (object or array) at the start of `text`, up to its matching bracket.
fn json_value_span(text: &str) -> &str {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &text[..at + c.len_utf8()];
                }
            }
            _ => {}
        }
    }
    text
}

/// Decodes the JSON string literal at the start of `text` (which starts with `"`).
fn json_string(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars().skip(1);
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' | 'f' => out.push(' '),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    out.push(decoded.unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use super::*;

    #[test]
    fn json_ld_values_without_a_json_parser() {
        let json = r#"{"@graph":[{"@type":"NewsArticle","headline":"A \"quoted\" title",
            "author":[{"@type":"Person","name":"Ana P\u00e9rez"}],"datePublished" : "2024-03-05T10:30:00Z"}]}"#;
        assert_eq!(json_string_value(json, "datePublished").as_deref(), Some("2024-03-05T10:30:00Z"));
        assert_eq!(json_string_value(json, "headline").as_deref(), Some("A \"quoted\" title"));
        assert_eq!(json_author(json).as_deref(), Some("Ana Pérez"));
        assert_eq!(json_author(r#"{"author": "Sam Lee"}"#).as_deref(), Some("Sam Lee"));
        assert_eq!(json_author(r##"{"author": {"@id": "#p"}}, "name": "Elsewhere""##), None);
        assert_eq!(json_string_value(r#"{"datePublished": "unterminated"#, "datePublished"), None);
    }
}
