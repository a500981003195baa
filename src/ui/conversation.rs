use confab_core::session::MessageStatus;
use leptos::prelude::*;

use crate::store::{MessageView, Role, use_store};

/// The open conversation's messages. The list is a `log`: screen readers
/// announce new messages politely, and `aria-busy` holds the announcement of
/// a streaming reply until it is finished rather than reading every token.
#[component]
pub fn Conversation() -> impl IntoView {
    let store = use_store();
    view! {
        <section
            class="messages"
            role="log"
            aria-live="polite"
            aria-label="Messages"
            aria-busy=move || store.is_streaming().to_string()
        >
            <Show when=move || store.messages.with(Vec::is_empty)>
                <p class="empty">"Send a message to start the conversation."</p>
            </Show>
            <For each=move || store.messages.get() key=|m| m.id.clone() let:message>
                <Message message />
            </For>
        </section>
    }
}

#[component]
fn Message(message: MessageView) -> impl IntoView {
    let store = use_store();
    let MessageView {
        id,
        role,
        author,
        text,
        status,
        error,
    } = message;
    let status_attr = {
        let status = status.clone();
        move || status.get().as_str()
    };
    // Retry is offered on the last message only, once it has failed.
    let can_retry = {
        let status = status.clone();
        let id = id.clone();
        move || {
            matches!(
                status.get(),
                MessageStatus::Error | MessageStatus::Interrupted
            ) && !store.is_streaming()
                && store
                    .messages
                    .with(|m| m.last().is_some_and(|last| last.id == id))
        }
    };
    let label = move || match role {
        Role::User => "You".to_owned(),
        Role::Assistant => {
            let author = author.get();
            if author.is_empty() || author == "model" {
                "Model".to_owned()
            } else {
                author
            }
        }
    };
    let stopped = {
        let status = status.clone();
        move || {
            (status.get() == MessageStatus::Stopped)
                .then(|| view! { <p class="meta">"Stopped"</p> })
        }
    };
    view! {
        <article class="message" data-role=role.as_str() data-status=status_attr data-message-id=id>
            <header class="author">{label}</header>
            <div class="text">{move || text.get()}</div>
            {stopped}
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! { <p class="error" role="alert">{e}</p> }
                    })
            }}
            <Show when=can_retry>
                <button type="button" class="retry" on:click=move |_| store.retry()>
                    "Retry"
                </button>
            </Show>
        </article>
    }
}
