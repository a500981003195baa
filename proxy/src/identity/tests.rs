//! The identity rules, on their own: no server, no clock.

use super::*;

const ID: &str = "0123456789abcdef0123456789abcdef";

fn identities(max_age_days: Option<u64>) -> Identities {
    Identities::new(
        ServerKey::new(b"a server key of at least thirty-two characters"),
        max_age_days.map(|d| Duration::from_secs(d * 86_400)),
        None,
    )
}

fn identities_under_another_key() -> Identities {
    Identities::new(
        ServerKey::new(b"another key, also thirty-two characters long"),
        None,
        None,
    )
}

fn id() -> Identity {
    Identity::parse(ID).unwrap()
}

#[test]
fn a_cookie_value_verifies_under_its_key_only() {
    let ids = identities(None);
    let value = ids.cookie_value(&id(), 1_700_000_000);
    assert!(
        value.starts_with(&format!("v1.{ID}.1700000000.")),
        "{value}"
    );
    assert_eq!(value.len(), "v1.".len() + 32 + ".1700000000.".len() + 64);
    assert_eq!(ids.verify(&value, 1_800_000_000), Ok(id()));
    let other = identities_under_another_key();
    assert_eq!(
        other.verify(&value, 1_700_000_000),
        Err(Rejected::BadSignature)
    );
}

#[test]
fn tampering_with_any_part_breaks_the_signature() {
    let ids = identities(None);
    let value = ids.cookie_value(&id(), 1_700_000_000);
    let other_id = value.replacen("0123", "0124", 1);
    assert_eq!(
        ids.verify(&other_id, 1_700_000_000),
        Err(Rejected::BadSignature)
    );
    let other_time = value.replace(".1700000000.", ".1700000001.");
    assert_eq!(
        ids.verify(&other_time, 1_700_000_000),
        Err(Rejected::BadSignature)
    );
    // The last MAC digit changed.
    let mut bad_mac = value.clone();
    let last = bad_mac.pop().unwrap();
    bad_mac.push(if last == '0' { '1' } else { '0' });
    assert_eq!(
        ids.verify(&bad_mac, 1_700_000_000),
        Err(Rejected::BadSignature)
    );
}

#[test]
fn malformed_values_are_refused_before_any_mac() {
    let ids = identities(None);
    let good = ids.cookie_value(&id(), 5);
    let mac = good.rsplit('.').next().unwrap();
    for bad in [
        String::new(),
        "v1".to_owned(),
        format!("v2.{ID}.5.{mac}"),
        format!("v1.{}.5.{mac}", ID.to_uppercase()),
        format!("v1.{ID}x.5.{mac}"),
        format!("v1.{ID}.+5.{mac}"),
        format!("v1.{ID}..{mac}"),
        format!("v1.{ID}.5.{}", &mac[1..]),
        format!("v1.{ID}.5.{}", mac.to_uppercase()),
        format!("{good}.extra"),
        format!("v1.{ID}.99999999999999999999999.{mac}"),
    ] {
        assert_eq!(ids.verify(&bad, 5), Err(Rejected::Malformed), "{bad}");
    }
}

#[test]
fn with_a_max_age_an_older_cookie_is_expired() {
    let ids = identities(Some(30));
    let issued = 1_700_000_000;
    let value = ids.cookie_value(&id(), issued);
    let day = 86_400;
    assert_eq!(ids.verify(&value, issued + 30 * day), Ok(id()));
    assert_eq!(
        ids.verify(&value, issued + 30 * day + 1),
        Err(Rejected::Expired)
    );
    assert_eq!(
        identities(None).verify(&value, issued + 3000 * day),
        Ok(id())
    );
    assert_eq!(ids.cookie_max_age(), Duration::from_secs(30 * day));
    assert_eq!(identities(Some(1000)).cookie_max_age(), COOKIE_MAX_AGE);
}

#[test]
fn the_user_header_identity_is_stable_and_keyed() {
    let ids = identities(None);
    let ada = ids.for_user_header(b"ada@example.com");
    assert_eq!(ada, ids.for_user_header(b"ada@example.com"));
    assert_ne!(ada, ids.for_user_header(b"bob@example.com"));
    assert!(Identity::parse(ada.as_str()).is_some());
    let other_key = identities_under_another_key();
    assert_ne!(ada, other_key.for_user_header(b"ada@example.com"));
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn the_caller_comes_from_a_valid_cookie_among_others() {
    let ids = identities(None);
    let value = ids.cookie_value(&id(), 10);
    let with = headers(&[
        ("cookie", "a=1; confab_identity=v1.forged"),
        ("cookie", &format!("b=2;confab_identity={value}")),
    ]);
    assert_eq!(ids.caller(&with, 10), Caller::Cookie(id()));
    assert_eq!(
        ids.caller(&headers(&[("cookie", "a=1")]), 10),
        Caller::NoCookie
    );
    assert_eq!(ids.caller(&HeaderMap::new(), 10), Caller::NoCookie);
}

#[test]
fn in_trusted_header_mode_cookies_do_not_count() {
    let name = HeaderName::from_static("x-forwarded-email");
    let ids = Identities::new(
        ServerKey::new(b"a server key of at least thirty-two characters"),
        None,
        Some(name.clone()),
    );
    let value = ids.cookie_value(&id(), 10);
    let cookie_only = headers(&[("cookie", &format!("confab_identity={value}"))]);
    assert_eq!(ids.caller(&cookie_only, 10), Caller::NoHeader(name.clone()));
    assert_eq!(
        ids.caller(&headers(&[("x-forwarded-email", " ")]), 10),
        Caller::NoHeader(name.clone())
    );
    let twice = headers(&[
        ("x-forwarded-email", "eve@example.com"),
        ("x-forwarded-email", "ada@example.com"),
    ]);
    assert_eq!(ids.caller(&twice, 10), Caller::NoHeader(name));
    let ada = headers(&[("x-forwarded-email", "ada@example.com")]);
    assert_eq!(
        ids.caller(&ada, 10),
        Caller::Vouched(ids.for_user_header(b"ada@example.com"))
    );
}

#[test]
fn the_set_cookie_header_has_the_documented_attributes() {
    let ids = identities(None);
    let plain = ids.set_cookie("v", false);
    assert_eq!(
        plain.to_str().unwrap(),
        "confab_identity=v; Path=/; Max-Age=34560000; HttpOnly; SameSite=Strict"
    );
    assert!(
        ids.set_cookie("v", true)
            .to_str()
            .unwrap()
            .ends_with("; Secure")
    );
}

#[test]
fn https_is_read_from_the_forwarding_headers() {
    for (name, value, https) in [
        ("x-forwarded-proto", "https", true),
        ("x-forwarded-proto", "HTTPS", true),
        ("x-forwarded-proto", "https, http", true),
        ("x-forwarded-proto", "http", false),
        ("forwarded", "for=192.0.2.1;proto=https;by=x", true),
        ("forwarded", "Proto=\"https\"", true),
        // The first element is the browser's hop.
        ("forwarded", "proto=http, proto=https", false),
        ("x-forwarded-host", "https", false),
    ] {
        assert_eq!(
            arrived_over_https(&headers(&[(name, value)])),
            https,
            "{name}: {value}"
        );
    }
    assert!(!arrived_over_https(&HeaderMap::new()));
}

#[test]
fn random_identities_differ() {
    let a = random_identity().unwrap();
    assert!(Identity::parse(a.as_str()).is_some());
    assert_ne!(a, random_identity().unwrap());
}

#[test]
fn hex_round_trips() {
    let bytes = [0u8, 1, 0xab, 0xff];
    assert_eq!(hex(&bytes), "0001abff");
    assert_eq!(unhex("0001abff").unwrap(), bytes);
    assert_eq!(unhex("0g"), None);
    assert_eq!(unhex("abc"), None);
}
