//! What the `/adk` relay lets through to the ADK agent server, and whose
//! sessions it reaches: pure functions of the request, tested below.
//!
//! Only the routes a chat needs are open (ADK 2.13.0's `api_server`): the
//! app list and app info, the caller's own sessions (create, list, read,
//! delete), `POST /run_sse`, and artifact reads. Every other path or
//! method (`POST /run`, memory, `/dev/...`, `/builder/...`, eval, session
//! `PATCH`, artifact writes, ADK's internal `__` apps) is refused here.
//!
//! Every user the page names is its own profile's id `U`; the agent server
//! sees `<identity>.<U>`, so two people's `local` never meet. The path is
//! checked on its decoded segments and rebuilt from them, encoded again,
//! so what the agent server routes on (it decodes the path) is exactly what
//! was checked here: an encoded `/` or a `..` cannot move a request into
//! another user's path.

use axum::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

use crate::error::ProxyError;
use crate::identity::Identity;

/// Encoded when forwarding: everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest profile user id the page may send.
pub const MAX_USER_CHARS: usize = 64;

/// An allowed request to the agent server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdkRoute {
    /// Names no user (`/list-apps`, `/apps/{app}/app-info`): forwarded to
    /// this path.
    Shared { path: String },
    /// Names a user in its path: forwarded to `before` + the caller's
    /// scoped user + `after`.
    User {
        before: String,
        user: String,
        after: String,
    },
    /// `POST /run_sse`: the user is in the JSON body.
    Run,
}

impl AdkRoute {
    /// The path to forward for `identity`: a user in the path becomes the
    /// caller's own scoped user, or the request is refused.
    pub fn forwarded_path(&self, identity: &Identity) -> Result<String, ProxyError> {
        match self {
            Self::Shared { path } => Ok(path.clone()),
            Self::User {
                before,
                user,
                after,
            } => Ok(format!(
                "{before}{}{after}",
                encode(&scoped_user(identity, user)?)
            )),
            Self::Run => Ok("/run_sse".to_owned()),
        }
    }
}

/// Which route `method` and `path` (what follows `/adk`, still encoded)
/// are, if allowed.
pub fn route(method: &Method, path: &str) -> Result<AdkRoute, ProxyError> {
    let refused = || ProxyError::AdkRouteRefused {
        method: method.to_string(),
        path: format!("/adk{path}"),
    };
    let segments = path
        .strip_prefix('/')
        .ok_or_else(refused)?
        .split('/')
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    if segments.iter().any(String::is_empty) {
        return Err(refused());
    }
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (route, methods): (AdkRoute, &[Method]) = match s.as_slice() {
        ["list-apps"] => (shared(&s)?, &[Method::GET]),
        ["apps", app, "app-info"] => {
            check_app(app)?;
            (shared(&s)?, &[Method::GET])
        }
        ["run_sse"] => (AdkRoute::Run, &[Method::POST]),
        ["apps", app, "users", user, "sessions"] => (
            user_route(app, user, &[], &[])?,
            &[Method::GET, Method::POST],
        ),
        ["apps", app, "users", user, "sessions", session] => (
            user_route(app, user, &[session], &[])?,
            &[Method::GET, Method::POST, Method::DELETE],
        ),
        // The list, one artifact (`?version=`), its versions, one version,
        // and their metadata: all reads. An artifact's name may hold `/`.
        [
            "apps",
            app,
            "users",
            user,
            "sessions",
            session,
            "artifacts",
            name @ ..,
        ] => (
            user_route(app, user, &[session, "artifacts"], name)?,
            &[Method::GET],
        ),
        _ => return Err(refused()),
    };
    if !methods.contains(method) {
        return Err(refused());
    }
    Ok(route)
}

/// The scoped user for `identity` of the user id `user` the page sent: its
/// own profile id `U` becomes `<identity>.U`; an id already scoped to this
/// identity (as the agent server answers it) stays as it is; another
/// identity's is refused.
pub fn scoped_user(identity: &Identity, user: &str) -> Result<String, ProxyError> {
    match user.split_once('.') {
        Some((owner, profile)) if owner == identity.as_str() => {
            check_profile_id(profile)?;
            Ok(user.to_owned())
        }
        Some(_) => Err(ProxyError::AdkForeignUser),
        None => {
            check_profile_id(user)?;
            Ok(format!("{identity}.{user}"))
        }
    }
}

/// The `/run_sse` body with its user (`user_id` and/or `userId`, both
/// spellings ADK reads) scoped to `identity`.
pub fn scoped_run_body(identity: &Identity, body: &[u8]) -> Result<Vec<u8>, ProxyError> {
    let mut request: Value =
        serde_json::from_slice(body).map_err(|e| ProxyError::BadJson(e.to_string()))?;
    let Some(fields) = request.as_object_mut() else {
        return Err(ProxyError::BadJson("expected a JSON object".into()));
    };
    for key in ["app_name", "appName"] {
        if let Some(Value::String(app)) = fields.get(key) {
            check_app(app)?;
        }
    }
    let mut named = false;
    for key in ["user_id", "userId"] {
        let Some(value) = fields.get_mut(key) else {
            continue;
        };
        let Value::String(user) = value else {
            return Err(ProxyError::AdkBadUser);
        };
        *user = scoped_user(identity, user)?;
        named = true;
    }
    if !named {
        return Err(ProxyError::AdkRunWithoutUser);
    }
    serde_json::to_vec(&request).map_err(|e| ProxyError::BadJson(e.to_string()))
}

/// A profile's ADK user id: 1 to 64 of `A-Z a-z 0-9 _ -`.
fn check_profile_id(user: &str) -> Result<(), ProxyError> {
    let valid = (1..=MAX_USER_CHARS).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then_some(()).ok_or(ProxyError::AdkBadUser)
}

/// ADK's internal apps (`__` names, e.g. the agent builder with its file
/// tools) are open on `adk web` bound to loopback, which is where this
/// proxy reaches it from: never relay to them.
fn check_app(app: &str) -> Result<(), ProxyError> {
    if app.starts_with("__") {
        return Err(ProxyError::AdkInternalApp);
    }
    Ok(())
}

/// A route naming no user, forwarded to its checked segments.
fn shared(segments: &[&str]) -> Result<AdkRoute, ProxyError> {
    Ok(AdkRoute::Shared {
        path: join(segments)?,
    })
}

/// `/apps/{app}/users/{user}/sessions` + `more` (single segments) +
/// `tail` (an artifact name: segments that may hold `/`).
fn user_route(app: &str, user: &str, more: &[&str], tail: &[&str]) -> Result<AdkRoute, ProxyError> {
    check_app(app)?;
    // The user is checked once the caller is known (`scoped_user`).
    let mut after = format!("/sessions{}", join(more)?);
    // The agent server decodes the whole path before routing, so a `/` in
    // a name is a separator there: check and send each piece on its own.
    let pieces: Vec<&str> = tail.iter().flat_map(|name| name.split('/')).collect();
    if pieces.iter().any(|p| p.is_empty()) {
        return Err(ProxyError::AdkBadPath);
    }
    after.push_str(&join(&pieces)?);
    Ok(AdkRoute::User {
        before: format!("/apps{}/users/", join(&[app])?),
        user: user.to_owned(),
        after,
    })
}

/// `/a/b` (or nothing, for no segments) from decoded segments, each
/// checked and encoded again.
fn join(segments: &[&str]) -> Result<String, ProxyError> {
    let mut path = String::new();
    for segment in segments {
        if matches!(*segment, "." | "..") || segment.contains('/') {
            return Err(ProxyError::AdkBadPath);
        }
        path.push('/');
        path.push_str(&encode(segment));
    }
    Ok(path)
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// A path segment decoded as the agent server will decode it (a `%`
/// without two hex digits stays as it is).
fn decode(segment: &str) -> Result<String, ProxyError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ProxyError::AdkBadPath)
}

#[cfg(test)]
mod tests;
