//! The `type`s and `code`s of confab-proxy's own errors
//! (`{"error": {"message", "type", "code"}}`, OpenAI's shape): one
//! definition, written by the proxy and read by the client.
//!
//! Each name is written once, in the table below: `as_str`, `parse` and
//! serde all use it, so the two sides cannot drift apart.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A closed set of wire names: the enum, its serde names, `ALL`, `as_str`
/// and `parse`, from one table of `Variant = "name"` rows.
macro_rules! wire_names {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$doc:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every name, in the table's order.
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// The name as it is written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The name `text` is, if it is one of ours.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|name| name.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_names! {
    /// An error's `type`: what kind of failure it is.
    ErrorType {
        InvalidRequestError = "invalid_request_error",
        NotFound = "not_found",
        AuthenticationError = "authentication_error",
        PermissionError = "permission_error",
        RateLimitError = "rate_limit_error",
        /// The model server could not be reached, or broke mid-reply.
        UpstreamUnreachable = "upstream_unreachable",
        UpstreamTimeout = "upstream_timeout",
        AdkNotConfigured = "adk_not_configured",
        AdkUnreachable = "adk_unreachable",
        AdkTimeout = "adk_timeout",
        /// The trace collector (`--otlp-url`) could not be reached.
        CollectorUnreachable = "collector_unreachable",
        CollectorTimeout = "collector_timeout",
    }
}

wire_names! {
    /// An error's `code`: which rule refused the request, when one did.
    ErrorCode {
        ModelNotFound = "model_not_found",
        RequestTooLarge = "request_too_large",
        OriginNotAllowed = "origin_not_allowed",
        AdkRouteNotAllowed = "adk_route_not_allowed",
        InvalidPath = "invalid_path",
        InvalidUserId = "invalid_user_id",
        UserNotYours = "user_not_yours",
        MissingUserId = "missing_user_id",
        IdentityRequired = "identity_required",
        UserHeaderRequired = "user_header_required",
        RateLimitExceeded = "rate_limit_exceeded",
        /// A peer stayed silent longer than the proxy's idle timeout.
        UpstreamIdleTimeout = "upstream_idle_timeout",
    }
}

/// Whether an error frame with this `type` and `code` says that the
/// proxy's way to the model broke or went silent: the reply was cut off,
/// not refused, so what arrived can be continued.
pub fn cuts_off_a_reply(kind: Option<&str>, code: Option<&str>) -> bool {
    kind.and_then(ErrorType::parse) == Some(ErrorType::UpstreamUnreachable)
        || code.and_then(ErrorCode::parse) == Some(ErrorCode::UpstreamIdleTimeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_wire_names_and_parse_back() {
        for kind in ErrorType::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
            assert_eq!(serde_json::from_value::<ErrorType>(json).unwrap(), *kind);
            assert_eq!(ErrorType::parse(kind.as_str()), Some(*kind));
        }
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), *code);
            assert_eq!(ErrorCode::parse(&code.to_string()), Some(*code));
        }
        assert_eq!(ErrorType::parse("server_error"), None);
        assert_eq!(ErrorCode::parse("Upstream_Idle_Timeout"), None);
    }

    #[test]
    fn the_names_the_client_already_reads_are_unchanged() {
        // Written by proxies already deployed: renaming one would break them.
        assert_eq!(
            ErrorType::UpstreamUnreachable.as_str(),
            "upstream_unreachable"
        );
        assert_eq!(
            ErrorCode::UpstreamIdleTimeout.as_str(),
            "upstream_idle_timeout"
        );
    }

    #[test]
    fn only_a_broken_or_silent_model_cuts_a_reply_off() {
        assert!(cuts_off_a_reply(Some("upstream_unreachable"), None));
        assert!(cuts_off_a_reply(
            Some("upstream_timeout"),
            Some("upstream_idle_timeout")
        ));
        assert!(cuts_off_a_reply(
            Some("timeout_error"),
            Some("upstream_idle_timeout")
        ));
        assert!(!cuts_off_a_reply(Some("rate_limit_error"), None));
        assert!(!cuts_off_a_reply(
            Some("invalid_request_error"),
            Some("model_not_found")
        ));
        assert!(!cuts_off_a_reply(None, None));
    }
}
