//! Bodies in the wrong or an undeclared charset: feed-rs decodes by the XML prolog's
//! `encoding`, so a feed that declares its charset only in the HTTP header, declares the
//! wrong one, or none at all, is transcoded to UTF-8 here first.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The `encoding` of an XML declaration at the start of `bytes`, if any.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if !start.starts_with(b"<?xml") {
        return None;
    }
    let end = start.windows(2).position(|w| w == b"?>")?;
    let declaration = std::str::from_utf8(&start[..end]).ok()?;
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let value = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let label = value[1..].split(quote).next()?;
    Encoding::for_label(label.trim().as_bytes())
}

/// The `charset` parameter of a Content-Type header.
fn header_charset(content_type: Option<&str>) -> Option<&'static Encoding> {
    let charset = content_type?.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"'))
    })?;
    Encoding::for_label(charset.as_bytes())
}

/// UTF-8 bytes that feed-rs reads right. Valid UTF-8 and correctly declared bodies pass
/// through untouched; otherwise the HTTP charset, else Windows-1252 (the usual culprit, and a
/// superset of ISO-8859-1 as browsers read it), decodes them.
pub fn to_utf8<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Cow<'a, [u8]> {
    let declared = declared_encoding(bytes);
    let valid_utf8 = std::str::from_utf8(bytes).is_ok();
    let from = match declared {
        // UTF-8 under a legacy declaration (a template's prolog, a CMS that re-encodes some
        // fields): read as UTF-8, a stray legacy byte as Windows-1252.
        Some(encoding) if encoding != UTF_8 && encoding.is_single_byte() && mostly_utf8(bytes) => {
            return Cow::Owned(declare_utf8(&decode_mixed(bytes)));
        }
        // feed-rs decodes non-UTF-8 declarations itself.
        Some(encoding) if encoding != UTF_8 => return Cow::Borrowed(bytes),
        // Declared (or assumed) UTF-8 and it is: nothing to do.
        _ if valid_utf8 && header_charset(content_type).is_none_or(|c| c == UTF_8 || declared.is_some()) => {
            return Cow::Borrowed(bytes)
        }
        // The header names a charset and the body does not contradict it.
        _ if declared.is_none() => header_charset(content_type).filter(|c| *c != UTF_8).unwrap_or(WINDOWS_1252),
        // Declared UTF-8 but is not: the declaration lies.
        _ => header_charset(content_type).filter(|c| *c != UTF_8).unwrap_or(WINDOWS_1252),
    };
    let (text, _, _) = from.decode(bytes);
    Cow::Owned(text.into_owned().into_bytes())
}

/// Valid multi-byte UTF-8 sequences outnumber the bytes that are not UTF-8: text in UTF-8,
/// whatever the declaration says (legacy single-byte text almost never forms valid UTF-8
/// sequences by chance).
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    multibyte > 0 && invalid < multibyte
}

/// UTF-8 where it is valid, Windows-1252 for the bytes where it is not.
fn decode_mixed(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.push_str(&WINDOWS_1252.decode_without_bom_handling(chunk.invalid()).0);
    }
    out
}

/// `text` with its XML declaration (if any) saying UTF-8.
fn declare_utf8(text: &str) -> Vec<u8> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = match body.strip_prefix("<?xml").and_then(|after| after.find("?>").map(|end| &after[end + 2..])) {
        Some(rest) => rest,
        None => body,
    };
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{rest}").into_bytes()
}

/// `bytes` as UTF-8: decoded from the charset its XML declaration names, else kept when valid
/// UTF-8, else read as Windows-1252. For re-writing a document, not for feed-rs (which decodes
/// declared charsets itself).
pub fn decode_declared(bytes: &[u8]) -> Cow<'_, [u8]> {
    let encoding = match declared_encoding(bytes) {
        Some(encoding) if encoding.is_single_byte() && mostly_utf8(bytes) => {
            return Cow::Owned(decode_mixed(bytes).into_bytes())
        }
        Some(encoding) if encoding != UTF_8 => encoding,
        _ if std::str::from_utf8(bytes).is_ok() => return Cow::Borrowed(bytes),
        _ => WINDOWS_1252,
    };
    match encoding.decode(bytes).0 {
        Cow::Borrowed(text) => Cow::Owned(text.as_bytes().to_vec()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATIN1_CAFE: &[u8] = b"<rss><channel><title>Caf\xe9 sant\xe9</title></channel></rss>";

    #[test]
    fn utf8_passes_through() {
        let body = "<rss><channel><title>Café</title></channel></rss>".as_bytes();
        assert!(matches!(to_utf8(body, Some("text/xml; charset=utf-8")), Cow::Borrowed(_)));
        assert!(matches!(to_utf8(body, None), Cow::Borrowed(_)));
    }

    #[test]
    fn header_charset_decodes_undeclared_bodies() {
        let out = to_utf8(LATIN1_CAFE, Some("application/rss+xml; charset=ISO-8859-1"));
        assert!(std::str::from_utf8(&out).unwrap().contains("Café santé"));
    }

    #[test]
    fn invalid_utf8_without_any_charset_is_read_as_windows_1252() {
        let out = to_utf8(b"<rss><title>\x93quoted\x94 caf\xe9</title></rss>", None);
        assert!(std::str::from_utf8(&out).unwrap().contains("\u{201c}quoted\u{201d} café"));
    }

    #[test]
    fn a_lying_utf8_declaration_is_corrected() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><title>caf\xe9</title></rss>";
        let out = to_utf8(body, None);
        assert!(std::str::from_utf8(&out).unwrap().contains("café"));
    }

    #[test]
    fn utf8_under_a_legacy_declaration_is_read_as_utf8() {
        // UTF-8 text with one stray Latin-1 byte (ø as 0xF8).
        let bytes = [
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>".as_slice(),
            "Brøndby café".as_bytes(),
            b"</title><d>bes\xf8ge</d></rss>",
        ]
        .concat();
        let out = String::from_utf8(to_utf8(&bytes, None).into_owned()).unwrap();
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>"), "{out}");
        assert!(out.contains("Brøndby café") && out.contains("besøge"), "{out}");
    }

    #[test]
    fn non_utf8_declarations_are_left_to_the_parser() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>caf\xe9</title></rss>";
        assert!(matches!(to_utf8(body, Some("text/xml; charset=utf-8")), Cow::Borrowed(_)));
        assert_eq!(declared_encoding(body), Some(WINDOWS_1252), "encoding_rs maps ISO-8859-1 to windows-1252");
    }
}
