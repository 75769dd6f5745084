//! `/review`: the page where fact-checkers turn flags into verdicts. Server-rendered HTML,
//! one script and one stylesheet of our own (no CDN, no inline code); forms work without the
//! script, which only adds keyboard shortcuts. See [`security`] for who may use it.

mod html;
pub(crate) mod security;

use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use infodemic_core::{
    CampaignId, ItemId, ItemQuery, NewVerdict, QueueOrder, QueueRequest, ReviewState, SourceId, VerdictScale,
};
use infodemic_store::ReviewLog;

use crate::server::{blocking, AppState, Failure};
pub(crate) use security::PageSecurity;
use security::{harden, Refusal};

const SCRIPT: &str = include_str!("assets/review.js");
const STYLE: &str = include_str!("assets/review.css");
/// Items on one queue page by default, and at most.
const DEFAULT_QUEUE: usize = 50;
const MAX_QUEUE: usize = 500;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(queue))
        .route("/review/", get(queue))
        .route("/review/items/{id}", get(item))
        .route("/review/items/{id}/verdict", post(record))
        .route("/review/items/{id}/undo", post(undo))
        .route("/review/login", get(login_form).post(login))
        .route("/review/assets/review.js", get(script))
        .route("/review/assets/review.css", get(style))
}

/// An HTML answer with the page's security headers.
fn page(status: StatusCode, body: String) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    harden(&mut response);
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    harden(&mut response);
    response
}

/// `None` when the request may see the page, else the answer to give instead.
fn refusal(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    match state.page.admit(headers) {
        Ok(()) => None,
        Err(Refusal::Login) => Some(see_other("/review/login")),
        Err(Refusal::Host) => {
            tracing::warn!(message = "Review page request with a foreign Host header refused.");
            let body = html::message("Refused", "This page answers on its own address only.");
            Some(page(StatusCode::MISDIRECTED_REQUEST, body))
        }
    }
}

/// Where to go after a form: only back into the review page.
fn return_target(requested: Option<&str>) -> String {
    match requested {
        Some(path) if path.starts_with("/review") && !path.starts_with("//") && !path.contains(['\r', '\n']) => {
            path.to_owned()
        }
        _ => "/review".to_owned(),
    }
}

/// The queue's filters as a request, or what is wrong with them.
fn queue_request(params: &html::QueueParams) -> Result<QueueRequest, String> {
    let trimmed = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let min_score = match trimmed(&params.min_score) {
        Some(text) => match text.parse::<f32>() {
            Ok(score) if (0.0..=1.0).contains(&score) => Some(score),
            _ => return Err("Min score must be a number from 0 to 1.".to_owned()),
        },
        None => None,
    };
    let sources = match trimmed(&params.source) {
        Some(text) => vec![SourceId::new(&text).map_err(|e| format!("Source: {e}"))?],
        None => Vec::new(),
    };
    let campaign = match trimmed(&params.campaign) {
        Some(text) => Some(text.parse::<CampaignId>().map_err(|e| format!("Campaign: {e}"))?),
        None => None,
    };
    let limit = match trimmed(&params.limit) {
        Some(text) => {
            text.parse::<usize>().map_err(|_| "Limit must be a whole number.".to_owned())?.clamp(1, MAX_QUEUE)
        }
        None => DEFAULT_QUEUE,
    };
    let order = match params.order.as_deref() {
        Some("campaign-size") => QueueOrder::CampaignSize,
        _ => QueueOrder::Score,
    };
    let query = ItemQuery {
        review_only: params.all.is_none(),
        min_score,
        sources,
        text: trimmed(&params.text),
        limit: Some(limit),
        ..ItemQuery::default()
    };
    Ok(QueueRequest { query, order, campaign })
}

/// The queue's address with its filters (without the selected row).
fn queue_address(params: &html::QueueParams) -> String {
    let kept = html::QueueParams { at: None, ..params.clone() };
    match serde_urlencoded::to_string(&kept) {
        Ok(query) if !query.is_empty() => format!("/review?{query}"),
        _ => "/review".to_owned(),
    }
}

async fn queue(State(state): State<AppState>, headers: HeaderMap, Query(params): Query<html::QueueParams>) -> Response {
    if let Some(refused) = refusal(&state, &headers) {
        return refused;
    }
    let (entries, error) = match queue_request(&params) {
        Ok(request) => match blocking(&state.store, move |store| store.review_queue(&request)).await {
            Ok(entries) => (entries, None),
            Err(Failure(message)) => (Vec::new(), Some(format!("The store failed: {message}"))),
        },
        Err(message) => (Vec::new(), Some(message)),
    };
    let return_to = queue_address(&params);
    let view = html::QueueView {
        entries: &entries,
        params: &params,
        scale: &state.scale,
        csrf: &state.page.csrf,
        reviewer: &state.default_reviewer,
        return_to: &return_to,
        error: error.as_deref(),
        notice: None,
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, html::queue(&view))
}

async fn item(State(state): State<AppState>, headers: HeaderMap, UrlPath(id): UrlPath<String>) -> Response {
    if let Some(refused) = refusal(&state, &headers) {
        return refused;
    }
    item_page(&state, &id, None, StatusCode::OK).await
}

async fn item_page(state: &AppState, id: &str, error: Option<&str>, status: StatusCode) -> Response {
    let Ok(id) = id.parse::<ItemId>() else {
        return page(StatusCode::NOT_FOUND, html::message("Not found", "That is not an item id."));
    };
    let loaded = blocking(&state.store, move |store| {
        let Some(scored) = store.get(id)? else { return Ok(None) };
        let appearances = store.appearances(id)?;
        let events = store.verdicts(id)?;
        let campaign = store
            .campaign_of(&id.to_string())?
            .and_then(|campaign| store.campaign(campaign).ok().flatten())
            .map(|campaign| infodemic_core::CampaignRef { id: campaign.id, size: campaign.size });
        Ok(Some((scored, appearances, events, campaign)))
    })
    .await;
    match loaded {
        Ok(Some((scored, appearances, events, campaign))) => {
            let state_now = ReviewState::derive(&events);
            let view = html::ItemView {
                scored: &scored,
                appearances: &appearances,
                events: &events,
                state: &state_now,
                campaign,
                scale: &state.scale,
                csrf: &state.page.csrf,
                reviewer: &state.default_reviewer,
                error,
            };
            page(status, html::item(&view))
        }
        Ok(None) => page(StatusCode::NOT_FOUND, html::message("Not found", "No item with that id is stored.")),
        Err(Failure(message)) => page(StatusCode::INTERNAL_SERVER_ERROR, html::message("Store failure", &message)),
    }
}

/// A verdict form.
#[derive(serde::Deserialize)]
struct VerdictForm {
    csrf: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    reviewer: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    return_to: Option<String>,
}

/// What every state-changing form must pass: admitted, from our own page, about an item id.
/// `Err` holds the answer instead.
fn checked_form(state: &AppState, headers: &HeaderMap, id: &str, csrf: &str) -> Result<ItemId, Box<Response>> {
    if let Some(refused) = refusal(state, headers) {
        return Err(Box::new(refused));
    }
    if !state.page.same_origin_post(headers, csrf) {
        let body = html::message("Refused", "This form did not come from the review page.");
        return Err(Box::new(page(StatusCode::FORBIDDEN, body)));
    }
    id.parse::<ItemId>()
        .map_err(|_| Box::new(page(StatusCode::NOT_FOUND, html::message("Not found", "That is not an item id."))))
}

/// The reviewer a form names, else the service's default.
fn form_reviewer(state: &AppState, given: String) -> String {
    if given.trim().is_empty() {
        state.default_reviewer.to_string()
    } else {
        given
    }
}

/// The answer to a form once the store acted: back where the form came from, or the item
/// with the refusal.
async fn after_form(
    state: &AppState,
    id: &str,
    return_to: Option<&str>,
    outcome: Result<infodemic_core::RecordedVerdicts, Failure>,
) -> Response {
    match outcome {
        Ok(outcome) => match outcome.rejected.first() {
            None => see_other(&return_target(return_to)),
            Some(rejected) => item_page(state, id, Some(&rejected.error), StatusCode::BAD_REQUEST).await,
        },
        Err(Failure(message)) => page(StatusCode::INTERNAL_SERVER_ERROR, html::message("Store failure", &message)),
    }
}

async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<VerdictForm>,
) -> Response {
    let item = match checked_form(&state, &headers, &id, &form.csrf) {
        Ok(item) => item,
        Err(answer) => return *answer,
    };
    let reviewer = form_reviewer(&state, form.reviewer);
    let verdict = NewVerdict { item, verdict: form.verdict, reviewer, note: form.note };
    let scale: std::sync::Arc<VerdictScale> = state.scale.clone();
    let outcome =
        blocking(&state.store, move |store| ReviewLog::record_verdicts(store, &[verdict], &scale, true)).await;
    if outcome.as_ref().is_ok_and(|o| o.rejected.is_empty()) {
        tracing::info!(message = "Verdict recorded from the review page.", item = %item);
    }
    after_form(&state, &id, form.return_to.as_deref(), outcome).await
}

async fn undo(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<VerdictForm>,
) -> Response {
    let item = match checked_form(&state, &headers, &id, &form.csrf) {
        Ok(item) => item,
        Err(answer) => return *answer,
    };
    let reviewer = form_reviewer(&state, form.reviewer);
    let outcome = blocking(&state.store, move |store| ReviewLog::undo_verdicts(store, &[item], &reviewer)).await;
    after_form(&state, &id, form.return_to.as_deref(), outcome).await
}

async fn login_form(State(state): State<AppState>) -> Response {
    if !state.page.login_required {
        return see_other("/review");
    }
    page(StatusCode::OK, html::login(None))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
    if cross_site || !state.page.is_token(&form.token) {
        tracing::warn!(message = "Review page login refused.");
        return page(StatusCode::UNAUTHORIZED, html::login(Some("That is not this service's token.")));
    }
    let mut response = see_other("/review");
    if let Ok(cookie) = HeaderValue::from_str(&state.page.session_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    harden(&mut response);
    response
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_only_return_into_the_review_page() {
        assert_eq!(return_target(Some("/review?order=score&at=2")), "/review?order=score&at=2");
        assert_eq!(return_target(Some("//evil.example/review")), "/review");
        assert_eq!(return_target(Some("https://evil.example/")), "/review");
        assert_eq!(return_target(Some("/review\r\nSet-Cookie: x")), "/review");
        assert_eq!(return_target(None), "/review");
    }

    #[test]
    fn queue_filters_are_checked() {
        let params = |min: &str| html::QueueParams { min_score: Some(min.to_owned()), ..Default::default() };
        assert!(queue_request(&params("2")).is_err());
        assert!(queue_request(&params("x")).is_err());
        let request = queue_request(&params("0.5")).unwrap();
        assert_eq!(request.query.min_score, Some(0.5));
        assert!(request.query.review_only, "items worth a review unless asked for all");
        let campaign = html::QueueParams { campaign: Some("c12".to_owned()), ..Default::default() };
        assert_eq!(queue_request(&campaign).unwrap().campaign, Some(CampaignId(12)));
    }
}
