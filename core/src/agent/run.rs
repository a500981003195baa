//! How an agent run ended, as the reply is saved: [`RunOutcome`], from a
//! stream that got through to its end ([`finished_run`]) or from a request
//! that failed ([`failed_request`]).

use super::server::{error_detail, is_origin_refused};
use super::stream::AgentStream;
use crate::outcome::{AgentError, ReplyFailure};
use crate::session::MessageStatus;
use crate::transport::FetchFailure;

/// How an agent run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    Complete,
    /// The user stopped it: the server may have gone on (read what it did).
    Stopped,
    Failed(MessageStatus, AgentError),
}

impl RunOutcome {
    /// The status and failure a run's reply is saved with.
    pub fn saved_as(&self) -> (MessageStatus, Option<ReplyFailure>) {
        match self {
            Self::Complete => (MessageStatus::Complete, None),
            Self::Stopped => (MessageStatus::Stopped, None),
            Self::Failed(status, error) => (*status, Some(error.clone().into())),
        }
    }
}

/// How a run that got through to its end went: the server's own error, an
/// answer cut off (text never made final, or no final event at all), or
/// whole.
pub fn finished_run(stream: &AgentStream) -> RunOutcome {
    if let Some(detail) = stream.failure() {
        return RunOutcome::Failed(
            MessageStatus::Error,
            AgentError::RunFailed {
                detail: detail.to_owned(),
            },
        );
    }
    if stream.events().is_empty() || !stream.partial_text().is_empty() {
        return RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated);
    }
    RunOutcome::Complete
}

/// A request to the agent server that failed, as the user should read it.
/// `page_origin`: the origin of the page making it.
pub fn failed_request(failure: FetchFailure, base: &str, page_origin: &str) -> RunOutcome {
    let error = match failure {
        FetchFailure::Aborted => return RunOutcome::Stopped,
        FetchFailure::Unreachable => AgentError::Unreachable {
            base: base.to_owned(),
            refused_origin: is_cross_origin(base, page_origin).then(|| page_origin.to_owned()),
        },
        FetchFailure::Http { status, body, .. } if is_origin_refused(status, &body) => {
            AgentError::OriginRefused {
                detail: error_detail(&body),
                origin: page_origin.to_owned(),
            }
        }
        FetchFailure::Http { status: 401, .. } => AgentError::Unrecognised,
        FetchFailure::Http { status, body, .. } => AgentError::Http {
            status,
            detail: error_detail(&body),
        },
        FetchFailure::Broken(detail) => {
            return RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Broken { detail });
        }
    };
    RunOutcome::Failed(MessageStatus::Error, error)
}

/// Whether `base` is on another origin than the page (an absolute URL).
pub fn is_cross_origin(base: &str, page_origin: &str) -> bool {
    (base.starts_with("http://") || base.starts_with("https://"))
        && !(base == page_origin || base.starts_with(&format!("{page_origin}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_request_says_why_and_what_to_do() {
        let page = "http://127.0.0.1:8080";
        let failed = |failure, base: &str| failed_request(failure, base, page);
        assert_eq!(failed(FetchFailure::Aborted, "/adk"), RunOutcome::Stopped);
        assert_eq!(
            failed(FetchFailure::Unreachable, "/adk"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Unreachable {
                    base: "/adk".into(),
                    refused_origin: None
                }
            )
        );
        // Another origin: perhaps refused by CORS, which looks like no answer.
        assert_eq!(
            failed(FetchFailure::Unreachable, "http://127.0.0.1:8000"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Unreachable {
                    base: "http://127.0.0.1:8000".into(),
                    refused_origin: Some(page.into())
                }
            )
        );
        assert!(!is_cross_origin("http://127.0.0.1:8080/adk", page));
        let http = |status, body: &str| FetchFailure::Http {
            status,
            body: body.into(),
            retry_after: None,
        };
        assert_eq!(
            failed(
                http(403, r#"{"detail":"Origin not allowed"}"#),
                "http://127.0.0.1:8000"
            ),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::OriginRefused {
                    detail: "Origin not allowed".into(),
                    origin: page.into()
                }
            )
        );
        assert_eq!(
            failed(http(401, "{}"), "/adk"),
            RunOutcome::Failed(MessageStatus::Error, AgentError::Unrecognised)
        );
        assert_eq!(
            failed(http(500, r#"{"detail":"Internal Server Error"}"#), "/adk"),
            RunOutcome::Failed(
                MessageStatus::Error,
                AgentError::Http {
                    status: 500,
                    detail: "Internal Server Error".into()
                }
            )
        );
        assert_eq!(
            failed(FetchFailure::Broken("reset".into()), "/adk"),
            RunOutcome::Failed(
                MessageStatus::Interrupted,
                AgentError::Broken {
                    detail: "reset".into()
                }
            )
        );
    }

    #[test]
    fn a_run_that_ended_is_whole_cut_off_or_failed() {
        let run = |frames: &str| {
            let mut stream = AgentStream::new();
            stream.push(frames.as_bytes());
            stream.finish();
            finished_run(&stream)
        };
        let whole = "data: {\"id\":\"e1\",\"author\":\"a\",\"timestamp\":1.0,\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]}}\n\n";
        assert_eq!(run(whole), RunOutcome::Complete);
        assert_eq!(
            run(""),
            RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated)
        );
        let failed = "data: {\"error\": \"RuntimeError: boom\"}\n\n";
        assert!(matches!(
            run(failed),
            RunOutcome::Failed(MessageStatus::Error, AgentError::RunFailed { .. })
        ));
        assert_eq!(
            RunOutcome::Failed(MessageStatus::Interrupted, AgentError::Truncated).saved_as(),
            (
                MessageStatus::Interrupted,
                Some(ReplyFailure::Agent(AgentError::Truncated))
            )
        );
    }
}
