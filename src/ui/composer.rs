use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;

use crate::store::use_store;

/// The message box. Enter sends, Shift+Enter starts a new line. The text is
/// cleared only once the message has been saved.
#[component]
pub fn Composer() -> impl IntoView {
    let store = use_store();
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked();
        if store.send(&text) {
            draft.set(String::new());
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        // Not while an input method is composing (e.g. Japanese, Chinese).
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    view! {
        <form class="composer" on:submit=on_submit>
            <textarea
                aria-label="Message"
                placeholder=move || {
                    if store.is_ended() {
                        "This conversation has ended: a message starts a new one"
                    } else {
                        "Message (Enter to send, Shift+Enter for a new line)"
                    }
                }
                rows="3"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <Show
                when=move || store.is_streaming()
                fallback=move || {
                    view! {
                        <button type="submit" class="send">
                            "Send"
                        </button>
                    }
                }
            >
                <button type="button" class="stop" on:click=move |_| store.stop()>
                    "Stop"
                </button>
            </Show>
        </form>
    }
}
