use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::attachments::{AttachmentChip, files_of};
use crate::store::use_store;

/// The message box. Enter sends, Shift+Enter starts a new line. The text is
/// cleared only once the message has been saved. Files come in through
/// Attach, a paste (a screenshot) or a drop on the conversation, and wait
/// as chips until the message is sent; with files, the text may be empty.
/// What the message box holds: the composer's, shared with the starter
/// prompts of a new chat, which fill it.
#[derive(Clone, Copy)]
pub struct ComposerText(pub RwSignal<String>);

#[component]
pub fn Composer() -> impl IntoView {
    let store = use_store();
    let ComposerText(draft) = expect_context();
    let picker = NodeRef::<html::Input>::new();
    let send_now = move |text: String| {
        if store.writing.pending.with_untracked(Vec::is_empty) {
            if store.send(&text) {
                draft.set(String::new());
            }
            return;
        }
        spawn_local(async move {
            // What was typed meanwhile stays.
            if store.send_attached(&text).await && draft.get_untracked() == text {
                draft.set(String::new());
            }
        });
    };
    // Files still being read go with the message once they are in.
    let send = move || {
        let text = draft.get_untracked();
        store.when_attached(move || send_now(text));
    };
    // Sent at once, or, in the moment after the page opens, as soon as the
    // stored conversations have loaded (the text stays in the box until it
    // is saved, as ever); a second Enter meanwhile adds nothing.
    let queued = StoredValue::new(false);
    let send = move || {
        if !queued.get_value() {
            queued.set_value(true);
            store.when_loaded(move || {
                queued.set_value(false);
                send();
            });
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
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let files = ev
            .clipboard_data()
            .map(|data| files_of(data.files()))
            .unwrap_or_default();
        // Text pastes as text; only files are taken here.
        if !files.is_empty() {
            ev.prevent_default();
            store.attach_files(files);
        }
    };
    let on_pick = move |_| {
        if let Some(input) = picker.get_untracked() {
            store.attach_files(files_of(input.files()));
            // The same file can be picked again after removing it.
            input.set_value("");
        }
    };
    let chips = move || {
        store
            .writing
            .pending
            .get()
            .into_iter()
            .map(|pending| {
                let sha = pending.reference.sha256.clone();
                let download = {
                    let (sha, name) = (sha.clone(), pending.reference.name.clone());
                    Callback::new(move |()| {
                        if let Some(blob) = store.pending_blob(&sha) {
                            let _ = crate::platform::files::download_blob(&name, &blob);
                        }
                    })
                };
                view! {
                    <AttachmentChip
                        reference=pending.reference
                        thumb=Signal::derive(move || pending.thumb.clone())
                        state=Signal::derive(|| "ready")
                        on_download=download
                        on_remove=Callback::new(move |()| store.remove_pending(&sha))
                    />
                }
            })
            .collect_view()
    };
    view! {
        <form class="composer" on:submit=on_submit>
            <Show when=move || store.writing.pending.with(|p| !p.is_empty()) || store.writing.attaching.get() != 0>
                <div class="attachments pending-attachments" aria-label="Attached files">
                    {chips}
                    {move || {
                        (store.writing.attaching.get() != 0)
                            .then(|| view! { <span class="meta" role="status">"Preparing files…"</span> })
                    }}
                </div>
            </Show>
            {move || {
                store
                    .writing
                    .attach_notice
                    .get()
                    .map(|why| {
                        view! {
                            <p class="attach-notice" role="alert" data-notice="attach">
                                {why}
                                <button type="button" aria-label="Dismiss" on:click=move |_| store.writing.attach_notice.set(None)>
                                    "×"
                                </button>
                            </p>
                        }
                    })
            }}
            <button
                type="button"
                class="attach-button"
                data-role="attach"
                aria-label="Attach files"
                title="Attach files"
                on:click=move |_| {
                    if let Some(input) = picker.get_untracked() {
                        input.click();
                    }
                }
            >
                {super::icons::paperclip()}
            </button>
            <input node_ref=picker type="file" multiple class="attach-input" name="attach-files" on:change=on_pick />
            <textarea
                aria-label="Message"
                placeholder=move || {
                    if store.is_ended() {
                        "This conversation has ended: a message starts a new one"
                    } else {
                        "Message (Enter to send, Shift+Enter for a new line)"
                    }
                }
                rows="1"
                prop:value=move || draft.get()
                on:input=move |ev| {
                    // A reply will need the markdown renderer and the
                    // streaming code: fetched now, while the user types, and
                    // a first message rendered off the page (once).
                    super::conversation::prepare_first_reply();
                    draft.set(event_target_value(&ev));
                }
                on:keydown=on_keydown
                on:paste=on_paste
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
