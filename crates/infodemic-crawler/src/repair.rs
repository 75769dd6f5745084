//! A second chance for feeds that are not well-formed XML, the way feedparser's loose parser
//! gives one: the document is re-written so that an XML parser accepts it, and parsed again.
//! Only used after a strict parse failed, so well-formed feeds never pay for it.
//!
//! What is repaired, each seen in real feeds:
//! - bare `&` in text and attribute values (`?a=1&utm_medium=rss`), and HTML entities XML does
//!   not define (`&nbsp;`), which are kept as text;
//! - end tags that close an element opened earlier than the innermost one (`<p>` left open in
//!   an inline summary): the elements between are closed with it; end tags of elements never
//!   opened are dropped, or end the innermost element when it holds only text (`</titel>`);
//! - an item or entry opened inside an element left open (an `<itunes:category>` without `/`
//!   before the items): items are never nested, so the open elements above the channel close;
//! - a feed saved inside a web page (a browser's "save as", an XHTML wrapper): read from its
//!   root on, with the `<rss>` a bare `<channel>` lost;
//! - a document cut short (a truncated download, an unclosed CDATA): the items read whole are
//!   kept, the one cut off is left out, and every element still open is closed.
//!
//! JSON Feeds get the same chance for values of the wrong type, which feed-rs refuses as a whole
//! document: numeric ids, `tags` as one comma-separated string, an author given as a bare name.

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use quick_xml::{Reader, Writer};

/// Elements that hold items; an item never sits deeper than one of these.
const ITEM_CONTAINERS: [&str; 4] = ["channel", "feed", "RDF", "rss"];
/// Nesting beyond this is not a feed anyone publishes; the repair gives up.
const MAX_DEPTH: usize = 256;
/// Read errors the repair steps over before it gives up on the rest of the document.
const MAX_ERRORS: usize = 1000;
/// The entities XML defines; any other named reference is kept as literal text.
const XML_ENTITIES: [&str; 5] = ["amp", "lt", "gt", "quot", "apos"];

/// The document re-written as well-formed XML, or `None` when there is nothing to repair from
/// (no element at all, absurd nesting).
pub fn repair_xml(bytes: &[u8]) -> Option<Vec<u8>> {
    // The reader works on UTF-8: a body in its declared (or a guessed) charset is decoded, and
    // the declaration written out says UTF-8.
    let utf8 = crate::charset::decode_declared(bytes);
    let escaped = escape_bare_ampersands(&utf8);
    let mut reader = Reader::from_reader(escaped.as_ref());
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    let mut writer = Writer::new(Vec::with_capacity(bytes.len() + 256));
    let mut open: Vec<String> = Vec::new();
    // Per open element, whether it holds elements (else it is text only).
    let mut has_children: Vec<bool> = Vec::new();
    let mut buf = Vec::new();
    let mut wrote_root = false;
    let mut errors = 0;
    // Where the output of the innermost item opened so far starts, and how deep it is.
    let mut item_started: Option<(usize, usize)> = None;
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            // The reader resumes after most errors (a bad character in one text); where it
            // cannot move on, the document ends where it broke and what was read is kept.
            Err(_) if reader.buffer_position() > before && errors < MAX_ERRORS => {
                errors += 1;
                buf.clear();
                continue;
            }
            Err(_) => break,
        };
        match event {
            Event::Eof => break,
            // Tags whose name is not an XML name are noise (`<"<feed>` in a broken document).
            Event::Start(start) | Event::Empty(start) if !is_xml_name(AsRef::<str>::as_ref(&start.name())) => {}
            Event::Start(start) => {
                let name = AsRef::<str>::as_ref(&start.name()).to_owned();
                let start = rebuilt_start(&start);
                if open.is_empty() && wrote_root {
                    // A second root: the document ended.
                    break;
                }
                if open.is_empty() {
                    // A feed saved inside a web page: everything before its root is left out,
                    // and a bare channel gets the RSS root it lost.
                    match local(&name) {
                        "rss" | "feed" | "RDF" => {}
                        "channel" => {
                            writer
                                .write_event(Event::Start(BytesStart::from_content("rss version=\"2.0\"", 3)))
                                .ok()?;
                            open.push("rss".to_owned());
                            has_children.push(true);
                        }
                        _ => {
                            buf.clear();
                            continue;
                        }
                    }
                }
                if is_item(&name) && open.iter().any(|o| ITEM_CONTAINERS.contains(&local(o))) {
                    while open.last().is_some_and(|o| !ITEM_CONTAINERS.contains(&local(o)) && !is_item(o)) {
                        close(&mut writer, &mut open)?;
                    }
                    has_children.truncate(open.len());
                }
                if is_item(&name) {
                    item_started = Some((writer.get_ref().len(), open.len()));
                }
                writer.write_event(Event::Start(start)).ok()?;
                if let Some(parent) = has_children.last_mut() {
                    *parent = true;
                }
                open.push(name);
                has_children.push(false);
                wrote_root = true;
                if open.len() > MAX_DEPTH {
                    return None;
                }
            }
            Event::Empty(_) if open.is_empty() => {}
            Event::Empty(start) => {
                writer.write_event(Event::Empty(rebuilt_start(&start))).ok()?;
                if let Some(parent) = has_children.last_mut() {
                    *parent = true;
                }
                wrote_root = true;
            }
            Event::End(end) => {
                let name = AsRef::<str>::as_ref(&end.name()).to_owned();
                if let Some(position) = open.iter().rposition(|o| *o == name) {
                    while open.len() > position {
                        close(&mut writer, &mut open)?;
                    }
                } else if open.len() > 1 && !has_children.get(open.len() - 1).copied().unwrap_or(true) {
                    // `<title>...</titel>`: a misspelt end of a text-only element ends it.
                    close(&mut writer, &mut open)?;
                }
                has_children.truncate(open.len());
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if !open.is_empty() => {
                writer.write_event(event).ok()?;
            }
            Event::Decl(_) if !wrote_root => {
                writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None))).ok()?;
            }
            // Comments, processing instructions, doctypes (which may declare entities we do not
            // read) and text outside the root are left out.
            _ => {}
        }
        // An item closed (by its end tag or an end tag above it) is whole: no longer the one
        // a truncation would cut off.
        if item_started.is_some_and(|(_, depth)| open.len() <= depth) {
            item_started = None;
        }
        buf.clear();
    }
    // An item the document ends inside is cut short: it is left out, not stored half-read (the
    // next crawl reads it whole).
    let mut output = writer.into_inner();
    if let Some((at, depth)) = item_started.filter(|(_, depth)| open.len() > *depth) {
        output.truncate(at);
        open.truncate(depth);
    }
    let mut writer = Writer::new(output);
    while !open.is_empty() {
        close(&mut writer, &mut open)?;
    }
    wrote_root.then(|| writer.into_inner())
}

/// An XML name as this repair accepts it: a letter or `_` first, then letters, digits, `_`,
/// `-`, `.` or `:`.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// `start` written afresh: its name, and its attributes with XML names, each value quoted and
/// escaped whatever quoting it came with (a lenient read can leave `<` or a quote in a value).
///
/// An Atom `<content src="...">` must be empty and give a media type; feed-rs refuses the whole
/// document over one that is not (text inside, `type="xhtml"`). Such content is read inline:
/// `src` is dropped, and `xhtml` holding escaped markup is read as `html`.
fn rebuilt_start(start: &BytesStart<'_>) -> BytesStart<'static> {
    let name = AsRef::<str>::as_ref(&start.name()).to_owned();
    let out_of_line_content = local(&name) == "content"
        && start.attributes().with_checks(false).flatten().any(|a| AsRef::<str>::as_ref(&a.key) == "src");
    let mut out = BytesStart::new(name);
    let mut keys = std::collections::HashSet::new();
    for attribute in start.attributes().with_checks(false).flatten() {
        let key = AsRef::<str>::as_ref(&attribute.key);
        if !is_xml_name(key) || !keys.insert(key.to_owned()) {
            continue;
        }
        if out_of_line_content && key == "src" {
            continue;
        }
        let mut value = attribute.value.replace('<', "&lt;").replace('"', "&quot;");
        if out_of_line_content && key == "type" && value == "xhtml" {
            value = "html".to_owned();
        }
        crate::dialect::push_raw(&mut out, key, &value);
    }
    out
}

fn close(writer: &mut Writer<Vec<u8>>, open: &mut Vec<String>) -> Option<()> {
    let name = open.pop()?;
    writer.write_event(Event::End(BytesEnd::new(name))).ok()
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

fn is_item(name: &str) -> bool {
    matches!(local(name), "item" | "entry")
}

/// JSON Feed fields that hold a string.
const JSON_STRING_FIELDS: [&str; 12] = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
    "home_page_url",
    "feed_url",
    "language",
];

/// A JSON Feed with the values feed-rs refuses coerced or removed, or `None` when it is not a
/// JSON object at all.
pub fn repair_json_feed(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?.trim_start_matches('\u{feff}');
    let mut feed: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = feed.as_object_mut()?;
    coerce_fields(object);
    object.entry("title").or_insert_with(|| serde_json::Value::String(String::new()));
    if let Some(items) = object.get_mut("items") {
        match items.as_array_mut() {
            Some(items) => {
                items.retain(serde_json::Value::is_object);
                items.iter_mut().filter_map(serde_json::Value::as_object_mut).for_each(coerce_fields);
            }
            None => *items = serde_json::Value::Array(Vec::new()),
        }
    }
    serde_json::to_vec(&feed).ok()
}

fn coerce_fields(object: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    for field in JSON_STRING_FIELDS {
        match object.get(field) {
            Some(Value::Number(n)) => {
                let n = n.to_string();
                object.insert(field.to_owned(), Value::String(n));
            }
            Some(Value::String(_) | Value::Null) | None => {}
            Some(_) => {
                object.remove(field);
            }
        }
    }
    match object.get("tags") {
        Some(Value::String(tags)) => {
            let tags = tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| Value::String(t.to_owned()));
            let tags = Value::Array(tags.collect());
            object.insert("tags".to_owned(), tags);
        }
        Some(Value::Array(tags)) if tags.iter().all(Value::is_string) => {}
        Some(Value::Null) | None => {}
        Some(_) => {
            object.remove("tags");
        }
    }
    match object.get("author") {
        Some(Value::String(name)) => {
            let author = serde_json::json!({ "name": name });
            object.insert("author".to_owned(), author);
        }
        Some(Value::Object(_) | Value::Null) | None => {}
        Some(_) => {
            object.remove("author");
        }
    }
    for list in ["authors", "attachments"] {
        if object.get(list).is_some_and(|v| !v.is_array() && !v.is_null()) {
            object.remove(list);
        }
    }
}

/// `bytes` with every `&` that does not start a reference XML knows escaped as `&amp;`,
/// outside CDATA sections (where `&` is literal).
fn escape_bare_ampersands(bytes: &[u8]) -> Cow<'_, [u8]> {
    const CDATA_OPEN: &[u8] = b"<![CDATA[";
    const CDATA_CLOSE: &[u8] = b"]]>";
    if !bytes.contains(&b'&') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(CDATA_OPEN) {
            let end = find(&bytes[at..], CDATA_CLOSE).map_or(bytes.len(), |e| at + e + CDATA_CLOSE.len());
            out.extend_from_slice(&bytes[at..end]);
            at = end;
            continue;
        }
        let byte = bytes[at];
        out.push(byte);
        if byte == b'&' {
            let after = &bytes[at + 1..bytes.len().min(at + 12)];
            let known = after
                .iter()
                .position(|b| *b == b';')
                .and_then(|end| std::str::from_utf8(&after[..end]).ok())
                .is_some_and(is_xml_reference);
            if !known {
                out.extend_from_slice(b"amp;");
            }
        }
        at += 1;
    }
    Cow::Owned(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// `name` (between `&` and `;`) is a reference an XML parser resolves.
fn is_xml_reference(name: &str) -> bool {
    if let Some(number) = name.strip_prefix('#') {
        return match number.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.len() <= 6 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => !number.is_empty() && number.len() <= 7 && number.chars().all(|c| c.is_ascii_digit()),
        };
    }
    XML_ENTITIES.contains(&name)
}

#[cfg(test)]
mod tests {
    use quick_xml::Reader;

    use super::*;

    fn repaired(doc: &str) -> String {
        String::from_utf8(repair_xml(doc.as_bytes()).unwrap()).unwrap()
    }

    fn entries(doc: &str) -> Vec<(String, String)> {
        let feed = feed_rs::parser::parse(repaired(doc).as_bytes()).unwrap();
        feed.entries
            .iter()
            .map(|e| (e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default(), e.links[0].href.clone()))
            .collect()
    }

    #[test]
    fn bare_ampersands_and_html_entities_are_escaped() {
        let doc = r#"<rss version="2.0"><channel><title>t</title>
            <item><title>Fish &chips &amp; peas&nbsp;&#233;</title><link>http://e.org/a?x=1&utm_medium=rss</link></item>
            </channel></rss>"#;
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err(), "strict parse");
        assert_eq!(
            entries(doc),
            [("Fish &chips & peas&nbsp;é".to_owned(), "http://e.org/a?x=1&utm_medium=rss".to_owned())]
        );
    }

    #[test]
    fn elements_left_open_are_closed() {
        let doc = r#"<rss version="2.0"><channel><title>t</title>
            <itunes:category text='Technology'>
            <item><title>One</title><link>http://e.org/1</link><description><div><p>unclosed</div></description></item>
            <item><title>Two</titel><link>http://e.org/2</link></item></span>
            </channel></rss>"#;
        assert_eq!(entries(doc)[1], ("Two".to_owned(), "http://e.org/2".to_owned()));
    }

    #[test]
    fn a_truncated_document_keeps_what_was_read() {
        let doc = r#"<rss version="2.0"><channel><title>t</title>
            <item><title>One</title><link>http://e.org/1</link></item>
            <item><title>Two</title><link>http://e.org/2</link><description><![CDATA[cut sh"#;
        assert_eq!(entries(doc), [("One".to_owned(), "http://e.org/1".to_owned())]);
    }

    #[test]
    fn json_feed_values_of_the_wrong_type_are_coerced() {
        let doc = r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [
            {"id": 7, "url": "http://e.org/7", "title": "Seven", "tags": "a, b", "author": "Ann"},
            "not an item",
            {"id": "8", "url": "http://e.org/8", "title": "Eight", "attachments": {}}]}"#;
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err(), "strict parse");
        let feed = feed_rs::parser::parse(repair_json_feed(doc.as_bytes()).unwrap().as_slice()).unwrap();
        assert_eq!(feed.entries.len(), 2);
        assert_eq!(feed.entries[0].id, "7");
        assert_eq!(feed.entries[0].categories.len(), 2);
        assert_eq!(feed.entries[0].authors[0].name.as_deref(), Some("Ann"));
        assert!(repair_json_feed(b"[1, 2]").is_none());
    }

    #[test]
    fn a_feed_inside_a_web_page_is_read() {
        let wrapped = r#"<html><head><title>saved</title></head><body>
            <feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><id>1</id><title>One</title><link href="http://e.org/1"/></entry></feed></body></html>"#;
        assert_eq!(entries(wrapped), [("One".to_owned(), "http://e.org/1".to_owned())]);
        let bare = r#"<html><body><channel><title>t</title><item><title>Two</title><link>http://e.org/2</link></item></channel></body></html>"#;
        assert_eq!(entries(bare), [("Two".to_owned(), "http://e.org/2".to_owned())]);
        assert!(repair_xml(b"<html><body><p>No feed here</p></body></html>").is_none());
    }

    /// Whether a strict reader gets through `xml` without a structural error.
    fn well_formed(xml: &[u8]) -> bool {
        let mut reader = Reader::from_reader(xml);
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Eof) => return true,
                Ok(_) => buf.clear(),
                Err(_) => return false,
            }
        }
    }

    #[test]
    fn content_out_of_line_but_not_empty_is_read_inline() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>One</title>
            <link href="http://e.org/1"/><content src="http://e.org/1" type="xhtml">text</content></entry></feed>"#;
        assert!(feed_rs::parser::parse(doc.as_bytes()).is_err(), "feed-rs alone");
        assert_eq!(entries(doc), [("One".to_owned(), "http://e.org/1".to_owned())]);
    }

    #[test]
    fn fuzz_findings_stay_fixed() {
        // An item closed before the document is cut short is whole; tags whose names are not
        // XML names are dropped (both found by tests/fuzz.rs).
        for doc in [
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><span><feed><dc:title>DC</dc:title></rss><item><"<?xml version="1.0"?>"<span></span><rss version="2.0"><content type="xhtml"><div>"#,
            r#"<?xml version="1.0"?><"<feed></"''<rss><channel><item><title>t</title></item>"#,
        ] {
            let repaired = repair_xml(doc.as_bytes()).unwrap();
            assert!(well_formed(&repaired), "{}", String::from_utf8_lossy(&repaired));
        }
    }

    #[test]
    fn nothing_to_repair_from() {
        assert!(repair_xml(b"just text").is_none());
        assert!(repair_xml(format!("<a>{}", "<b>".repeat(1000)).as_bytes()).is_none());
    }
}
