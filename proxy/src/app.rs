//! The HTTP application: which routes there are, and which layers wrap
//! which of them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::routing::{any, get, post};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::app_files;
use crate::config::Config;
use crate::handlers::{self, adk, model, otlp};
use crate::identity::{self, Identities, KeySource};
use crate::middleware::identity::identify;
use crate::middleware::{origin, rate_limit, request_log};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a browser may cache a CORS preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// What every handler may read.
pub(crate) struct AppState {
    pub config: Config,
    /// One client for every peer, so connections are reused.
    pub client: reqwest::Client,
}

pub(crate) type Shared = State<Arc<AppState>>;

/// The whole HTTP application for `config`. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (as
/// [`serve`](crate::serve) does): the rate limit is keyed by the peer
/// address, and without it no request is limited. Reads (or makes) the
/// identity key file, once.
pub fn app(config: Config) -> Router {
    let identities = Arc::new(identities(&config));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .unwrap_or_default();
    let body_limit = config.max_body_bytes;
    let api = guarded(api_routes(), &config).route("/healthz", get(handlers::healthz));
    let router = with_app_files(api, config.dist.as_deref());
    router
        .layer(DefaultBodyLimit::max(body_limit))
        // Outside the API's layers: the rate limit reads the caller.
        .layer(middleware::from_fn_with_state(identities, identify))
        .layer(middleware::from_fn(request_log::log_request))
        .with_state(Arc::new(AppState { config, client }))
}

/// What the page calls.
fn api_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/v1/chat/completions",
            post(model::chat_completions).fallback(handlers::api_not_found),
        )
        .route(
            "/api/v1/models",
            get(model::models).fallback(handlers::api_not_found),
        )
        // `/api/{*rest}` does not match `/api/` itself; list the bare
        // prefixes too, so no API-looking path falls through to the app.
        .route("/api", any(handlers::api_not_found))
        .route("/api/", any(handlers::api_not_found))
        .route("/api/{*rest}", any(handlers::api_not_found))
        .route(
            "/otlp/v1/traces",
            post(otlp::traces).fallback(handlers::api_not_found),
        )
        .route("/otlp", any(handlers::api_not_found))
        .route("/otlp/", any(handlers::api_not_found))
        .route("/otlp/{*rest}", any(handlers::api_not_found))
        // The agent server's whole API; the bare prefixes too, as above.
        .route("/adk", any(adk::relay))
        .route("/adk/", any(adk::relay))
        .route("/adk/{*rest}", any(adk::relay))
}

/// `api` behind the origin check, the rate limit and CORS: these guard
/// the routes that spend the key, not the app's files or /healthz.
fn guarded(api: Router<Arc<AppState>>, config: &Config) -> Router<Arc<AppState>> {
    // Inner to outer: a refused origin costs no token, and CORS wraps both
    // so that a 403 or 429 is readable by an allowed page (and preflights
    // are answered before either). No limit (a rate of 0): no layer.
    let api = match rate_limit::RateLimit::new(config.rate_limit_per_sec, config.rate_limit_burst) {
        Some(limit) => api.layer(middleware::from_fn_with_state(
            Arc::new(limit),
            rate_limit::rate_limit,
        )),
        None => api,
    };
    let allowed: Arc<[String]> = config.allowed_origins().map(str::to_owned).collect();
    let api = api.layer(middleware::from_fn_with_state(
        allowed,
        origin::check_origin,
    ));
    match cors_layer(config) {
        Some(cors) => api.layer(cors),
        None => api,
    }
}

/// Every path not taken by `router`: the built app from `dist`, or a line
/// saying what this is.
fn with_app_files(router: Router<Arc<AppState>>, dist: Option<&Path>) -> Router<Arc<AppState>> {
    match dist {
        Some(dist) => router.fallback_service(app_files::service(dist)),
        None => router.route("/", get(handlers::about)),
    }
}

/// The identities for `config`, its key found (and where, logged).
fn identities(config: &Config) -> Identities {
    let (key, source) = identity::resolve_key(config);
    match &source {
        KeySource::Given => {
            tracing::info!("identity key from --identity-key (CONFAB_IDENTITY_KEY)")
        }
        KeySource::File(path) => tracing::info!(path = %path.display(), "identity key read"),
        KeySource::Generated(path) => tracing::info!(path = %path.display(), "identity key made"),
        KeySource::Ephemeral => {}
    }
    Identities::new(
        key,
        config.identity_max_age(),
        config.trust_user_header.clone(),
    )
}

/// CORS for the allowed origins; `None` (no CORS headers at all, so only
/// same-origin pages can read answers) when there are none.
fn cors_layer(config: &Config) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = config
        .allowed_origins()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            // DELETE: the agent server's session route uses it.
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            // Whatever headers the page asks for: the proxy forwards none of
            // them upstream, and only allowed origins get an answer at all.
            .allow_headers(AllowHeaders::mirror_request())
            // The page needs it to know when to retry after a 429.
            .expose_headers([header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
