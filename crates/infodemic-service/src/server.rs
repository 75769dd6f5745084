//! The HTTP side: axum on 127.0.0.1, bearer token, store calls on the blocking pool.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use infodemic_core::{CampaignId, FeedSpec, ItemId, ItemQuery, NewVerdict, QueueRequest, VerdictScale};
use infodemic_store::{ReviewLog, StoreError};
use subtle::ConstantTimeEq;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Format, StoreSnapshot};
use crate::{Metrics, ServedStore, ServiceError, ServiceInfo};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn ServedStore>,
    pub(crate) token: Arc<str>,
    pub(crate) scale: Arc<VerdictScale>,
    pub(crate) page: Arc<crate::review_page::PageSecurity>,
    pub(crate) default_reviewer: Arc<str>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) jobs: Option<Arc<dyn crate::Jobs>>,
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen: 127.0.0.1 on a free port by default. Any address that is not loopback
    /// makes the review page ask for the token.
    pub listen: SocketAddr,
    /// The verdicts reviewers choose from.
    pub scale: VerdictScale,
    /// Whose verdicts the review page records when the reviewer gives no name.
    pub default_reviewer: String,
    /// What `/metrics` reports besides the store's gauges: `watch` records its crawl events
    /// here; left at its default, those counters stay at zero.
    pub metrics: Arc<Metrics>,
    /// Who runs crawls and claim imports for other commands (`watch`); without it those
    /// routes answer 503.
    pub jobs: Option<Arc<dyn crate::Jobs>>,
    /// The PostgreSQL store served (its URL without the password), announced in
    /// `service.json`; `None` for the data directory's embedded store.
    pub store_url: Option<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            scale: VerdictScale::default(),
            default_reviewer: "reviewer".to_owned(),
            metrics: Arc::new(Metrics::new()),
            jobs: None,
            store_url: None,
        }
    }
}

/// A running service; it stops when its cancellation token fires.
#[derive(Debug)]
pub struct ServiceHandle {
    /// Where it listens.
    pub info: ServiceInfo,
    data_dir: PathBuf,
    task: JoinHandle<()>,
}

impl ServiceHandle {
    /// Waits for the server to finish (after cancellation) and removes `service.json`.
    pub async fn stopped(self) {
        let _ = self.task.await;
        ServiceInfo::remove(&self.data_dir);
    }
}

/// Starts serving `store` (the API and the review page; the embedded store or PostgreSQL)
/// where `options` say, and announces it in `data_dir/service.json`.
///
/// # Errors
/// When the socket cannot be bound or the info file written.
pub async fn serve<S: ServedStore>(
    store: S,
    data_dir: &Path,
    cancel: CancellationToken,
    options: ServeOptions,
) -> Result<ServiceHandle, ServiceError> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| ServiceError::Info(format!("no random token: {e}")))?;
    let token = hex::encode(secret);
    let info = ServiceInfo {
        address: listener.local_addr()?.to_string(),
        pid: std::process::id(),
        token: token.clone(),
        started: chrono::Utc::now(),
        store: options.store_url,
    };
    info.write(data_dir)?;
    let bound = listener.local_addr()?;
    let page = crate::review_page::PageSecurity::new(&token, bound);
    let state = AppState {
        store: Arc::new(store),
        token: token.into(),
        scale: Arc::new(options.scale),
        page: Arc::new(page),
        default_reviewer: options.default_reviewer.into(),
        metrics: options.metrics,
        jobs: options.jobs,
    };
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/v1/items/query", post(query))
        .route("/v1/items/{id}", get(item))
        .route("/v1/items/{id}/appearances", get(appearances))
        .route("/v1/stats", get(stats))
        .route("/v1/feeds/states", get(feed_states))
        .route("/v1/campaigns", get(campaigns))
        .route("/v1/campaign-heads", get(campaign_heads))
        .route("/v1/campaigns/{id}", get(campaign))
        .route("/v1/campaigns/{id}/members", get(campaign_members))
        .route("/v1/campaign-of/{member}", get(campaign_of))
        .route("/v1/alerts", get(alerts))
        .route("/v1/feeds/subscriptions", get(subscriptions).post(subscribe))
        .route("/v1/feeds/subscriptions/{id}", delete(unsubscribe))
        .route("/v1/verdict-scale", get(verdict_scale))
        .route("/v1/items/{id}/verdicts", get(verdicts))
        .route("/v1/reviewed", get(reviewed))
        .route("/v1/reviewed/of", post(reviewed_of))
        .route("/v1/campaign-of", post(campaigns_of))
        .route("/v1/review/queue", post(review_queue))
        .route("/v1/verdicts", post(record_verdicts))
        .route("/v1/verdicts/undo", post(undo_verdicts))
        .route("/v1/jobs/crawl", post(crawl_job))
        .route("/v1/jobs/claims", post(claims_job))
        .route("/v1/jobs/claims/match", post(match_job))
        .route("/v1/jobs/claims/reembed", post(reembed_job))
        .route("/v1/claims", get(claims))
        .merge(crate::review_page::routes())
        .with_state(state);
    let task = tokio::spawn(async move {
        let shutdown = cancel.cancelled_owned();
        if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::warn!(message = "Local API stopped.", %error);
        }
    });
    tracing::info!(message = "Local API listening.", address = %info.address);
    Ok(ServiceHandle { info, data_dir: data_dir.to_path_buf(), task })
}

/// Every API route but health needs `Authorization: Bearer <token>`.
pub(crate) struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Constant time: how long the comparison takes says nothing of how much matched.
        let matches = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(state.token.as_bytes())));
        if matches {
            Ok(Authorized)
        } else {
            Err(StatusCode::UNAUTHORIZED)
        }
    }
}

/// A store failure as an HTTP answer.
pub(crate) struct Failure(pub(crate) String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0).into_response()
    }
}

pub(crate) async fn blocking<T, F>(store: &Arc<dyn ServedStore>, work: F) -> Result<T, Failure>
where
    F: FnOnce(&dyn ServedStore) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .map_err(|e| Failure(e.to_string()))?
        .map_err(|e| Failure(e.to_string()))
}

/// The answer of a job route: its summary, or why it did not run.
fn job_answer(result: Result<serde_json::Value, crate::JobError>) -> Response {
    use crate::JobError;
    match result {
        Ok(summary) => Json(summary).into_response(),
        Err(error @ JobError::Busy) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
        Err(error @ JobError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, error.to_string()).into_response(),
        Err(error @ JobError::Failed(_)) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

fn no_jobs() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "this service runs no crawls or imports (only `watch` does)").into_response()
}

async fn crawl_job(_: Authorized, State(state): State<AppState>, Json(request): Json<crate::CrawlRequest>) -> Response {
    let Some(jobs) = state.jobs.clone() else { return no_jobs() };
    if let Err(error) = request.validate() {
        return job_answer(Err(error));
    }
    job_answer(jobs.crawl(request).await)
}

async fn claims_job(
    _: Authorized,
    State(state): State<AppState>,
    Json(request): Json<crate::ClaimsRequest>,
) -> Response {
    let Some(jobs) = state.jobs.clone() else { return no_jobs() };
    if request.claims.len() > crate::jobs::MAX_CLAIMS_PER_REQUEST {
        let message = format!("at most {} claims per request", crate::jobs::MAX_CLAIMS_PER_REQUEST);
        return job_answer(Err(crate::JobError::Invalid(message)));
    }
    job_answer(jobs.import_claims(request).await)
}

async fn match_job(
    _: Authorized,
    State(state): State<AppState>,
    Json(request): Json<crate::jobs::MatchRequest>,
) -> Response {
    let Some(jobs) = state.jobs.clone() else { return no_jobs() };
    if request.text.len() > crate::jobs::MAX_MATCH_TEXT || request.top > 1_000 {
        return job_answer(Err(crate::JobError::Invalid("text or top out of bounds".to_owned())));
    }
    job_answer(jobs.match_claims(request).await)
}

async fn reembed_job(_: Authorized, State(state): State<AppState>) -> Response {
    let Some(jobs) = state.jobs.clone() else { return no_jobs() };
    job_answer(jobs.reembed_claims().await)
}

/// Every stored debunked claim (without its embedding).
async fn claims(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    let claims = blocking(&state.store, |store| store.claim_entries()).await?;
    Ok(Json(claims.into_iter().map(|entry| entry.claim).collect::<Vec<_>>()))
}

/// Liveness for probes and service managers: `ok` while the service answers.
async fn healthz() -> &'static str {
    "ok"
}

/// The OpenAPI description of every route (kept true by `tests/openapi.rs`).
async fn openapi() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("openapi.json"))
}

/// Prometheus metrics (`metrics.rs`), behind the token like the API: they tell what the store
/// holds and how the crawl goes. The store's part is read on the blocking pool.
async fn metrics(_: Authorized, State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let format = Format::negotiate(headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()));
    let snapshot = blocking(&state.store, StoreSnapshot::read).await?;
    let body = state.metrics.encode(&snapshot, format).map_err(|e| Failure(e.to_string()))?;
    Ok(([(axum::http::header::CONTENT_TYPE, format.content_type())], body).into_response())
}

/// `?nonce=N` of a health check.
#[derive(serde::Deserialize)]
struct HealthQuery {
    nonce: Option<String>,
}

/// Unauthenticated, but with a nonce it proves that this server holds the token of
/// `service.json` (see [`crate::health_proof`]): a process that took the port of a dead
/// service cannot pass for it.
async fn health(State(state): State<AppState>, Query(query): Query<HealthQuery>) -> String {
    match query.nonce {
        Some(nonce) if nonce.len() <= 128 => crate::health_proof(&state.token, &nonce),
        _ => "ok".to_owned(),
    }
}

async fn query(
    _: Authorized,
    State(state): State<AppState>,
    Json(query): Json<ItemQuery>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.query(&query)).await?))
}

async fn item(_: Authorized, State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Response, Failure> {
    let Ok(id) = id.parse::<ItemId>() else { return Ok(StatusCode::BAD_REQUEST.into_response()) };
    Ok(match blocking(&state.store, move |store| store.get(id)).await? {
        Some(scored) => Json(scored).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}

async fn appearances(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, Failure> {
    let Ok(id) = id.parse::<ItemId>() else { return Ok(StatusCode::BAD_REQUEST.into_response()) };
    Ok(Json(blocking(&state.store, move |store| store.appearances(id)).await?).into_response())
}

async fn stats(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.stats()).await?))
}

async fn feed_states(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.feed_states()).await?))
}

async fn subscriptions(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.subscriptions()).await?))
}

async fn subscribe(
    _: Authorized,
    State(state): State<AppState>,
    Json(spec): Json<FeedSpec>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.put_subscription(&spec)).await?))
}

async fn unsubscribe(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.remove_subscription(&id)).await?))
}

async fn campaigns(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.campaigns()).await?))
}

async fn campaign(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, Failure> {
    let Ok(id) = id.parse::<CampaignId>() else { return Ok(StatusCode::BAD_REQUEST.into_response()) };
    Ok(match blocking(&state.store, move |store| store.campaign(id)).await? {
        Some(campaign) => Json(campaign).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}

/// `?limit=N` of a member listing.
#[derive(serde::Deserialize)]
struct LimitQuery {
    limit: Option<usize>,
}

async fn campaign_members(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<LimitQuery>,
) -> Result<Response, Failure> {
    let Ok(id) = id.parse::<CampaignId>() else { return Ok(StatusCode::BAD_REQUEST.into_response()) };
    Ok(Json(blocking(&state.store, move |store| store.campaign_members(id, query.limit)).await?).into_response())
}

async fn campaign_of(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(member): UrlPath<String>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.campaign_of(&member)).await?))
}

async fn alerts(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.alerts()).await?))
}

async fn campaign_heads(_: Authorized, State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, |store| store.campaign_heads()).await?))
}

async fn verdict_scale(_: Authorized, State(state): State<AppState>) -> Json<VerdictScale> {
    Json(state.scale.as_ref().clone())
}

async fn verdicts(
    _: Authorized,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, Failure> {
    let Ok(id) = id.parse::<ItemId>() else { return Ok(StatusCode::BAD_REQUEST.into_response()) };
    Ok(Json(blocking(&state.store, move |store| store.verdicts(id)).await?).into_response())
}

async fn reviewed(
    _: Authorized,
    State(state): State<AppState>,
    Query(query): Query<LimitQuery>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.review_heads(query.limit)).await?))
}

async fn review_queue(
    _: Authorized,
    State(state): State<AppState>,
    Json(request): Json<QueueRequest>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| store.review_queue(&request)).await?))
}

/// A batch of verdicts sent to the service.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct VerdictBatch {
    pub(crate) verdicts: Vec<NewVerdict>,
    pub(crate) all_or_nothing: bool,
}

/// Undo requests sent to the service.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct UndoBatch {
    pub(crate) items: Vec<ItemId>,
    pub(crate) reviewer: String,
}

async fn record_verdicts(
    _: Authorized,
    State(state): State<AppState>,
    Json(batch): Json<VerdictBatch>,
) -> Result<impl IntoResponse, Failure> {
    let scale = state.scale.clone();
    Ok(Json(
        blocking(&state.store, move |store| {
            ReviewLog::record_verdicts(store, &batch.verdicts, &scale, batch.all_or_nothing)
        })
        .await?,
    ))
}

async fn undo_verdicts(
    _: Authorized,
    State(state): State<AppState>,
    Json(batch): Json<UndoBatch>,
) -> Result<impl IntoResponse, Failure> {
    Ok(Json(blocking(&state.store, move |store| ReviewLog::undo_verdicts(store, &batch.items, &batch.reviewer)).await?))
}

/// The most ids one batched lookup takes: a page of an export.
const MAX_LOOKUP: usize = 10_000;

async fn reviewed_of(
    _: Authorized,
    State(state): State<AppState>,
    Json(items): Json<Vec<ItemId>>,
) -> Result<Response, Failure> {
    if items.len() > MAX_LOOKUP {
        return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    Ok(Json(blocking(&state.store, move |store| ReviewLog::review_heads_of(store, &items)).await?).into_response())
}

async fn campaigns_of(
    _: Authorized,
    State(state): State<AppState>,
    Json(members): Json<Vec<String>>,
) -> Result<Response, Failure> {
    if members.len() > MAX_LOOKUP {
        return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    let found =
        blocking(&state.store, move |store| infodemic_store::CampaignReader::campaigns_of(store, &members)).await?;
    Ok(Json(found).into_response())
}
