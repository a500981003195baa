//! The per-client rate limit in front of the API routes: whose bucket a
//! request takes its token from, and the 429 when it is empty. The
//! buckets themselves are token_bucket.rs (plain arithmetic).

pub mod token_bucket;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ProxyError;
use crate::identity::{Caller, Identity};
use token_bucket::{Decision, Limiter, Rate, retry_after_secs};

/// Clients tracked at most (a bucket is a few dozen bytes, so this bounds
/// the limiter's memory well under a megabyte).
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// The buckets of every client, shared by all requests.
pub struct RateLimit {
    limiter: Mutex<Limiter<ClientKey>>,
}

impl RateLimit {
    /// `None` when the limit is off (a rate of 0).
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        let rate = Rate::new(per_second, burst)?;
        Some(Self {
            limiter: Mutex::new(Limiter::new(rate, MAX_TRACKED_CLIENTS)),
        })
    }
}

/// Takes a token from the caller's bucket: per address, or per person
/// when a trusted header names one (behind an authenticating proxy,
/// everyone shares its address). Requests served without `ConnectInfo`
/// have no address, and are not limited.
pub async fn rate_limit(
    State(limit): State<Arc<RateLimit>>,
    request: Request,
    next: Next,
) -> Response {
    let key = match request.extensions().get::<Caller>() {
        Some(Caller::Vouched(identity)) => Some(ClientKey::Person(identity.clone())),
        _ => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| ClientKey::Address(client_key(addr.ip()))),
    };
    if let Some(key) = key {
        let from = key.described();
        // The lock is held for a map lookup only, never across an await.
        let (decision, rate) = {
            let mut limiter = limit.limiter.lock().unwrap_or_else(PoisonError::into_inner);
            let decision = limiter.check(key, Instant::now());
            (decision, limiter.rate())
        };
        if let Decision::Deny { retry_after } = decision {
            return ProxyError::RateLimited {
                retry_after: retry_after_secs(retry_after),
                burst: rate.burst,
                per_second: rate.per_second,
                from,
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// Whose bucket a request takes its token from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// The client's address ([`client_key`]).
    Address(IpAddr),
    /// A person named by the trusted user header, from whatever address:
    /// behind an authenticating proxy every request comes from its address.
    Person(Identity),
}

impl ClientKey {
    /// Whose requests are too many, for the 429 message.
    pub fn described(&self) -> &'static str {
        match self {
            Self::Address(_) => "this address",
            Self::Person(_) => "this person",
        }
    }
}

/// The key of a client's bucket: its IPv4 address, or the /64 network of
/// an IPv6 address (one host usually has a whole /64, so keying by full
/// address would let it have as many buckets as it likes).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_key(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), v4);
    }
}
