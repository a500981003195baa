//! The /adk rules on their own: routes, scoping, paths, run bodies.

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
