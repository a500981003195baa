//! Google ADK's `api_server` as a conversation's backend: its routes, the
//! `/run_sse` stream (partial text, final events, errors), and what to send
//! to rebuild a server session that a restart lost (the server keeps
//! sessions in memory; the local copy is the durable one).
//!
//! By topic:
//!
//! - server.rs: the routes, the bodies sent (a run, a restore), the
//!   sessions and error bodies the server answers with;
//! - stream.rs: [`AgentStream`], one `/run_sse` answer read as it arrives
//!   (partial text, final events, thought parts as reasoning, an error);
//! - artifacts.rs: the artifacts an agent saved, their routes, the Part
//!   the server answers with, and the reply's attachments made of them;
//! - run.rs: how a run ended ([`RunOutcome`]), from its stream
//!   ([`finished_run`]) or from a request that failed ([`failed_request`]).

mod artifacts;
mod run;
mod server;
mod stream;

pub use artifacts::{
    ARTIFACT_ORIGIN, SavedArtifact, artifact_bytes, artifact_url, attach_artifact,
    missing_artifacts, saved_artifacts,
};
pub use run::{RunOutcome, failed_request, finished_run, is_cross_origin};
pub use server::{
    ServerSession, error_detail, inline_data_part, is_origin_refused, is_session_not_found,
    list_apps_url, missing_events, restore_needs, restore_request, run_message_request,
    run_request, run_sse_url, session_url, sessions_url,
};
pub use stream::{AgentChange, AgentStream};
