//! `*` in `Accept-Encoding`, which `ServeDir` skips as an unknown coding.

use axum::http::{HeaderMap, HeaderValue, header};

/// The codings we have copies for, each with the names a client may use.
const CODINGS: [(&str, &[&str]); 2] = [("br", &["br"]), ("gzip", &["gzip", "x-gzip"])];

/// Rewrites an `Accept-Encoding` holding `*` so that each coding it does
/// not name is listed with `*`'s q-value (RFC 9110 12.5.3: `*` stands for
/// every coding not listed). `*;q=0` with `gzip` thus still allows gzip,
/// and `br;q=0, *` still refuses br. Without `*`, nothing changes.
pub(super) fn expand_wildcard(headers: &mut HeaderMap) {
    let Some(value) = headers.get(header::ACCEPT_ENCODING) else {
        return;
    };
    let Some(expanded) = value.to_str().ok().and_then(expand) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&expanded) {
        headers.insert(header::ACCEPT_ENCODING, value);
    }
}

fn expand(value: &str) -> Option<String> {
    let entries: Vec<(&str, Option<&str>)> = value
        .split(',')
        .map(|entry| match entry.split_once(';') {
            Some((coding, params)) => (coding.trim(), Some(params.trim())),
            None => (entry.trim(), None),
        })
        .filter(|(coding, _)| !coding.is_empty())
        .collect();
    let (_, star) = *entries.iter().find(|(coding, _)| *coding == "*")?;
    let named = |names: &[&str]| {
        entries
            .iter()
            .any(|(coding, _)| names.iter().any(|n| coding.eq_ignore_ascii_case(n)))
    };
    let mut out: Vec<String> = entries
        .iter()
        .filter(|(coding, _)| *coding != "*")
        .map(|&(coding, params)| join(coding, params))
        .collect();
    for (coding, names) in CODINGS {
        if !named(names) {
            out.push(join(coding, star));
        }
    }
    Some(out.join(", "))
}

fn join(coding: &str, params: Option<&str>) -> String {
    match params {
        Some(params) => format!("{coding};{params}"),
        None => coding.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn a_star_stands_for_the_codings_not_named() {
        assert_eq!(expand("*").as_deref(), Some("br, gzip"));
        assert_eq!(expand("gzip, *;q=0").as_deref(), Some("gzip, br;q=0"));
        assert_eq!(expand("br;q=0, *").as_deref(), Some("br;q=0, gzip"));
        assert_eq!(
            expand("x-gzip;q=0.5, *;q=0.1").as_deref(),
            Some("x-gzip;q=0.5, br;q=0.1")
        );
        assert_eq!(expand("gzip, deflate, br"), None, "no star: unchanged");
        assert_eq!(expand(""), None);
    }
}
