//! On every route: who is calling (crate::identity says how), and a fresh
//! identity cookie for a browser without one.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::identity::{Caller, Identities, arrived_over_https, random_identity, unix_now};

/// On every route: puts the [`Caller`] in the request's extensions, and in
/// cookie mode gives a browser without a valid identity a fresh one with
/// the answer (so the first visit to the app issues it).
pub async fn identify(
    State(identities): State<Arc<Identities>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = identities.caller(request.headers(), unix_now());
    // A link followed from another site carries no SameSite=Strict cookie
    // even when the browser has one: answering it with a fresh cookie
    // would replace that person's identity.
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let secure = arrived_over_https(request.headers());
    let issue = caller == Caller::NoCookie && !cross_site;
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if issue {
        match random_identity() {
            Some(id) => {
                let value = identities.cookie_value(&id, unix_now());
                let headers = response.headers_mut();
                headers.append(header::SET_COOKIE, identities.set_cookie(&value, secure));
                keep_out_of_shared_caches(headers);
            }
            None => tracing::warn!("no random bytes from the operating system: no identity issued"),
        }
    }
    response
}

/// An answer that sets someone's identity must never be served from a
/// shared cache to someone else. `public` (a hashed app file's) goes:
/// beside `private` it would leave the choice to each cache.
fn keep_out_of_shared_caches(headers: &mut HeaderMap) {
    let value = match headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    {
        None => "private".to_owned(),
        Some(v) if v.contains("private") || v.contains("no-store") => return,
        Some(v) => v
            .split(',')
            .map(str::trim)
            .filter(|directive| !directive.eq_ignore_ascii_case("public"))
            .chain(["private"])
            .collect::<Vec<_>>()
            .join(", "),
    };
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(header::CACHE_CONTROL, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_control(value: &'static str) -> HeaderMap {
        HeaderMap::from_iter([(header::CACHE_CONTROL, HeaderValue::from_static(value))])
    }

    #[test]
    fn shared_caches_are_kept_from_answers_that_set_a_cookie() {
        let mut none = HeaderMap::new();
        keep_out_of_shared_caches(&mut none);
        assert_eq!(none[header::CACHE_CONTROL], "private");
        let mut no_cache = cache_control("no-cache");
        keep_out_of_shared_caches(&mut no_cache);
        assert_eq!(no_cache[header::CACHE_CONTROL], "no-cache, private");
        let mut no_store = cache_control("no-store");
        keep_out_of_shared_caches(&mut no_store);
        assert_eq!(no_store[header::CACHE_CONTROL], "no-store");
        let mut public = cache_control("public, max-age=31536000, immutable");
        keep_out_of_shared_caches(&mut public);
        assert_eq!(
            public[header::CACHE_CONTROL],
            "max-age=31536000, immutable, private"
        );
    }
}
