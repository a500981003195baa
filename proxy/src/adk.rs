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
mod tests {
    use super::*;
    use serde_json::json;

    const ME: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    fn me() -> Identity {
        Identity::parse(ME).unwrap()
    }

    /// The forwarded path for `method` and `path`, as the caller `me`.
    fn forwarded(method: Method, path: &str) -> Result<String, ProxyError> {
        route(&method, path)?.forwarded_path(&me())
    }

    fn ok(method: Method, path: &str) -> String {
        forwarded(method.clone(), path).unwrap_or_else(|e| panic!("{method} {path} refused: {e}"))
    }

    fn refused(method: Method, path: &str) -> ProxyError {
        match forwarded(method.clone(), path) {
            Ok(to) => panic!("{method} {path} was forwarded to {to}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_allowed_routes_are_forwarded_with_the_user_scoped() {
        let s = format!("/apps/app/users/{ME}.local/sessions");
        for (method, path, to) in [
            (Method::GET, "/list-apps", "/list-apps".to_owned()),
            (
                Method::GET,
                "/apps/app/app-info",
                "/apps/app/app-info".to_owned(),
            ),
            (Method::POST, "/run_sse", "/run_sse".to_owned()),
            (Method::GET, "/apps/app/users/local/sessions", s.clone()),
            (Method::POST, "/apps/app/users/local/sessions", s.clone()),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1",
                format!("{s}/s1"),
            ),
            (
                Method::POST,
                "/apps/app/users/local/sessions/s1",
                format!("{s}/s1"),
            ),
            (
                Method::DELETE,
                "/apps/app/users/local/sessions/s1",
                format!("{s}/s1"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts",
                format!("{s}/s1/artifacts"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/a.png",
                format!("{s}/s1/artifacts/a.png"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/a.png/versions",
                format!("{s}/s1/artifacts/a.png/versions"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/a.png/versions/2",
                format!("{s}/s1/artifacts/a.png/versions/2"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/a.png/versions/metadata",
                format!("{s}/s1/artifacts/a.png/versions/metadata"),
            ),
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/a.png/versions/2/metadata",
                format!("{s}/s1/artifacts/a.png/versions/2/metadata"),
            ),
            // An artifact name with a folder, sent encoded or not.
            (
                Method::GET,
                "/apps/app/users/local/sessions/s1/artifacts/dir%2Fa.png",
                format!("{s}/s1/artifacts/dir/a.png"),
            ),
        ] {
            assert_eq!(ok(method.clone(), path), to, "{method} {path}");
        }
    }

    #[test]
    fn segments_are_decoded_for_the_check_and_encoded_again() {
        // The user, encoded by the page: `%2D` is `-`.
        assert_eq!(
            ok(Method::GET, "/apps/my%20app/users/ada%2Dl/sessions/s%3A1"),
            format!("/apps/my%20app/users/{ME}.ada-l/sessions/s%3A1")
        );
        // The caller's own scoped id, with its dot encoded.
        assert_eq!(
            ok(Method::GET, &format!("/apps/a/users/{ME}%2Elocal/sessions")),
            format!("/apps/a/users/{ME}.local/sessions")
        );
        // Literal segments may be encoded too; the agent server decodes them.
        assert_eq!(
            ok(Method::GET, "/apps/a/users/u/%73essions"),
            format!("/apps/a/users/{ME}.u/sessions")
        );
        // A lone `%` is kept, as the agent server keeps it.
        assert_eq!(
            ok(Method::GET, "/apps/a/users/u/sessions/100%"),
            format!("/apps/a/users/{ME}.u/sessions/100%25")
        );
    }

    #[test]
    fn every_other_route_and_method_is_refused() {
        // The matcher's edges; ADK's own other routes (/run, memory, /dev,
        // eval, ...) are tried end to end in tests/adk.rs. `-` is the
        // empty path (`/adk` itself).
        let refused_routes = "
            GET  -
            GET  /
            GET  /list-apps/
            HEAD /list-apps
            POST /list-apps
            GET  /run_sse
            POST /run_sse/x
            GET  /apps/a
            GET  /apps/a/users/u
            GET  /apps//users/u/sessions
            GET  /apps/a/users/u/sessions/
            DELETE /apps/a/users/u/sessions
            PATCH  /apps/a/users/u/sessions/s1
            POST /apps/a/users/u/sessions/s1/artifacts
            DELETE /apps/a/users/u/sessions/s1/artifacts/a.png
            GET  /apps/a/users/u/sessions/s1/events
            GET  /apps/a/users/u/memory
            GET  /apps/a/app-info/x";
        for line in refused_routes.lines().filter(|l| !l.trim().is_empty()) {
            let (method, path) = line.trim().split_once(' ').unwrap();
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let path = path.trim().trim_start_matches('-');
            let error = refused(method.clone(), path);
            assert!(
                matches!(error, ProxyError::AdkRouteRefused { .. }),
                "{method} {path}: {error}"
            );
        }
    }

    #[test]
    fn internal_apps_are_refused() {
        for path in [
            "/apps/__builder/app-info",
            "/apps/__x/users/u/sessions",
            "/apps/%5F%5Fx/users/u/sessions",
        ] {
            assert!(
                matches!(refused(Method::GET, path), ProxyError::AdkInternalApp),
                "{path}"
            );
        }
        let body = json!({"app_name": "__builder", "user_id": "u", "session_id": "s"});
        let error = scoped_run_body(&me(), body.to_string().as_bytes()).unwrap_err();
        assert!(matches!(error, ProxyError::AdkInternalApp), "{error}");
    }

    #[test]
    fn a_path_cannot_climb_into_another_users_sessions() {
        for path in [
            // Starlette would route these on the decoded path.
            "/apps/x%2Fusers%2Fvictim%2Fsessions%2Fs1%2Fartifacts/users/local/sessions",
            "/apps/a/users/local/sessions/s1%2F..",
            "/apps/a/users/local/sessions/..",
            "/apps/a/users/local/sessions/%2e%2E",
            "/apps/a/users/local/sessions/s1/artifacts/../../../../victim/sessions/s2/artifacts/x",
            "/apps/a/users/local/sessions/s1/artifacts/x%2F..%2F..%2Fy",
            "/apps/a/users/local/sessions/s1/artifacts/x%2F%2Fy",
            "/apps/a/users/local/sessions/%FF",
        ] {
            let error = refused(Method::GET, path);
            assert!(
                matches!(
                    error,
                    ProxyError::AdkBadPath | ProxyError::AdkRouteRefused { .. }
                ),
                "{path}: {error}"
            );
        }
        assert!(matches!(
            refused(Method::GET, "/apps/a/users/victim%2F..%2Fme/sessions"),
            ProxyError::AdkForeignUser
        ));
    }

    #[test]
    fn users_are_scoped_to_the_caller() {
        assert_eq!(scoped_user(&me(), "local").unwrap(), format!("{ME}.local"));
        assert_eq!(
            scoped_user(&me(), "A-z_09").unwrap(),
            format!("{ME}.A-z_09")
        );
        let longest = "u".repeat(64);
        assert_eq!(
            scoped_user(&me(), &longest).unwrap(),
            format!("{ME}.{longest}")
        );
        let own = format!("{ME}.local");
        assert_eq!(scoped_user(&me(), &own).unwrap(), own);
        for foreign in [
            format!("{OTHER}.local"),
            "a.b".to_owned(),
            ".local".to_owned(),
            format!("{ME}x.local"),
        ] {
            assert!(
                matches!(
                    scoped_user(&me(), &foreign),
                    Err(ProxyError::AdkForeignUser)
                ),
                "{foreign}"
            );
        }
        for bad in ["", "ada lovelace", "u/1", "ü", &"u".repeat(65)] {
            assert!(
                matches!(scoped_user(&me(), bad), Err(ProxyError::AdkBadUser)),
                "{bad:?}"
            );
        }
        for bad in [format!("{ME}."), format!("{ME}.a.b"), format!("{ME}.a b")] {
            assert!(
                matches!(scoped_user(&me(), &bad), Err(ProxyError::AdkBadUser)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            refused(
                Method::GET,
                &format!("/apps/a/users/{OTHER}.local/sessions")
            ),
            ProxyError::AdkForeignUser
        ));
        assert!(matches!(
            refused(Method::GET, "/apps/a/users/ada%20lovelace/sessions"),
            ProxyError::AdkBadUser
        ));
    }

    fn run(body: Value) -> Result<Value, ProxyError> {
        let bytes = scoped_run_body(&me(), body.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn the_run_body_names_the_scoped_user() {
        let body = json!({"app_name": "a", "user_id": "local", "session_id": "s",
            "new_message": {"role": "user", "parts": [{"text": "hi"}]}, "streaming": true});
        let mut expected = body.clone();
        expected["user_id"] = json!(format!("{ME}.local"));
        assert_eq!(run(body).unwrap(), expected);
        assert_eq!(
            run(json!({"appName": "a", "userId": "u", "sessionId": "s"})).unwrap(),
            json!({"appName": "a", "userId": format!("{ME}.u"), "sessionId": "s"})
        );
        // Both spellings: both scoped, whichever ADK reads.
        assert_eq!(
            run(json!({"user_id": "u", "userId": format!("{ME}.v")})).unwrap(),
            json!({"user_id": format!("{ME}.u"), "userId": format!("{ME}.v")})
        );
    }

    #[test]
    fn a_run_body_without_a_valid_own_user_is_refused() {
        assert!(matches!(
            run(json!({"session_id": "s"})),
            Err(ProxyError::AdkRunWithoutUser)
        ));
        assert!(matches!(
            run(json!({"user_id": 7})),
            Err(ProxyError::AdkBadUser)
        ));
        assert!(matches!(
            run(json!({"user_id": null})),
            Err(ProxyError::AdkBadUser)
        ));
        assert!(matches!(
            run(json!({"user_id": "a b"})),
            Err(ProxyError::AdkBadUser)
        ));
        assert!(matches!(
            run(json!({"user_id": "u", "userId": format!("{OTHER}.u")})),
            Err(ProxyError::AdkForeignUser)
        ));
        assert!(matches!(run(json!(["u"])), Err(ProxyError::BadJson(_))));
        assert!(matches!(
            scoped_run_body(&me(), b"{not json"),
            Err(ProxyError::BadJson(_))
        ));
        // A duplicated key cannot smuggle a second user past the check:
        // the body is forwarded as parsed, with one user.
        let sent = br#"{"user_id": "u", "user_id": "fedcba9876543210fedcba9876543210.u"}"#;
        assert!(matches!(
            scoped_run_body(&me(), sent),
            Err(ProxyError::AdkForeignUser)
        ));
    }
}
