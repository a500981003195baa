//! The origin check in front of the API routes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ProxyError;

/// Browsers say in `Sec-Fetch-Site` whether a request comes from another
/// site. Such a request from an origin that is not `allowed` is refused
/// before it reaches the model: CORS alone only keeps a foreign page from
/// *reading* the answer, not from sending a simple request (a form post)
/// that spends the key. Requests without the header (curl, SDKs, and
/// same-origin pages) are not affected.
pub async fn check_origin(
    State(allowed): State<Arc<[String]>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let foreign = matches!(
        headers.get("sec-fetch-site").map(HeaderValue::as_bytes),
        Some(b"cross-site" | b"same-site")
    );
    if foreign {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !allowed.iter().any(|o| o == origin) {
            let origin = if origin.is_empty() {
                "another site".to_owned()
            } else {
                origin.to_owned()
            };
            return ProxyError::OriginNotAllowed { origin }.into_response();
        }
    }
    next.run(request).await
}
