//! Boilerplate: the tags, ARIA roles, class/id hints and whole blocks of page chrome (share
//! bars, comments, related boxes, newsletters, cookie banners, ads, bylines), and the class/id
//! hints of content containers.

use scraper::node::Element;

use super::page::has_token;

/// Elements whose content is never article text.
pub(super) const DROPPED_TAGS: &[&str] = &[
    "head",
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "math",
    "canvas",
    "video",
    "audio",
    "object",
    "embed",
    "map",
    "button",
    "select",
    "option",
    "textarea",
    "input",
    "nav",
    "aside",
    "header",
    "footer",
    "figcaption",
    "dialog",
    "menu",
];

/// AMP components that hold chrome, not content.
const DROPPED_AMP_TAGS: &[&str] = &[
    "amp-ad",
    "amp-sticky-ad",
    "amp-embed",
    "amp-sidebar",
    "amp-consent",
    "amp-user-notification",
    "amp-social-share",
    "amp-analytics",
    "amp-iframe",
    "amp-lightbox",
    "amp-list",
    "amp-geo",
    "amp-state",
    "amp-pixel",
    "amp-story-auto-ads",
    "amp-web-push",
];

/// ARIA roles of page chrome.
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
    "tooltip",
];

/// Class/id words (whole tokens) of boilerplate.
const NEGATIVE_TOKENS: &[&str] = &[
    "ad",
    "ads",
    "adv",
    "advert",
    "advertisement",
    "advertising",
    "adslot",
    "adunit",
    "advertorial",
    "author",
    "bio",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "caption",
    "comment",
    "comments",
    "consent",
    "contact",
    "cookie",
    "cookies",
    "credit",
    "credits",
    "date",
    "dateline",
    "disqus",
    "donate",
    "donation",
    "dropdown",
    "footer",
    "gdpr",
    "header",
    "links",
    "masthead",
    "menu",
    "meta",
    "modal",
    "nav",
    "navbar",
    "navigation",
    "newsletter",
    "outbrain",
    "overlay",
    "pager",
    "pagination",
    "popular",
    "popup",
    "print",
    "promo",
    "recirc",
    "recommended",
    "related",
    "reply",
    "respond",
    "reviewed",
    "share",
    "sharing",
    "signup",
    "skip",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "taboola",
    "tags",
    "timestamp",
    "toolbar",
    "tools",
    "topics",
    "trending",
    "updated",
];

/// Class/id fragments of boilerplate, matched anywhere (camelCase and run-together names).
const NEGATIVE_FRAGMENTS: &[&str] = &[
    "comments",
    "comment-",
    "-comment",
    "commentlist",
    "newsletter",
    "cookie",
    "consent",
    "related",
    "advert",
    "sponsor",
    "subscri",
    "recommend",
    "breadcrumb",
    "sharebar",
    "share-",
    "-share",
    "sharing",
    "social",
    "sr-only",
    "visually-hidden",
    "screen-reader",
    "popup",
    "outbrain",
    "taboola",
    "byline",
    "signup",
    "sign-up",
    "most-read",
    "mostread",
    "more-from",
    "morefrom",
    "read-next",
    "readnext",
    "onetrust",
];

/// Class/id words of layout that may wrap the content itself: boilerplate unless the element
/// holds the headline.
const WEAK_NEGATIVE_TOKENS: &[&str] = &["sidebar", "widget", "banner", "rail"];

/// Class/id fragments of content containers.
const POSITIVE_FRAGMENTS: &[&str] = &[
    "article",
    "body",
    "content",
    "entry",
    "main",
    "post",
    "text",
    "blog",
    "story",
    "prose",
    "markup",
    "richtext",
    "rich-text",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Hint {
    Strong,
    Weak,
    Positive,
    Neutral,
}

/// The lowercased class, id and component names an element carries. WordPress taxonomy
/// classes (`category-social-media`, `tag-ads`) name topics, not page parts, and are left out.
fn hint_text(element: &Element) -> String {
    let mut hint = String::new();
    for class in element.classes() {
        let lowered = class.to_ascii_lowercase();
        if ["category-", "tag-", "post_tag-", "topic-", "topics-"].iter().any(|p| lowered.starts_with(p)) {
            continue;
        }
        hint.push_str(&lowered);
        hint.push(' ');
    }
    for attr in ["id", "data-component", "data-testid", "data-module", "itemprop"] {
        if let Some(value) = element.attr(attr) {
            hint.push_str(&value.to_ascii_lowercase());
            hint.push(' ');
        }
    }
    hint
}

pub(super) fn classify_hint(element: &Element) -> Hint {
    let hint = hint_text(element);
    if hint.is_empty() {
        return Hint::Neutral;
    }
    // A heading is a header's content, not a page header (`h2.header-anchor-post`).
    let heading = matches!(element.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
    let tokens = || {
        hint.split(|c: char| !c.is_ascii_alphanumeric()).filter(move |t| !t.is_empty() && (!heading || *t != "header"))
    };
    if tokens().any(|t| NEGATIVE_TOKENS.contains(&t)) || NEGATIVE_FRAGMENTS.iter().any(|f| hint.contains(f)) {
        return Hint::Strong;
    }
    if tokens().any(|t| WEAK_NEGATIVE_TOKENS.contains(&t)) {
        return Hint::Weak;
    }
    if POSITIVE_FRAGMENTS.iter().any(|f| hint.contains(f)) {
        return Hint::Positive;
    }
    Hint::Neutral
}

fn is_hidden(element: &Element) -> bool {
    if element.attr("hidden").is_some() || element.attr("aria-hidden").is_some_and(|v| v.trim() == "true") {
        return true;
    }
    element.attr("style").is_some_and(|style| {
        let style: String = style.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// `main`, `role=main` and `itemprop=articleBody`: the page's own word for where content is.
pub(super) fn is_content_landmark(element: &Element) -> bool {
    element.name() == "main"
        || has_token(element.attr("role"), "main")
        || has_token(element.attr("itemprop"), "articlebody")
}

/// Whether an element's subtree is boilerplate, given whether it holds a content landmark or
/// an `<h1>`.
pub(super) fn is_boilerplate_element(element: &Element, holds_landmark: bool, holds_h1: bool) -> bool {
    let tag = element.name();
    if tag == "html" || tag == "body" {
        return false;
    }
    if DROPPED_TAGS.contains(&tag) || DROPPED_AMP_TAGS.contains(&tag) {
        return true;
    }
    if tag == "form" {
        // ASP.NET pages wrap the whole page in one form.
        return !holds_landmark && !holds_h1;
    }
    let role_dropped =
        element.attr("role").is_some_and(|role| DROPPED_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()));
    if role_dropped || is_hidden(element) {
        return !holds_landmark;
    }
    // An `<article>` with the headline is the story, whatever its classes say (Substack's is
    // `newsletter-post`); other articles may be comments or teasers.
    if holds_landmark || (tag == "article" && holds_h1) {
        return false;
    }
    match classify_hint(element) {
        Hint::Strong => true,
        Hint::Weak => !holds_h1,
        Hint::Positive | Hint::Neutral => false,
    }
}

/// Whole blocks that are page furniture, compared by their fingerprint.
pub(super) const BOILERPLATE_BLOCKS: &[&str] = &[
    "advertisement",
    "advertisement scroll to continue",
    "story continues below advertisement",
    "article continues below advertisement",
    "continue reading below",
    "continue reading",
    "read more",
    "share",
    "share this",
    "share this article",
    "share this story",
    "skip to content",
    "skip to main content",
    "related",
    "related articles",
    "related stories",
    "related content",
    "sponsored",
    "sponsored content",
    "more on this story",
    "listen",
    "follow",
    "print",
    "comments",
    "subscribe",
    "publicidad",
    "anuncio",
];
