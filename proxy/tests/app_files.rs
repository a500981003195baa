//! The built app as confab-proxy serves it from `--dist`: the precompressed
//! copy by `Accept-Encoding`, types, caching per file, ETag and 304s, the
//! single-page fallback; and the API routes left as they were.

mod common;

use common::*;
use confab_proxy::Config;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tempfile::TempDir;

const JS: &str = "/confab-0123456789abcdef.js";
const WASM: &str = "/confab-0123456789abcdef_bg.wasm";
/// Has a gzip copy only.
const CSS: &str = "/main-fedcba9876543210.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A dist/ as `make build` leaves it, each copy's body saying which it is
/// (the test client does not decompress).
fn dist() -> TempDir {
    let dist = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| std::fs::write(dist.path().join(name), body).unwrap();
    for (path, body) in [
        ("/index.html", "<!doctype html><title>app</title>"),
        (JS, "console.log('app')"),
        (WASM, "\0asm wasm bytes"),
    ] {
        let name = &path[1..];
        write(name, body);
        write(&format!("{name}.br"), &format!("br of {name}"));
        write(&format!("{name}.gz"), &format!("gzip of {name}"));
    }
    write(&CSS[1..], "body { margin: 0 }");
    write(&format!("{}.gz", &CSS[1..]), "gzip of css");
    write("confab-render-worker.js", "worker");
    write("sw.js", "self.skipWaiting()");
    write("site.webmanifest", "{}");
    write("icon.svg", "<svg/>");
    dist
}

async fn app(dist: &TempDir) -> Running {
    start_proxy(Config {
        dist: Some(dist.path().to_owned()),
        ..Config::for_tests()
    })
    .await
}

/// A GET from a browser that already has its identity cookie (so no answer
/// sets one, which would make it `private`).
async fn get(browser: &Browser, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
    let mut request = browser.request(Method::GET, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_precompressed_copy_is_chosen_by_accept_encoding_and_its_q_values() {
    let dist = dist();
    let proxy = app(&dist).await;
    let browser = Browser::visit(&proxy.url).await;
    let name = &JS[1..];
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("x-gzip"), Some("gzip")),
        (Some("br;q=0.5, gzip"), Some("gzip")),
        (Some("br;q=0, gzip;q=0"), None),
        (Some("br;q=0"), None),
        (Some("identity"), None),
        (Some("deflate"), None),
        (Some("*"), Some("br")),
        (Some("gzip, *;q=0"), Some("gzip")),
        (Some("br;q=0, *"), Some("gzip")),
        (Some("*;q=0"), None),
    ];
    for (accept, coding) in cases {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept-encoding", *a)).collect();
        let (status, headers, body) = get(&browser, JS, &headers).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(header(&headers, "content-encoding"), *coding, "{accept:?}");
        let expected = match coding {
            Some("br") => format!("br of {name}"),
            Some(_) => format!("gzip of {name}"),
            None => "console.log('app')".to_owned(),
        };
        assert_eq!(body, expected, "{accept:?}");
        assert_eq!(
            header(&headers, "content-length"),
            Some(expected.len().to_string().as_str()),
            "the copy's own length: {accept:?}"
        );
        assert_eq!(
            header(&headers, "vary"),
            Some("accept-encoding"),
            "{accept:?}"
        );
        assert_eq!(header(&headers, "content-type"), Some("text/javascript"));
    }
    // No .br beside the css: gzip if allowed, else the file itself.
    let (_, headers, body) = get(&browser, CSS, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(body, "gzip of css");
    let (_, headers, body) = get(&browser, CSS, &[("accept-encoding", "br")]).await;
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(body, "body { margin: 0 }");
    assert_eq!(header(&headers, "vary"), Some("accept-encoding"));
}

#[tokio::test]
async fn each_file_has_its_type_whatever_the_coding() {
    let dist = dist();
    let proxy = app(&dist).await;
    let browser = Browser::visit(&proxy.url).await;
    for (path, content_type) in [
        // Streaming compilation needs exactly this type.
        (WASM, "application/wasm"),
        (JS, "text/javascript"),
        (CSS, "text/css"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/some/route", "text/html; charset=utf-8"),
        ("/icon.svg", "image/svg+xml"),
        ("/site.webmanifest", "application/manifest+json"),
    ] {
        for accept in ["br", "gzip", "identity"] {
            let (status, headers, _) = get(&browser, path, &[("accept-encoding", accept)]).await;
            assert_eq!(status, 200, "{path} {accept}");
            assert_eq!(
                header(&headers, "content-type"),
                Some(content_type),
                "{path} {accept}"
            );
        }
    }
}

#[tokio::test]
async fn hashed_files_are_kept_for_good_and_the_rest_revalidated() {
    let dist = dist();
    let proxy = app(&dist).await;
    let browser = Browser::visit(&proxy.url).await;
    for (path, cache) in [
        (JS, IMMUTABLE),
        (WASM, IMMUTABLE),
        (CSS, IMMUTABLE),
        ("/", "no-cache"),
        ("/index.html", "no-cache"),
        ("/sw.js", "no-cache"),
        ("/site.webmanifest", "no-cache"),
        ("/icon.svg", "no-cache"),
        // Trunk does not hash a worker's files.
        ("/confab-render-worker.js", "no-cache"),
        // Unknown paths are the app, never kept under their name, even
        // one that looks hashed (a file of an older build).
        ("/some/route", "no-cache"),
        ("/gone-0123456789abcdef.js", "no-cache"),
    ] {
        let (status, headers, body) = get(&browser, path, &[("accept-encoding", "br")]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "cache-control"), Some(cache), "{path}");
        assert!(header(&headers, "etag").is_some(), "{path}");
        assert!(header(&headers, "last-modified").is_some(), "{path}");
        if ["/some/route", "/gone-0123456789abcdef.js"].contains(&path) {
            assert_eq!(body, "br of index.html", "{path}: the app, compressed");
        }
    }
}

#[tokio::test]
async fn a_first_visit_keeps_hashed_files_out_of_shared_caches() {
    // The answer sets the identity cookie: `public` would let a CDN hand
    // that cookie to the next person.
    let dist = dist();
    let proxy = app(&dist).await;
    let response = http_get(format!("{}{JS}", proxy.url)).await;
    assert_eq!(identity_set_cookies(&response).len(), 1);
    assert_eq!(
        response.headers()["cache-control"],
        "max-age=31536000, immutable, private"
    );
}

#[tokio::test]
async fn a_copy_still_current_gets_a_304_by_etag_or_date() {
    let dist = dist();
    let proxy = app(&dist).await;
    let browser = Browser::visit(&proxy.url).await;
    let br = [("accept-encoding", "br")];
    let (_, first, _) = get(&browser, WASM, &br).await;
    let etag = header(&first, "etag").unwrap().to_owned();
    let modified = header(&first, "last-modified").unwrap().to_owned();

    // Each coding is its own representation, with its own tag.
    let (_, gzip, _) = get(&browser, WASM, &[("accept-encoding", "gzip")]).await;
    let (_, plain, _) = get(&browser, WASM, &[]).await;
    let tags = [&first, &gzip, &plain].map(|h| header(h, "etag").unwrap().to_owned());
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );

    let (status, headers, body) = get(&browser, WASM, &[br[0], ("if-none-match", &etag)]).await;
    assert_eq!(status, 304);
    assert_eq!(body, "");
    assert_eq!(header(&headers, "etag"), Some(etag.as_str()));
    assert_eq!(header(&headers, "cache-control"), Some(IMMUTABLE));
    assert_eq!(header(&headers, "vary"), Some("accept-encoding"));
    assert_eq!(header(&headers, "last-modified"), Some(modified.as_str()));
    let weak = format!("\"other\", W/{etag}");
    let (status, _, _) = get(&browser, WASM, &[br[0], ("if-none-match", &weak)]).await;
    assert_eq!(status, 304, "a list, compared weakly");

    // The br copy's tag is not the gzip copy's.
    let (status, _, body) = get(
        &browser,
        WASM,
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, format!("gzip of {}", &WASM[1..]));

    let (status, headers, _) =
        get(&browser, WASM, &[br[0], ("if-modified-since", &modified)]).await;
    assert_eq!(status, 304);
    assert_eq!(
        header(&headers, "etag"),
        Some(etag.as_str()),
        "a 304 by date has the tag too"
    );
    // If-None-Match, when sent, decides alone.
    let (status, _, _) = get(
        &browser,
        WASM,
        &[
            br[0],
            ("if-none-match", "\"other\""),
            ("if-modified-since", &modified),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = get(
        &browser,
        WASM,
        &[
            br[0],
            ("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ],
    )
    .await;
    assert_eq!(status, 200, "modified since then");

    // The app shell under any path revalidates to a 304 too.
    let (_, index, _) = get(&browser, "/", &br).await;
    let index_tag = header(&index, "etag").unwrap().to_owned();
    for path in ["/", "/index.html", "/some/route"] {
        let (status, headers, _) =
            get(&browser, path, &[br[0], ("if-none-match", &index_tag)]).await;
        assert_eq!(status, 304, "{path}");
        assert_eq!(
            header(&headers, "cache-control"),
            Some("no-cache"),
            "{path}"
        );
    }

    // HEAD has the same validators.
    let head = browser
        .request(Method::HEAD, WASM)
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["etag"], etag.as_str());
}

#[tokio::test]
async fn the_api_routes_get_no_caching_headers() {
    let dist = dist();
    let proxy = app(&dist).await;
    let browser = Browser::visit(&proxy.url).await;
    let conditional = [
        ("accept-encoding", "br, gzip"),
        ("if-none-match", "*"),
        ("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT"),
    ];
    for (path, status) in [
        ("/api/v1/models", 200),
        ("/healthz", 200),
        ("/api/nope", 404),
        ("/otlp/", 404),
        // No --adk-url: the relay's own answer.
        ("/adk/list-apps", 503),
    ] {
        let (got, headers, body) = get(&browser, path, &conditional).await;
        assert_eq!(got, status, "{path}: {body}");
        for name in [
            "cache-control",
            "etag",
            "last-modified",
            "vary",
            "content-encoding",
        ] {
            assert_eq!(header(&headers, name), None, "{path}: {name}");
        }
        assert!(body.starts_with('{'), "{path}: JSON, not the app: {body}");
    }
    let models: serde_json::Value = browser.get("/api/v1/models").await.json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "confab-echo");
}
