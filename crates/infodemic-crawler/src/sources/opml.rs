//! OPML 1.0 and 2.0 feed lists: import ([`parse`]) and export ([`write`]).
//!
//! # Reading
//! Every `<outline>` with an `xmlUrl` (any letter case: `xmlurl` is common in OPML 1.0
//! files) is a feed; outlines without one are folders, and the titles of the folders
//! around a feed, joined with `/`, are its category (`Health/Official`). A feed outside any
//! folder takes its own `category` attribute instead (OPML 2.0: comma-separated slash paths;
//! the first one is used, without its leading slash). Titles come from `text`, else
//! `title`, else the feed's URL.
//!
//! Feed URLs must be `http(s)` (`feed://` and `feed:https://` are read as the URLs they
//! stand for); an outline with another or an unreadable URL is skipped, as is a second
//! outline with the same feed URL. A UTF-8 byte order mark is ignored and UTF-16 documents
//! (with a BOM) are decoded. Besides XML's five entities, a few HTML entities that feed
//! readers write into OPML (`&nbsp;`, `&eacute;`, …) are decoded; an attribute with an
//! unknown entity keeps it as written.
//!
//! # Writing
//! [`write`] emits OPML 2.0: feeds without a category first, then one folder outline per
//! category, in the order categories first appear. `parse(write(x))` gives `x` back for any
//! list already in that order.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use url::Url;

use super::SourceError;

/// One feed of a feed list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outline {
    /// The feed's title (`text`, else `title`).
    pub title: String,
    /// The feed's URL (`xmlUrl`).
    pub xml_url: Url,
    /// The site's URL (`htmlUrl`), if given and readable.
    pub html_url: Option<Url>,
    /// The titles of the enclosing folders joined with `/`, else the `category` attribute.
    pub category: Option<String>,
}

/// What an open `<outline>` element contributes to its children.
enum Open {
    /// A folder, with its title (empty when it has none).
    Folder(String),
    /// A feed (feeds nested in feeds do not make the outer one a folder).
    Feed,
}

/// Reads the feeds of an OPML document.
///
/// # Errors
/// [`SourceError::Shape`] when the bytes are not well-formed XML (mismatched or unclosed
/// tags, a truncated document), not text, or not OPML (the root element is not `<opml>`).
pub fn parse(bytes: &[u8]) -> Result<Vec<Outline>, SourceError> {
    let text = decode(bytes)?;
    let mut reader = Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Open> = Vec::new();
    let mut depth = 0_usize;
    let mut seen_root = false;
    let mut outlines: Vec<Outline> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| SourceError::Shape(format!("OPML is not well-formed XML at byte {position}: {e}")))?;
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(element) | Event::Empty(element) if !seen_root => {
                if !element.local_name().as_ref().eq_ignore_ascii_case("opml") {
                    let name = element.local_name().as_ref().to_owned();
                    return Err(SourceError::Shape(format!("not OPML: the root element is <{name}>")));
                }
                seen_root = true;
                depth += usize::from(is_start);
            }
            Event::Start(_) | Event::Empty(_) if depth == 0 => {
                return Err(SourceError::Shape("OPML has elements after the <opml> element".to_owned()));
            }
            Event::Start(element) => {
                depth += 1;
                if is_outline(&element) {
                    let feed = read_outline(&element, &open)?;
                    open.push(if feed.is_some() { Open::Feed } else { Open::Folder(outline_label(&element)) });
                    push_unique(&mut outlines, feed);
                }
            }
            Event::Empty(element) if is_outline(&element) => {
                push_unique(&mut outlines, read_outline(&element, &open)?);
            }
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                if element.local_name().as_ref().eq_ignore_ascii_case("outline") {
                    open.pop();
                }
            }
            Event::Text(text) if (!seen_root || depth == 0) && !text.as_ref().trim().is_empty() => {
                return Err(SourceError::Shape("text outside the <opml> element".to_owned()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(SourceError::Shape("not OPML: no root element".to_owned()));
    }
    if depth != 0 {
        return Err(SourceError::Shape("OPML document is truncated: elements are left open".to_owned()));
    }
    Ok(outlines)
}

/// The document as text: BOM removed, UTF-16 decoded.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, SourceError> {
    let utf16 = |big_endian: bool| -> Result<Cow<'_, str>, SourceError> {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|pair| {
                if big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                }
            })
            .collect();
        String::from_utf16(&units)
            .map(Cow::Owned)
            .map_err(|_| SourceError::Shape("OPML is not valid UTF-16".to_owned()))
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        _ => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|e| SourceError::Shape(format!("OPML is not UTF-8: {e}")))
        }
    }
}

fn is_outline(element: &BytesStart<'_>) -> bool {
    element.local_name().as_ref().eq_ignore_ascii_case("outline")
}

/// Adds `outline` unless it is `None` or its feed URL is already listed.
fn push_unique(outlines: &mut Vec<Outline>, outline: Option<Outline>) {
    if let Some(outline) = outline {
        if outlines.iter().all(|known| known.xml_url != outline.xml_url) {
            outlines.push(outline);
        }
    }
}

/// The value of the attribute named `name` (any letter case), entities decoded.
fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, SourceError> {
    for attribute in element.attributes().with_checks(false) {
        let attribute = attribute.map_err(|e| SourceError::Shape(format!("bad attribute in <outline>: {e}")))?;
        if !attribute.key.local_name().as_ref().eq_ignore_ascii_case(name) {
            continue;
        }
        let value = match attribute.normalized_value_with(XmlVersion::Implicit1_0, 1, html_entity) {
            Ok(value) => value.into_owned(),
            Err(_) => attribute.value.clone().into_owned(),
        };
        return Ok(Some(value.trim().to_owned()));
    }
    Ok(None)
}

/// XML's entities and the few HTML ones feed readers put into OPML files.
fn html_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "eacute" => "é",
        "egrave" => "è",
        "agrave" => "à",
        "ouml" => "ö",
        "uuml" => "ü",
        "auml" => "ä",
        "szlig" => "ß",
        "ccedil" => "ç",
        "ntilde" => "ñ",
        "mdash" => "—",
        "ndash" => "–",
        "hellip" => "…",
        "rsquo" => "’",
        "lsquo" => "‘",
        "ldquo" => "“",
        "rdquo" => "”",
        _ => return None,
    })
}

/// The outline's title: `text`, else `title` (empty when neither is there).
fn outline_label(element: &BytesStart<'_>) -> String {
    ["text", "title"]
        .into_iter()
        .find_map(|name| attribute(element, name).ok().flatten().filter(|value| !value.is_empty()))
        .unwrap_or_default()
}

/// The feed an outline stands for, or `None` for a folder or an unusable feed URL.
fn read_outline(element: &BytesStart<'_>, open: &[Open]) -> Result<Option<Outline>, SourceError> {
    let Some(raw_url) = attribute(element, "xmlUrl")?.filter(|url| !url.is_empty()) else {
        return Ok(None);
    };
    let Some(xml_url) = feed_url(&raw_url) else {
        tracing::debug!(message = "skipping OPML outline with an unusable feed URL", url = %raw_url);
        return Ok(None);
    };
    let html_url = attribute(element, "htmlUrl")?.as_deref().and_then(feed_url);
    let label = outline_label(element);
    let folders: Vec<&str> = open
        .iter()
        .filter_map(|open| match open {
            Open::Folder(title) if !title.is_empty() => Some(title.as_str()),
            _ => None,
        })
        .collect();
    let category = if folders.is_empty() {
        attribute(element, "category")?.and_then(|category| {
            let first = category.split(',').next().unwrap_or_default().trim().trim_matches('/').trim();
            (!first.is_empty()).then(|| first.to_owned())
        })
    } else {
        Some(folders.join("/"))
    };
    Ok(Some(Outline { title: if label.is_empty() { xml_url.to_string() } else { label }, xml_url, html_url, category }))
}

/// An `http(s)` URL, reading `feed://host/…` as `http://host/…` and `feed:https://…` as
/// `https://…`.
fn feed_url(raw: &str) -> Option<Url> {
    let raw = raw.trim();
    let raw: Cow<'_, str> = match raw.get(..5) {
        Some(scheme) if scheme.eq_ignore_ascii_case("feed:") => {
            let rest = &raw[5..];
            if rest.starts_with("//") {
                Cow::Owned(format!("http:{rest}"))
            } else {
                Cow::Borrowed(rest)
            }
        }
        _ => Cow::Borrowed(raw),
    };
    Url::parse(&raw).ok().filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// Writes `outlines` as an OPML 2.0 document titled `title` (see the module docs for the
/// layout). Text is XML-escaped; characters XML cannot hold are dropped.
pub fn write(outlines: &[Outline], title: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n  </head>\n  <body>\n", escape(title)));
    let mut categories: Vec<&str> = Vec::new();
    for outline in outlines {
        match outline.category.as_deref() {
            None => write_feed(&mut out, outline, "    "),
            Some(category) if !categories.contains(&category) => categories.push(category),
            Some(_) => {}
        }
    }
    for category in categories {
        let category_text = escape(category);
        out.push_str(&format!("    <outline text=\"{category_text}\" title=\"{category_text}\">\n"));
        for outline in outlines.iter().filter(|outline| outline.category.as_deref() == Some(category)) {
            write_feed(&mut out, outline, "      ");
        }
        out.push_str("    </outline>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

fn write_feed(out: &mut String, outline: &Outline, indent: &str) {
    let title = escape(&outline.title);
    out.push_str(&format!(
        "{indent}<outline type=\"rss\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{}\"",
        escape(outline.xml_url.as_str())
    ));
    if let Some(html_url) = &outline.html_url {
        out.push_str(&format!(" htmlUrl=\"{}\"", escape(html_url.as_str())));
    }
    out.push_str("/>\n");
}

/// Escapes text for an XML attribute or element: markup characters and the whitespace that
/// attribute-value normalisation would turn into spaces; control characters XML 1.0 cannot
/// hold are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn reads_nesting_spellings_and_entities() {
        let opml = "\u{feff}<?xml version=\"1.0\"?>
<opml version=\"1.0\"><head><title>t</title></head><body>
  <outline text=\"Health &amp; Science\">
    <outline title=\"Caf&eacute; &lt;News&gt;\" xmlurl=\"https://example.org/rss?a=1&amp;b=2\" htmlurl=\"https://example.org/\"/>
    <outline text=\"Inner\"><outline text=\"Deep\" XMLURL=\"feed://example.org/deep.xml\"/></outline>
  </outline>
  <outline text=\"Loose\" xmlUrl=\"feed:https://example.org/loose.xml\" category=\"/Tags/Vaccines,/Other\"/>
  <outline text=\"Bad scheme\" xmlUrl=\"ftp://example.org/x\"/>
  <outline text=\"Dup\" xmlUrl=\"https://example.org/rss?a=1&amp;b=2\"/>
</body></opml>";
        let outlines = parse(opml.as_bytes()).unwrap();
        assert_eq!(outlines.len(), 3, "{outlines:#?}");
        assert_eq!(outlines[0].title, "Café <News>");
        assert_eq!(outlines[0].xml_url, url("https://example.org/rss?a=1&b=2"));
        assert_eq!(outlines[0].html_url, Some(url("https://example.org/")));
        assert_eq!(outlines[0].category.as_deref(), Some("Health & Science"));
        assert_eq!(outlines[1].xml_url, url("http://example.org/deep.xml"));
        assert_eq!(outlines[1].category.as_deref(), Some("Health & Science/Inner"));
        assert_eq!(outlines[2].xml_url, url("https://example.org/loose.xml"));
        assert_eq!(outlines[2].category.as_deref(), Some("Tags/Vaccines"));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            &b""[..],
            b"   ",
            b"<rss version=\"2.0\"><channel/></rss>",
            b"<opml><body><outline text=\"a\" xmlUrl=\"https://example.org/a\"></body></opml>",
            b"<opml><body><outline text=\"a\" xmlUrl=\"https://example.org/a\"/>",
            b"<opml><body></body></opml><opml/>",
            b"\xff\x00garbage",
            b"plain text, not xml",
        ] {
            assert!(matches!(parse(bad), Err(SourceError::Shape(_))), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn empty_body_is_an_empty_list() {
        assert!(parse(b"<opml version=\"2.0\"><head/><body/></opml>").unwrap().is_empty());
    }

    #[test]
    fn utf16_is_decoded() {
        let text = "<opml><body><outline text=\"Ü\" xmlUrl=\"https://example.org/u\"/></body></opml>";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(parse(&bytes).unwrap()[0].title, "Ü");
    }

    #[test]
    fn writes_escaped_grouped_opml_that_reads_back() {
        let outlines = vec![
            Outline {
                title: "Plain \"quoted\" <feed> & 'co'\nline".to_owned(),
                xml_url: url("https://example.org/feed?a=1&b=2"),
                html_url: None,
                category: None,
            },
            Outline {
                title: "WHO-like".to_owned(),
                xml_url: url("https://example.org/who.xml"),
                html_url: Some(url("https://example.org/who")),
                category: Some("Health & Official".to_owned()),
            },
            Outline {
                title: "Second".to_owned(),
                xml_url: url("https://example.org/2.xml"),
                html_url: None,
                category: Some("Health & Official".to_owned()),
            },
            Outline {
                title: "Fact \u{1}checks".to_owned(),
                xml_url: url("https://example.org/fc.xml"),
                html_url: None,
                category: Some("Fact-checkers".to_owned()),
            },
        ];
        let written = write(&outlines, "My <feeds>");
        let mut expected = outlines;
        assert!(written.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"));
        assert!(written.contains("<title>My &lt;feeds&gt;</title>"));
        assert!(written.contains("xmlUrl=\"https://example.org/feed?a=1&amp;b=2\""));
        expected[3].title = "Fact checks".to_owned();
        assert_eq!(parse(written.as_bytes()).unwrap(), expected);
    }
}
