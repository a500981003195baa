//! Which actions a message on screen offers, decided from what is known of
//! it: one rule for the UI to follow, tested here on the host.

use crate::session::MessageStatus;

/// What decides a message's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageFacts {
    /// The user wrote it (else a model or an agent did).
    pub from_user: bool,
    pub status: MessageStatus,
    pub has_text: bool,
    /// It is stored (a streaming reply or a placeholder is not).
    pub saved: bool,
    /// It is the conversation's last message.
    pub is_last: bool,
    /// This tab is writing a reply (anywhere).
    pub streaming: bool,
    /// The conversation has ended: it can be read, not continued.
    pub ended: bool,
    /// An agent answers this conversation (not the model).
    pub agent: bool,
}

/// The actions a message offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageActions {
    pub copy: bool,
    /// Edit (a message the user sent), sent as a branch.
    pub edit: bool,
    /// Ask again after a failed or cut-off reply.
    pub retry: bool,
    /// Ask the model to go on with a cut-off reply.
    pub continue_reply: bool,
    /// Ask again after a whole (or stopped) reply; the earlier one stays.
    pub regenerate: bool,
    /// An agent that failed: let the model answer instead.
    pub answer_with_model: bool,
    /// Thumbs up or down, with a comment.
    pub rate: bool,
    /// "Branch from here": a new conversation with the messages up to this
    /// one (a whole or stopped message that is stored, while nothing is
    /// being written).
    pub branch: bool,
}

impl MessageActions {
    pub fn of(facts: MessageFacts) -> Self {
        let MessageFacts {
            from_user,
            status,
            has_text,
            saved,
            is_last,
            streaming,
            ended,
            agent,
        } = facts;
        let finished = status != MessageStatus::Streaming;
        let failed = matches!(status, MessageStatus::Error | MessageStatus::Interrupted);
        // Asking again: only at the end of a conversation that goes on, and
        // while this tab is not already writing a reply.
        let can_ask = is_last && !streaming && !ended;
        Self {
            copy: has_text && finished,
            edit: from_user && !streaming,
            retry: failed && can_ask,
            // Continue asks the model; an agent run is retried instead.
            continue_reply: status == MessageStatus::Interrupted
                && has_text
                && saved
                && !agent
                && can_ask,
            regenerate: !from_user
                && matches!(status, MessageStatus::Complete | MessageStatus::Stopped)
                && saved
                && can_ask,
            answer_with_model: failed && agent && is_last && !streaming,
            rate: !from_user && saved && finished,
            branch: saved
                && !streaming
                && matches!(status, MessageStatus::Complete | MessageStatus::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::*;

    /// The last reply of a model conversation that goes on, stored, with text.
    fn reply(status: MessageStatus) -> MessageFacts {
        MessageFacts {
            from_user: false,
            status,
            has_text: true,
            saved: true,
            is_last: true,
            streaming: false,
            ended: false,
            agent: false,
        }
    }

    fn offered(actions: MessageActions) -> Vec<&'static str> {
        let MessageActions {
            copy,
            edit,
            retry,
            continue_reply,
            regenerate,
            answer_with_model,
            rate,
            // Its own test: branching is offered on any stored message.
            branch: _,
        } = actions;
        [
            (copy, "copy"),
            (edit, "edit"),
            (retry, "retry"),
            (continue_reply, "continue"),
            (regenerate, "regenerate"),
            (answer_with_model, "answer with model"),
            (rate, "rate"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    #[test]
    fn each_status_of_the_last_reply_offers_its_actions() {
        assert_eq!(
            offered(MessageActions::of(reply(Complete))),
            ["copy", "regenerate", "rate"]
        );
        assert_eq!(
            offered(MessageActions::of(reply(Stopped))),
            ["copy", "regenerate", "rate"]
        );
        assert_eq!(
            offered(MessageActions::of(reply(Interrupted))),
            ["copy", "retry", "continue", "rate"]
        );
        assert_eq!(
            offered(MessageActions::of(reply(Error))),
            ["copy", "retry", "rate"]
        );
        assert_eq!(
            offered(MessageActions::of(MessageFacts {
                saved: false,
                has_text: false,
                ..reply(Streaming)
            })),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn nothing_asks_again_before_the_end_while_writing_or_once_ended() {
        for facts in [
            MessageFacts {
                is_last: false,
                ..reply(Interrupted)
            },
            MessageFacts {
                streaming: true,
                ..reply(Interrupted)
            },
            MessageFacts {
                ended: true,
                ..reply(Interrupted)
            },
        ] {
            assert_eq!(
                offered(MessageActions::of(facts)),
                ["copy", "rate"],
                "{facts:?}"
            );
        }
        let ended = MessageFacts {
            ended: true,
            ..reply(Complete)
        };
        assert_eq!(offered(MessageActions::of(ended)), ["copy", "rate"]);
    }

    #[test]
    fn a_cut_off_reply_without_text_or_unsaved_cannot_be_continued() {
        // "No reply was saved": a placeholder, neither stored nor with text.
        let placeholder = MessageFacts {
            has_text: false,
            saved: false,
            ..reply(Interrupted)
        };
        assert_eq!(offered(MessageActions::of(placeholder)), ["retry"]);
        let empty = MessageFacts {
            has_text: false,
            ..reply(Interrupted)
        };
        assert_eq!(offered(MessageActions::of(empty)), ["retry", "rate"]);
    }

    #[test]
    fn an_agent_reply_is_retried_or_handed_to_the_model_never_continued() {
        let agent = MessageFacts {
            agent: true,
            ..reply(Interrupted)
        };
        assert_eq!(
            offered(MessageActions::of(agent)),
            ["copy", "retry", "answer with model", "rate"]
        );
        // Handing over stays possible in an ended conversation.
        let ended = MessageFacts {
            ended: true,
            ..agent
        };
        assert_eq!(
            offered(MessageActions::of(ended)),
            ["copy", "answer with model", "rate"]
        );
    }

    #[test]
    fn the_users_messages_are_copied_and_edited_never_rated() {
        let mine = MessageFacts {
            from_user: true,
            ..reply(Complete)
        };
        assert_eq!(offered(MessageActions::of(mine)), ["copy", "edit"]);
        let while_writing = MessageFacts {
            streaming: true,
            ..mine
        };
        assert_eq!(offered(MessageActions::of(while_writing)), ["copy"]);
    }

    #[test]
    fn branching_is_offered_on_a_stored_whole_or_stopped_message_while_nothing_is_written() {
        let branch = |facts: MessageFacts| MessageActions::of(facts).branch;
        assert!(branch(reply(Complete)));
        assert!(branch(reply(Stopped)));
        assert!(branch(MessageFacts {
            is_last: false,
            ..reply(Complete)
        }));
        assert!(branch(MessageFacts {
            from_user: true,
            ..reply(Complete)
        }));
        assert!(
            branch(MessageFacts {
                ended: true,
                ..reply(Complete)
            }),
            "an ended one too: the branch goes on"
        );
        assert!(!branch(MessageFacts {
            streaming: true,
            ..reply(Complete)
        }));
        assert!(!branch(MessageFacts {
            saved: false,
            ..reply(Complete)
        }));
        assert!(!branch(reply(Interrupted)));
        assert!(!branch(reply(Error)));
        assert!(!branch(MessageFacts {
            saved: false,
            ..reply(Streaming)
        }));
    }
}
