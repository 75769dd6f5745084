//! Feed dialects feed-rs does not read, translated before it parses, and a count of the entries
//! a document holds (so that a feed whose entries cannot be read is an error, not an empty,
//! healthy feed).
//!
//! - **Atom 0.3** (`<feed version="0.3" xmlns="http://purl.org/atom/ns#">`, still served by old
//!   TypePad, Blogger and FeedBurner feeds): feed-rs sees an Atom feed of another namespace and
//!   reads no entry. It becomes Atom 1.0: the namespace, `issued` -> `published`, `modified` ->
//!   `updated`, `tagline` -> `subtitle`, `copyright` -> `rights`, and `type`/`mode` of text
//!   constructs (`text/html` or `mode="escaped"` -> `type="html"`, `text/plain` -> `text`,
//!   `application/xhtml+xml` -> `xhtml`).
//! - **Netscape RSS 0.9 without RDF** (`<rss version="0.9">` whose items follow the channel):
//!   feed-rs refuses the version. It becomes RSS 2.0 with the items inside the channel.
//! - **Atom under a mistaken namespace** (`http://www.w3.org/2005/Atom/`, `https://...`): read as
//!   Atom 1.0, through the same translation (the 0.3 renames never match a 1.0 element).
//! - **RSS** of a version feed-rs refuses (none, 0.93, 0.94, 2.00...) or under a default
//!   namespace (Userland's RSS 2.0 namespace): read as RSS 2.0. **RDF**: the Netscape 0.9
//!   namespace read as RSS 1.0's, and an item without `<link>` known by its `rdf:about`.
//! - **Dublin Core** `dc:title` and `dc:description` stand in for an item's missing title and
//!   text.
//!
//! Everything else passes through untouched (the translation returns `None`).

use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::{Reader, Writer};

const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
const RSS10_NS: &str = "http://purl.org/rss/1.0/";
/// RSS versions feed-rs dispatches on; any other `version` (none, 0.93, 0.94, 2.00, ...) is
/// refused although the elements are the same.
const RSS_VERSIONS_READ: [&str; 3] = ["2.0", "0.91", "0.92"];
/// Nesting beyond this is not a feed anyone publishes; the scan stops there.
const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Atom03,
    /// RSS that feed-rs refuses or reads empty: a version it does not know (Netscape 0.9, 0.93,
    /// 0.94, none), or a default namespace on the elements (Userland's RSS 2.0 namespace).
    Rss,
    /// RSS 1.0 or Netscape RSS 0.9 in RDF: the 0.9 namespace is not RSS 1.0's, and feed-rs
    /// drops items without `<link>` (their `rdf:about` is their address).
    Rdf,
}

/// The document rewritten into a dialect feed-rs reads, or `None` when it needs nothing (or is
/// not XML we can rewrite: then feed-rs gives its own error).
pub fn translate(bytes: &[u8]) -> Option<Vec<u8>> {
    let (root, dialect) = detect(bytes)?;
    let mut dublin_core = mentions_dublin_core_text(bytes).then(|| DublinCoreText::new(root == "feed"));
    if dialect.is_none() && dublin_core.is_none() {
        return None;
    }
    let mut reader = Reader::from_reader(bytes);
    let mut writer = Writer::new(Vec::with_capacity(bytes.len() + 64));
    let mut buf = Vec::new();
    let mut depth = 0usize;
    // RDF: the `rdf:about` of the item being read, and whether it had a `<link>`.
    let mut item_about: Option<String> = None;
    let mut item_has_link = false;
    loop {
        let mut event = reader.read_event_into(&mut buf).ok()?;
        if let Some(dublin_core) = dublin_core.as_mut() {
            event = dublin_core.apply(event, depth);
        }
        let out = match (&event, dialect) {
            (Event::Eof, _) => break,
            (Event::Start(start), Some(Dialect::Atom03)) => Event::Start(atom03_start(start, depth == 0)),
            (Event::Empty(start), Some(Dialect::Atom03)) => Event::Empty(atom03_start(start, depth == 0)),
            (Event::End(end), Some(Dialect::Atom03)) => Event::End(BytesEnd::new(atom03_name(end.name().as_ref()))),
            (Event::Start(start), Some(Dialect::Rss)) if depth == 0 => Event::Start(rss_root(start)),
            // Netscape 0.9 closes the channel before its items: it closes at the end instead.
            (Event::End(end), Some(Dialect::Rss))
                if depth == 2 && AsRef::<str>::as_ref(&end.local_name()) == "channel" =>
            {
                depth -= 1;
                buf.clear();
                continue;
            }
            (Event::End(end), Some(Dialect::Rss)) if depth == 1 => {
                writer.write_event(Event::End(BytesEnd::new("channel"))).ok()?;
                Event::End(end.to_owned())
            }
            (Event::Start(start), Some(Dialect::Rdf)) => {
                let name = AsRef::<str>::as_ref(&start.local_name()).to_owned();
                if depth == 0 {
                    Event::Start(rdf_root(start))
                } else {
                    if depth == 1 && name == "item" {
                        item_about = attribute(start, "rdf:about").or_else(|| attribute(start, "about"));
                        item_has_link = false;
                    } else if depth == 2 && name == "link" {
                        item_has_link = true;
                    }
                    event.clone()
                }
            }
            (Event::End(end), Some(Dialect::Rdf))
                if depth == 2 && AsRef::<str>::as_ref(&end.local_name()) == "item" =>
            {
                if let Some(about) = item_about.take().filter(|_| !item_has_link) {
                    let link = BytesStart::new("link");
                    writer.write_event(Event::Start(link.clone())).ok()?;
                    writer.write_event(Event::Text(quick_xml::events::BytesText::new(&about))).ok()?;
                    writer.write_event(Event::End(link.to_end())).ok()?;
                }
                event.clone()
            }
            (other, _) => other.clone(),
        };
        match &out {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return None;
        }
        writer.write_event(out).ok()?;
        buf.clear();
    }
    Some(writer.into_inner())
}

/// Adds an attribute whose value is already escaped (`push_attribute` of a `(&str, &str)`
/// escapes it again: `&amp;` would become `&amp;amp;`).
pub(crate) fn push_raw(start: &mut BytesStart<'_>, key: &str, raw_value: &str) {
    start.push_attribute(quick_xml::events::attributes::Attribute {
        key: quick_xml::name::QName(key),
        value: std::borrow::Cow::Borrowed(raw_value),
    });
}

fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start.attributes().flatten().find(|a| AsRef::<str>::as_ref(&a.key) == name).map(|a| {
        let raw = a.value.clone().into_owned();
        quick_xml::escape::unescape(&raw).map_or_else(|_| raw.clone(), std::borrow::Cow::into_owned)
    })
}

/// The attributes of `start` but `skip`, with `version` and `xmlns` as given.
fn rewritten_root(
    start: &BytesStart<'_>,
    name: &str,
    version: Option<&str>,
    xmlns: Option<&str>,
) -> BytesStart<'static> {
    let mut root = BytesStart::new(name.to_owned());
    if let Some(version) = version {
        root.push_attribute(("version", version));
    }
    if let Some(xmlns) = xmlns {
        root.push_attribute(("xmlns", xmlns));
    }
    for a in start.attributes().flatten() {
        let key = AsRef::<str>::as_ref(&a.key);
        if key == "xmlns" || (version.is_some() && key == "version") {
            continue;
        }
        push_raw(&mut root, key, &a.value);
    }
    root
}

/// `<rss version="2.0">`, without a default namespace (feed-rs would read every element as
/// one of an unknown namespace).
fn rss_root(start: &BytesStart<'_>) -> BytesStart<'static> {
    let name = AsRef::<str>::as_ref(&start.name()).to_owned();
    rewritten_root(start, &name, Some("2.0"), None)
}

/// The RDF root with RSS 1.0 as its default namespace.
fn rdf_root(start: &BytesStart<'_>) -> BytesStart<'static> {
    let name = AsRef::<str>::as_ref(&start.name()).to_owned();
    rewritten_root(start, &name, None, Some(RSS10_NS))
}

/// The root element's local name, and the dialect that needs translating (if any).
fn detect(bytes: &[u8]) -> Option<(String, Option<Dialect>)> {
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(root) | Event::Empty(root) => {
                let attr = |name: &str| attribute(&root, name);
                let name = AsRef::<str>::as_ref(&root.local_name()).to_owned();
                let dialect = match name.as_str() {
                    // Atom 0.3, or Atom under a namespace that is not Atom 1.0's (a trailing slash,
                    // an `https`, the 0.3 namespace on a 1.0 feed): feed-rs reads no element of it.
                    "feed"
                        if attr("version").as_deref() == Some("0.3")
                            || attr("xmlns").is_some_and(|ns| !ns.is_empty() && ns != ATOM10_NS) =>
                    {
                        Some(Dialect::Atom03)
                    }
                    "rss"
                        if !attr("version").is_some_and(|v| RSS_VERSIONS_READ.contains(&v.trim()))
                            || attr("xmlns").is_some_and(|ns| !ns.trim().is_empty()) =>
                    {
                        Some(Dialect::Rss)
                    }
                    "RDF" => Some(Dialect::Rdf),
                    _ => None,
                };
                return Some((name, dialect));
            }
            Event::Eof => return None,
            _ => buf.clear(),
        }
    }
}

/// Whether the document has Dublin Core titles or descriptions (a quick byte scan: the
/// translation that reads them runs only where they are).
fn mentions_dublin_core_text(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"<dc:title") || has(b"<dc:description")
}

/// Dublin Core `dc:title` and `dc:description` of an item read as its title and text where the
/// item has none of its own (feedparser does; feed-rs reads neither in RSS 2.0 or Atom). An
/// element of the item's own that comes later still wins: the parser keeps the last.
struct DublinCoreText {
    atom: bool,
    /// Depth of the item being read.
    item: Option<usize>,
    has_title: bool,
    has_text: bool,
    /// Depth of a renamed element, and its new name, for its end tag.
    renamed: Option<(usize, &'static str)>,
}

impl DublinCoreText {
    fn new(atom: bool) -> Self {
        Self { atom, item: None, has_title: false, has_text: false, renamed: None }
    }

    /// `event` at `depth` (elements open before it), renamed where it is the item's only title
    /// or text.
    fn apply<'a>(&mut self, event: Event<'a>, depth: usize) -> Event<'a> {
        match &event {
            Event::Start(start) | Event::Empty(start) => {
                let name = AsRef::<str>::as_ref(&start.name()).to_owned();
                let local = name.rsplit_once(':').map_or(name.as_str(), |(_, l)| l);
                if matches!(local, "item" | "entry") {
                    self.item = Some(depth);
                    (self.has_title, self.has_text) = (false, false);
                    return event;
                }
                if self.item.map(|d| d + 1) != Some(depth) {
                    return event;
                }
                let new_name = match name.as_str() {
                    "dc:title" if !self.has_title => "title",
                    "dc:description" if !self.has_text => {
                        if self.atom {
                            "summary"
                        } else {
                            "description"
                        }
                    }
                    _ => {
                        match local {
                            "title" if !name.starts_with("dc:") => self.has_title = true,
                            "description" | "summary" | "content" | "encoded" if !name.starts_with("dc:") => {
                                self.has_text = true;
                            }
                            _ => {}
                        }
                        return event;
                    }
                };
                if new_name == "title" {
                    self.has_title = true;
                } else {
                    self.has_text = true;
                }
                let mut renamed = BytesStart::new(new_name);
                for a in start.attributes().flatten() {
                    push_raw(&mut renamed, AsRef::<str>::as_ref(&a.key), &a.value);
                }
                match event {
                    Event::Start(_) => {
                        self.renamed = Some((depth, new_name));
                        Event::Start(renamed)
                    }
                    _ => Event::Empty(renamed),
                }
            }
            Event::End(_) if self.renamed.is_some_and(|(d, _)| d + 1 == depth) => match self.renamed.take() {
                Some((_, name)) => Event::End(BytesEnd::new(name)),
                None => event,
            },
            Event::End(_) if self.item.is_some_and(|d| d + 1 == depth) => {
                self.item = None;
                event
            }
            _ => event,
        }
    }
}

/// Atom 0.3 element names in Atom 1.0.
fn atom03_name(name: &str) -> String {
    let (prefix, local) = name.rsplit_once(':').map_or(("", name), |(p, l)| (p, l));
    let local = match local {
        "issued" => "published",
        "modified" => "updated",
        "tagline" => "subtitle",
        "copyright" => "rights",
        other => other,
    };
    if prefix.is_empty() {
        local.to_owned()
    } else {
        format!("{prefix}:{local}")
    }
}

fn atom03_start(start: &BytesStart<'_>, root: bool) -> BytesStart<'static> {
    let mut out = BytesStart::new(atom03_name(start.name().as_ref()));
    let attrs: Vec<(String, String)> =
        start.attributes().flatten().map(|a| (AsRef::<str>::as_ref(&a.key).to_owned(), a.value.into_owned())).collect();
    let get = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let escaped = get("mode") == Some("escaped");
    let is_link = AsRef::<str>::as_ref(&start.local_name()) == "link";
    for (key, value) in &attrs {
        match key.as_str() {
            "version" if root => {}
            "mode" => {}
            k if (k == "xmlns" || k.starts_with("xmlns:")) && value == ATOM03_NS => out.push_attribute((k, ATOM10_NS)),
            "xmlns" if root && value != ATOM10_NS => out.push_attribute(("xmlns", ATOM10_NS)),
            // `type` of a link is a media type in both versions; of a text construct, a mode.
            "type" if !is_link => {
                let kind = match value.as_str() {
                    "text/html" | "html" => "html",
                    "application/xhtml+xml" | "xhtml" => "xhtml",
                    _ if escaped => "html",
                    _ => "text",
                };
                out.push_attribute(("type", kind));
            }
            k => push_raw(&mut out, k, value),
        }
    }
    if escaped && get("type").is_none() {
        out.push_attribute(("type", "html"));
    }
    out
}

/// How many entries the document holds: `item` and `entry` elements of an XML feed, the
/// `items` of a JSON Feed. `None` when it cannot tell (not XML or JSON).
pub fn count_entries(bytes: &[u8]) -> Option<usize> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)?;
    if bytes[start] == b'{' {
        let value: serde_json::Value = serde_json::from_slice(&bytes[start..]).ok()?;
        return value.get("items").and_then(serde_json::Value::as_array).map(Vec::len);
    }
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut count = 0;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e))
                if matches!(AsRef::<str>::as_ref(&e.local_name()), "item" | "entry") =>
            {
                count += 1;
            }
            Ok(Event::Eof) => return Some(count),
            Ok(_) => {}
            // Not well-formed: count the tags themselves (the parser's loose second reading
            // may still find the entries, and they must be accounted for either way).
            Err(_) => return Some(count_entry_tags(bytes)),
        }
        buf.clear();
    }
}

/// `<item` and `<entry` start tags (with or without a prefix), outside CDATA sections and
/// comments, for a document an XML reader gives up on.
fn count_entry_tags(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| *b == b'<') {
        at += offset + 1;
        let rest = &bytes[at..];
        let skip_to = |end: &[u8]| rest.windows(end.len()).position(|w| w == end).map_or(rest.len(), |p| p + end.len());
        if rest.starts_with(b"![CDATA[") {
            at += skip_to(b"]]>");
            continue;
        }
        if rest.starts_with(b"!--") {
            at += skip_to(b"-->");
            continue;
        }
        let name_end =
            rest.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/')).unwrap_or(rest.len());
        let name = &rest[..name_end];
        let local = name.iter().rposition(|b| *b == b':').map_or(name, |colon| &name[colon + 1..]);
        if matches!(local, b"item" | b"entry") && name_end < rest.len() {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOM03: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Example blog</title>
  <tagline>Notes</tagline>
  <link rel="alternate" type="text/html" href="http://example.org/"/>
  <modified>2005-07-31T12:29:29Z</modified>
  <entry>
    <title>First post</title>
    <link rel="alternate" type="text/html" href="http://example.org/2005/07/first.html"/>
    <id>tag:example.org,2005:1</id>
    <issued>2005-07-31T12:29:29Z</issued>
    <content type="text/html" mode="escaped">&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Second post</title>
    <link rel="alternate" type="text/html" href="http://example.org/2005/07/second.html"/>
    <id>tag:example.org,2005:2</id>
    <modified>2005-07-30T12:29:29Z</modified>
    <summary>Short</summary>
  </entry>
</feed>"#;

    const RSS09: &str = r#"<?xml version="1.0"?>
<rss version="0.9">
<channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
<item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
<item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rss>"#;

    #[test]
    fn atom_03_is_read_as_atom_1_0() {
        let feed = feed_rs::parser::parse(translate(ATOM03.as_bytes()).unwrap().as_slice()).unwrap();
        assert_eq!(feed.entries.len(), 2);
        let first = &feed.entries[0];
        assert_eq!(first.title.as_ref().unwrap().content, "First post");
        assert_eq!(first.links[0].href, "http://example.org/2005/07/first.html");
        assert_eq!(first.published.unwrap().to_rfc3339(), "2005-07-31T12:29:29+00:00");
        assert!(first.content.as_ref().unwrap().body.as_deref().unwrap().contains("<b>world</b>"));
        assert_eq!(feed.entries[1].updated.unwrap().to_rfc3339(), "2005-07-30T12:29:29+00:00");
        assert_eq!(feed.description.unwrap().content, "Notes");
    }

    #[test]
    fn escaped_attribute_values_are_not_escaped_twice() {
        let atom = ATOM03.replace("first.html", "first.html?a=1&amp;b=2");
        let feed = feed_rs::parser::parse(translate(atom.as_bytes()).unwrap().as_slice()).unwrap();
        assert_eq!(feed.entries[0].links[0].href, "http://example.org/2005/07/first.html?a=1&b=2");
    }

    #[test]
    fn other_rss_versions_and_namespaced_rss_are_read() {
        for root in
            [r#"<rss>"#, r#"<rss version="0.94">"#, r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2">"#]
        {
            let doc = format!("{root}<channel><title>t</title><item><title>A</title><link>http://e.org/a</link></item></channel></rss>");
            let feed = feed_rs::parser::parse(translate(doc.as_bytes()).unwrap().as_slice()).unwrap();
            assert_eq!(feed.entries.len(), 1, "{root}");
        }
    }

    #[test]
    fn rdf_items_without_link_use_their_about_and_netscape_namespace_is_read() {
        let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
            <channel><title>t</title></channel>
            <item rdf:about="http://e.org/1"><title>One</title></item>
            <item><title>Two</title><link>http://e.org/2</link></item></rdf:RDF>"#;
        let feed = feed_rs::parser::parse(translate(doc.as_bytes()).unwrap().as_slice()).unwrap();
        let links: Vec<_> = feed.entries.iter().map(|e| e.links[0].href.clone()).collect();
        assert_eq!(links, ["http://e.org/1", "http://e.org/2"]);
    }

    #[test]
    fn dublin_core_titles_and_descriptions_stand_in_for_missing_ones() {
        let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
            <item><dc:title>DC title</dc:title><dc:description>DC text</dc:description><link>http://e.org/1</link></item>
            <item><title>Own title</title><dc:title>DC title</dc:title><link>http://e.org/2</link></item>
            </channel></rss>"#;
        let feed = feed_rs::parser::parse(translate(rss.as_bytes()).unwrap().as_slice()).unwrap();
        let read = |i: usize| {
            let e = &feed.entries[i];
            (e.title.as_ref().map(|t| t.content.clone()), e.summary.as_ref().map(|t| t.content.clone()))
        };
        assert_eq!(read(0), (Some("DC title".to_owned()), Some("DC text".to_owned())));
        assert_eq!(read(1).0.as_deref(), Some("Own title"));
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <entry><id>1</id><dc:title>A</dc:title><dc:description>B</dc:description></entry></feed>"#;
        let feed = feed_rs::parser::parse(translate(atom.as_bytes()).unwrap().as_slice()).unwrap();
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "A");
        assert_eq!(feed.entries[0].summary.as_ref().unwrap().content, "B");
    }

    #[test]
    fn atom_under_a_mistaken_namespace_is_read() {
        let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom/"><title>t</title>
            <entry><id>1</id><title type="html">One &amp;amp; two</title><link href="http://e.org/1"/></entry></feed>"#;
        assert!(feed_rs::parser::parse(doc.as_bytes()).unwrap().entries.is_empty(), "feed-rs alone");
        let feed = feed_rs::parser::parse(translate(doc.as_bytes()).unwrap().as_slice()).unwrap();
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "One &amp; two");
    }

    #[test]
    fn netscape_rss_09_items_after_the_channel_are_read() {
        assert!(feed_rs::parser::parse(RSS09.as_bytes()).map_or(true, |f| f.entries.is_empty()), "feed-rs alone");
        let feed = feed_rs::parser::parse(translate(RSS09.as_bytes()).unwrap().as_slice()).unwrap();
        let titles: Vec<_> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
        assert_eq!(titles, ["New Status Updates", "Bugzilla Reorganized"]);
    }

    #[test]
    fn other_feeds_pass_through() {
        assert!(translate(b"<rss version=\"2.0\"><channel><item><title>a</title></item></channel></rss>").is_none());
        assert!(translate(br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>"#).is_none());
        assert!(translate(b"{\"items\": []}").is_none());
        assert!(translate(b"not xml at all <<<").is_none());
    }

    #[test]
    fn entries_are_counted_in_every_format() {
        assert_eq!(count_entries(ATOM03.as_bytes()), Some(2));
        assert_eq!(count_entries(RSS09.as_bytes()), Some(2));
        assert_eq!(
            count_entries(b"\xEF\xBB\xBF{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{},{},{}]}"),
            Some(3)
        );
        assert_eq!(count_entries(b"<rdf:RDF><item/><item></item></rdf:RDF>"), Some(2));
        assert_eq!(count_entries(b"<html><body>hi</body></html>"), Some(0));
        let broken = b"<rss><channel><item><title>a & b</title></item><!-- <item> --><rss:item/><items/><entry>";
        assert_eq!(count_entries(broken), Some(3));
    }

    #[test]
    fn absurd_nesting_is_refused_not_recursed() {
        let deep = format!(r#"<feed version="0.3">{}</feed>"#, "<x>".repeat(10_000));
        assert!(translate(deep.as_bytes()).is_none());
    }
}
