//! What runs around the handlers, one module per concern. Which routes
//! each one wraps, and in which order, is app.rs's business.

pub mod identity;
pub mod origin;
pub mod rate_limit;
pub mod request_log;
