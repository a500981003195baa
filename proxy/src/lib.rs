//! confab-proxy: the model proxy endpoint of Confab.
//!
//! - `POST /api/v1/chat/completions` and `GET /api/v1/models` go to the
//!   upstream OpenAI-compatible API with the API key added (the key never
//!   reaches the browser), streamed through unbuffered; or, with no upstream,
//!   to the built-in offline model `confab-echo`.
//! - `POST /otlp/v1/traces` relays trace exports to an OTLP/HTTP collector
//!   (`--otlp-url`), same-origin for the page.
//! - `/adk/...` is relayed to a Google ADK `api_server` (`--adk-url`) with
//!   the `/adk` prefix removed, so the page reaches the agent server
//!   same-origin; without `--adk-url` it answers 503. Only the routes a
//!   chat needs are relayed, and only to the caller's own ADK user
//!   (`<identity>.<profile id>`): see adk.rs and identity.rs.
//! - Every answer to a browser without a valid identity cookie sets one
//!   (unless the identity comes from a trusted header).
//! - `GET /healthz` answers `{"status":"ok","mode":…,"default_model":…}`: the
//!   model a request that names none gets (the page shows it by name).
//! - With `--dist`, the built web app is served at `/`, so one binary serves
//!   the whole app: its precompressed copies by `Accept-Encoding`, hashed
//!   files cached for good, the rest revalidated (app_files.rs).
//!
//! Every other `/api` or `/otlp` path is a 404: this is not an open relay
//! (`/adk` reaches only the one configured agent server).
//! The key is scrubbed from anything the upstream sends back, even from
//! a streamed reply that spells it out a few characters per event. The API
//! routes (not the app's files, not `/healthz`) have a body limit, a
//! per-client rate limit, CORS only for `--allow-origin` origins, and
//! refuse requests that browsers mark as coming from another site. An
//! upstream silent for longer than the idle timeout is cut off; a client
//! that hangs up drops the upstream request with it.
//!
//! Where things are: app.rs builds the router (which routes, which layers
//! wrap which); middleware/ holds the layers of our own (origin check,
//! rate limit, request log); handlers/ one module per API; relay.rs
//! forwards to a peer and streams the answer back; error.rs is every
//! answer the proxy writes itself.

mod adk;
mod app;
mod app_files;
pub mod config;
pub mod echo;
mod error;
mod handlers;
pub mod identity;
pub mod middleware;
mod redact;
mod relay;

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use app::app;
pub use config::Config;

/// Serves `config` on `listener` until the process ends. Prints the line
/// `confab-proxy listening on http://ADDR` once it accepts connections.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mode = match config.upstream() {
        Some(url) => format!("upstream {url}"),
        None => "offline model confab-echo".to_owned(),
    };
    tracing::info!(%addr, mode, adk = ?config.adk(), dist = ?config.dist, "starting");
    if config.upstream().is_some() && config.api_key.is_unusable() {
        tracing::warn!(
            "CONFAB_UPSTREAM_API_KEY contains characters not allowed in an HTTP header; it is not sent"
        );
    }
    if config.log_content {
        tracing::warn!("--log-content is on: chat request bodies (messages) are logged");
    }
    if let Some(header) = &config.trust_user_header {
        tracing::warn!(
            %header,
            "identities come from this request header: only safe behind an authenticating proxy that sets it, since anyone who reaches confab-proxy directly can send it"
        );
    }
    println!("confab-proxy listening on http://{addr}");
    let app = app(config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
