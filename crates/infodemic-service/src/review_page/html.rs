//! The review page's HTML. maud escapes every interpolated value, so a feed's `<script>` is
//! text; links from feeds are only made links when they are http(s), so `javascript:` never
//! becomes one. No inline script or style: the CSP allows neither.

use infodemic_core::{
    Agreement, Appearance, QueueEntry, Relation, ReviewState, ScoredItem, VerdictEvent, VerdictScale,
};
use maud::{html, Markup, DOCTYPE};

/// Characters of an item's text shown on its page.
const SHOWN_TEXT_CHARS: usize = 6000;
/// Characters of a title or evidence sentence shown in the queue.
const SHOWN_LINE_CHARS: usize = 300;

/// What the queue's filter form holds (to render it and to come back to it).
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub(crate) struct QueueParams {
    #[serde(default)]
    pub(crate) min_score: Option<String>,
    #[serde(default)]
    pub(crate) source: Option<String>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) campaign: Option<String>,
    #[serde(default)]
    pub(crate) order: Option<String>,
    #[serde(default)]
    pub(crate) all: Option<String>,
    #[serde(default)]
    pub(crate) limit: Option<String>,
    /// The row to select (after a verdict, the one that took the reviewed row's place).
    #[serde(default)]
    pub(crate) at: Option<String>,
}

/// Everything but control characters, cut to `max` characters.
fn shown(text: &str, max: usize) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control() || *c == '\n').take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// A link only for http(s) URLs; anything else (`javascript:`, `data:`) is shown as text.
fn external_link(url: &str, label: &str) -> Markup {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        html! { a href=(url) rel="noopener noreferrer nofollow" target="_blank" { (shown(label, SHOWN_LINE_CHARS)) } }
    } else {
        html! { span.unsafe-link title="not an http(s) link" { (shown(label, SHOWN_LINE_CHARS)) } }
    }
}

fn page(title: &str, reviewer: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · infodemic review" }
                link rel="stylesheet" href="/review/assets/review.css";
                script src="/review/assets/review.js" defer {}
            }
            body data-reviewer=(reviewer) {
                header.top {
                    a.home href="/review" { "infodemic review" }
                    label.reviewer {
                        "Reviewer "
                        input #reviewer name="reviewer" value=(reviewer) maxlength="64" autocomplete="username";
                    }
                    span.help { "Keys: j/k move · o open · letters record a verdict · ? help" }
                }
                main { (body) }
            }
        }
    }
}

fn score_text(scored: &ScoredItem) -> String {
    scored.classification.shown_score().map_or_else(|| "–".to_owned(), |score| format!("{score:.2}"))
}

fn verdict_buttons(scale: &VerdictScale) -> Markup {
    html! {
        @for label in &scale.labels {
            button.verdict type="submit" name="verdict" value=(label.name) title=(label.description)
                data-key=[label.key.map(String::from)] {
                @if let Some(key) = label.key { kbd { (key) } " " }
                (label.name)
            }
        }
    }
}

/// The hidden fields of every verdict form.
fn form_fields(csrf: &str, reviewer: &str, return_to: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="reviewer" value=(reviewer) class="reviewer-field";
        input type="hidden" name="return_to" value=(return_to);
    }
}

pub(crate) struct QueueView<'a> {
    pub(crate) entries: &'a [QueueEntry],
    pub(crate) params: &'a QueueParams,
    pub(crate) scale: &'a VerdictScale,
    pub(crate) csrf: &'a str,
    pub(crate) reviewer: &'a str,
    pub(crate) return_to: &'a str,
    pub(crate) error: Option<&'a str>,
    pub(crate) notice: Option<&'a str>,
}

pub(crate) fn queue(view: &QueueView<'_>) -> String {
    let params = view.params;
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let by_campaign = params.order.as_deref() == Some("campaign-size");
    let body = html! {
        form.filters method="get" action="/review" {
            label { "Min score " input name="min_score" type="number" step="0.01" min="0" max="1" value=(value(&params.min_score)); }
            label { "Source " input name="source" value=(value(&params.source)) maxlength="200"; }
            label { "Text " input name="text" value=(value(&params.text)) maxlength="200"; }
            label { "Campaign " input name="campaign" value=(value(&params.campaign)) placeholder="c12" maxlength="24"; }
            label { "Order "
                select name="order" {
                    option value="score" selected[!by_campaign] { "score" }
                    option value="campaign-size" selected[by_campaign] { "campaign size" }
                }
            }
            label { input type="checkbox" name="all" value="1" checked[params.all.is_some()]; " below the review threshold too" }
            button type="submit" { "Filter" }
        }
        @if let Some(error) = view.error { p.error role="alert" { (error) } }
        @if let Some(notice) = view.notice { p.notice role="status" { (notice) } }
        @if view.entries.is_empty() {
            p.empty { "Nothing to review with these filters." }
        } @else {
            ol #queue.queue data-at=(value(&params.at)) {
                @for (index, entry) in view.entries.iter().enumerate() {
                    @let scored = &entry.scored;
                    @let item = &scored.item;
                    @let class = &scored.classification;
                    li.queue-item data-id=(item.id) data-index=(index) tabindex="-1" {
                        div.meta {
                            span.score title="model score" { (score_text(scored)) }
                            @if class.flagged { span.badge.flagged { "flagged" } } @else { span.badge { "review" } }
                            span.source { (item.source.as_str()) }
                            @if let Some(campaign) = entry.campaign {
                                a.campaign href={ "/review?campaign=" (campaign.id) } { (campaign.id) " · " (campaign.size) " items" }
                            }
                            @if let Some(time) = item.published { time datetime=(time.to_rfc3339()) { (time.format("%Y-%m-%d %H:%M")) } }
                        }
                        h2.title { a.open href={ "/review/items/" (item.id) } { (shown(&item.title, SHOWN_LINE_CHARS)) } }
                        @if let Some(reason) = class.reasons.first() { p.why { "Why: " (shown(reason, SHOWN_LINE_CHARS)) } }
                        @if let Some(evidence) = class.evidence.first() {
                            blockquote.evidence { (shown(&evidence.text, SHOWN_LINE_CHARS)) }
                        }
                        @if let Some(claim) = &class.claim_match {
                            p.claim {
                                "Fact-checked: "
                                @match &claim.review_url {
                                    Some(url) => (external_link(url, &claim.claim)),
                                    None => (shown(&claim.claim, SHOWN_LINE_CHARS)),
                                }
                                " [" (claim.verdict) "]"
                            }
                        }
                        form.verdict-form method="post" action={ "/review/items/" (item.id) "/verdict" } {
                            (form_fields(view.csrf, view.reviewer, &with_at(view.return_to, index)))
                            (verdict_buttons(view.scale))
                        }
                    }
                }
            }
        }
        dialog #help {
            h2 { "Keyboard" }
            dl {
                dt { kbd { "j" } " / " kbd { "k" } } dd { "next / previous item" }
                dt { kbd { "o" } } dd { "open the item" }
                @for label in &view.scale.labels {
                    @if let Some(key) = label.key { dt { kbd { (key) } } dd { (label.name) ": " (label.description) } }
                }
            }
            form method="dialog" { button { "Close" } }
        }
    };
    page("Queue", view.reviewer, &body).into_string()
}

pub(crate) struct ItemView<'a> {
    pub(crate) scored: &'a ScoredItem,
    pub(crate) appearances: &'a [Appearance],
    pub(crate) events: &'a [VerdictEvent],
    pub(crate) state: &'a ReviewState,
    pub(crate) campaign: Option<infodemic_core::CampaignRef>,
    pub(crate) scale: &'a VerdictScale,
    pub(crate) csrf: &'a str,
    pub(crate) reviewer: &'a str,
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn item(view: &ItemView<'_>) -> String {
    let scored = view.scored;
    let item = &scored.item;
    let class = &scored.classification;
    let return_to = format!("/review/items/{}", item.id);
    let body = html! {
        article.item data-id=(item.id) {
            h1 { (shown(&item.title, SHOWN_LINE_CHARS)) }
            @if let Some(error) = view.error { p.error role="alert" { (error) } }
            dl.facts {
                dt { "Link" } dd { (external_link(&item.url, &item.url)) }
                dt { "Source" } dd { (item.source.as_str()) }
                @if let Some(author) = &item.author { dt { "Author" } dd { (shown(author, 200)) } }
                dt { "Published" } dd { (item.published.map_or_else(|| "unknown".to_owned(), |t| t.to_rfc3339())) }
                dt { "Score" } dd { (score_text(scored)) " (" (class.model.id) " " (class.model.version) ")"
                    @if class.flagged { " · flagged" } }
                @if let Some(campaign) = view.campaign {
                    dt { "Campaign" } dd { a href={ "/review?campaign=" (campaign.id) } { (campaign.id) } " · " (campaign.size) " items" }
                }
                @for (index, reason) in class.reasons.iter().enumerate() {
                    dt { @if index == 0 { "Why" } } dd { (shown(reason, SHOWN_LINE_CHARS)) }
                }
                @for (index, evidence) in class.evidence.iter().enumerate() {
                    dt { @if index == 0 { "Evidence" } } dd { (format!("{:.2} ", evidence.score)) (shown(&evidence.text, SHOWN_LINE_CHARS)) }
                }
                @if let Some(claim) = &class.claim_match {
                    dt { "Fact-check" }
                    dd {
                        @match &claim.review_url {
                            Some(url) => (external_link(url, &claim.claim)),
                            None => (shown(&claim.claim, SHOWN_LINE_CHARS)),
                        }
                        " [" (claim.verdict) "] similarity " (format!("{:.2}", claim.similarity))
                        @if let Some(reviewer) = &claim.reviewer { " · " (shown(reviewer, 100)) }
                    }
                }
            }
            section.verdict {
                h2 { "Verdict" }
                p.current {
                    @match &view.state.current {
                        Some(current) => { "Current: " strong { (current) } " · " (view.state.agreement) }
                        None => "Not reviewed yet.",
                    }
                }
                @if view.state.agreement == Agreement::Disagreed {
                    ul.standing { @for s in &view.state.standing { li { (s.reviewer) ": " (s.verdict) } } }
                }
                form.verdict-form method="post" action={ "/review/items/" (item.id) "/verdict" } {
                    (form_fields(view.csrf, view.reviewer, &return_to))
                    label { "Note " textarea name="note" rows="2" maxlength="4000" {} }
                    div.buttons { (verdict_buttons(view.scale)) }
                }
                form.undo-form method="post" action={ "/review/items/" (item.id) "/undo" } {
                    (form_fields(view.csrf, view.reviewer, &return_to))
                    button type="submit" { "Undo my verdict" }
                }
            }
            section.history {
                h2 { "History" }
                @if view.events.is_empty() { p { "No verdicts yet." } } @else {
                    table {
                        thead { tr { th { "When" } th { "Reviewer" } th { "Action" } th { "Verdict" } th { "Score seen" } th { "Note" } } }
                        tbody {
                            @for event in view.events {
                                tr {
                                    td { (event.time.format("%Y-%m-%d %H:%M:%S")) }
                                    td { (event.reviewer) }
                                    td { (match event.action { infodemic_core::ReviewAction::Verdict => "verdict", infodemic_core::ReviewAction::Undo => "undo" }) }
                                    td { (event.verdict) }
                                    td { (event.score.map_or_else(|| "–".to_owned(), |s| format!("{s:.2}"))) }
                                    td { (event.note.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
            @if !view.appearances.is_empty() {
                section.appearances {
                    h2 { "Also seen" }
                    ul {
                        @for appearance in view.appearances {
                            li {
                                (appearance.source.as_str()) " · " (external_link(&appearance.url, &appearance.url)) " · "
                                (match appearance.relation { Relation::SameContent => "same text".to_owned(), Relation::NearDuplicate { distance } => format!("near copy, {distance} bits apart") })
                            }
                        }
                    }
                }
            }
            section.text { h2 { "Text" } div.body { (shown(&item.text, SHOWN_TEXT_CHARS)) } }
        }
    };
    page(&shown(&item.title, 80), view.reviewer, &body).into_string()
}

pub(crate) fn login(error: Option<&str>) -> String {
    let body = html! {
        h1 { "Log in" }
        p { "This service listens beyond this machine: give the token from " code { "service.json" } " in its data directory." }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="post" action="/review/login" {
            label { "Token " input type="password" name="token" autocomplete="current-password" required; }
            button type="submit" { "Log in" }
        }
    };
    page("Log in", "", &body).into_string()
}

pub(crate) fn message(title: &str, text: &str) -> String {
    page(title, "", &html! { h1 { (title) } p { (text) } }).into_string()
}

/// The queue's address with the row to select after a verdict: the reviewed row leaves the
/// queue, so the same position holds the next item.
fn with_at(base: &str, index: usize) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}at={index}")
}
