//! `/adk/...`: the page's calls to the ADK agent server. What may go
//! through, and to whose sessions, is decided by crate::adk (pure); this
//! applies it to the request and relays it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;

use super::read_body;
use crate::adk::{self, AdkRoute};
use crate::app::Shared;
use crate::error::ProxyError;
use crate::identity::Caller;
use crate::relay::{Peer, relay as relay_to};

/// `/adk/list-apps`, `/adk/run_sse`, `/adk/apps/...`, if the route is one
/// a chat needs (adk.rs) and the caller is known: same method, path
/// without `/adk` with the user scoped to the caller (in the `/run_sse`
/// body too), query, body and `Content-Type`/`Accept`; the answer comes
/// back with its status, and `/run_sse` streams through unbuffered.
///
/// Nothing else of the browser's request goes on. Above all not `Origin`:
/// the api_server answers 403 "origin not allowed" to any Origin but its
/// own (unless started with --allow_origins), and the page's origin is
/// this proxy's, not the agent server's. Nor `Host` (the api_server on a
/// loopback address refuses other hosts as DNS rebinding), cookies (the
/// identity cookie above all) or credentials meant for this proxy, nor the
/// model key.
pub async fn relay(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ProxyError> {
    let Some(base) = state.config.adk() else {
        return Err(ProxyError::AdkNotConfigured);
    };
    let rest = uri.path().strip_prefix("/adk").unwrap_or_default();
    let route = adk::route(&method, rest)?;
    let identity = match &caller {
        Caller::Cookie(identity) | Caller::Vouched(identity) => identity,
        Caller::NoCookie => return Err(ProxyError::IdentityRequired),
        Caller::NoHeader(header) => {
            return Err(ProxyError::UserHeaderRequired {
                header: header.to_string(),
            });
        }
    };
    // Rebuilt from its checked segments, so it starts with `/` and cannot
    // name another host.
    let path = route.forwarded_path(identity)?;
    let body = read_body(&state, body)?;
    let body = match route {
        AdkRoute::Run => Bytes::from(adk::scoped_run_body(identity, &body)?),
        _ => body,
    };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut request = state.client.request(method, format!("{base}{path}{query}"));
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value.clone());
        }
    }
    if !body.is_empty() {
        request = request.body(body);
    }
    relay_to(&state, request, Peer::Agents).await
}
