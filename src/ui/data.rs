//! Storage and data: the banners for a full or unopenable store, and the
//! data tools (storage use, backup, import).

use confab_core::units;
use leptos::html;
use leptos::prelude::*;

use crate::platform::files;
use crate::store::use_store;

/// The sidebar title of `session_id`, or `fallback`.
fn title_of(
    listings: &[confab_core::manager::Listing],
    session_id: &str,
    fallback: &str,
) -> String {
    listings
        .iter()
        .find(|l| l.summary.id == session_id)
        .and_then(|l| l.summary.title.clone())
        .unwrap_or_else(|| fallback.to_owned())
}

/// Shown instead of the conversations when the store cannot be opened.
#[component]
pub fn Blocked() -> impl IntoView {
    let store = use_store();
    move || {
        store.storage.blocked.get().map(|reason| {
            view! {
                <div class="notice blocked" role="alert">
                    <p>{format!("Confab cannot open your stored conversations: {reason}.")}</p>
                </div>
            }
        })
    }
}

/// Browser storage is full: what uses it, and ways to make room.
#[component]
pub fn StorageFull() -> impl IntoView {
    let store = use_store();
    move || {
        store.storage.full.get().then(|| {
            let titles = store.sidebar.listings.get_untracked();
            let usage = store.usage().unwrap_or_default();
            let user = store.user_id();
            let rows = usage
                .sessions
                .into_iter()
                .filter(|s| s.user_id == user)
                .take(8)
                .map(|s| {
                    let title = title_of(&titles, &s.session_id, "New chat");
                    let id = s.session_id.clone();
                    // Deleting here frees space at once (no Undo window),
                    // so it takes a second, deliberate click. Only the label
                    // changes: a `class:` directive would be the app's first
                    // and add 2 KB gzipped to the bundle.
                    let armed = RwSignal::new(false);
                    view! {
                        <li>
                            <span>{title}</span>
                            <span class="bytes">{units::bytes(s.bytes as f64)}</span>
                            <button
                                type="button"
                                on:click=move |_| {
                                    if armed.get_untracked() {
                                        store.delete_conversation(&id);
                                    } else {
                                        armed.set(true);
                                    }
                                }
                                on:blur=move |_| armed.set(false)
                            >
                                {move || if armed.get() { "Delete for good" } else { "Delete" }}
                            </button>
                        </li>
                    }
                })
                .collect_view();
            let unsaved = store.unsaved_count();
            let attachments = move || {
                store.storage.attachments_full.get().map(|why| {
                    view! { <p data-fact="attachments-full">{why}</p> }
                })
            };
            view! {
                <div class="notice storage-full" role="alert">
                    {attachments}
                    <p>
                        <strong>"Browser storage is full."</strong>
                        {format!(
                            " Confab uses {} of it. What you see stays on screen{}, but new messages cannot be saved until there is room: export a backup, then delete conversations you no longer need.",
                            units::bytes(usage.confab_bytes as f64),
                            if unsaved > 0 { format!(" ({unsaved} reply not saved yet)") } else { String::new() },
                        )}
                    </p>
                    <ul class="usage">{rows}</ul>
                    <div class="actions">
                        <button type="button" on:click=move |_| store.export_all()>
                            "Export all (backup)"
                        </button>
                        <button type="button" on:click=move |_| {
                            if store.retry_unsaved() == 0 {
                                store.storage.attachments_full.set(None);
                                store.storage.full.set(false);
                            }
                        }>
                            "Try saving again"
                        </button>
                    </div>
                </div>
            }
        })
    }
}

crate::split::split_point!(
    data_tools,
    /// Settings -> Data, opened rarely: its code (import above all) is a
    /// chunk of its own in the split release build.
    pub(super) fn data_tools() -> AnyView {
        view! { <DataTools /> }.into_any()
    }
);

/// The Data section of Settings: storage use, backup and import.
#[component]
fn DataTools() -> impl IntoView {
    let store = use_store();
    let estimate = RwSignal::new(None::<(f64, f64)>);
    let usage = RwSignal::new(store.usage().unwrap_or_default());
    let import_result = RwSignal::new(None::<Result<String, String>>);
    let picker = NodeRef::<html::Input>::new();
    store.estimate(estimate);
    store.count_attachments();
    // Closed, nobody reads the count: later changes need not redo it.
    on_cleanup(move || store.storage.attachments.set(None));
    let refresh = move || {
        usage.set(store.usage().unwrap_or_default());
        store.estimate(estimate);
        store.count_attachments();
    };
    let on_pick = move |_| {
        let Some(input) = picker.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let outcome = match files::read_picked(&input).await {
                Ok(Some(text)) => Some(store.import_text(&text).await),
                Ok(None) => None,
                Err(error) => Some(Err(error)),
            };
            input.set_value("");
            if outcome.is_some() {
                import_result.set(outcome);
                refresh();
            }
        });
    };
    let persisted = move || match store.storage.persisted.get() {
        Some(true) => "granted: the browser will not evict your conversations",
        Some(false) => {
            "not granted: the browser may evict data under storage pressure; export backups"
        }
        None => "unknown",
    };
    view! {
        <fieldset class="data-tools">
            <legend>"Data"</legend>
            <p class="meta" data-fact="persisted">"Persistent storage: " {persisted}</p>
            <p class="meta" data-fact="usage">
                {move || {
                    let used = usage.with(|u| u.confab_bytes) as f64;
                    match estimate.get() {
                        Some((all, quota)) => format!(
                            "Conversations use {} (localStorage and IndexedDB); this site uses {} of about {} the browser allows.",
                            units::bytes(used),
                            units::bytes(all),
                            units::bytes(quota)
                        ),
                        None => format!("Conversations use {} (localStorage and IndexedDB).", units::bytes(used)),
                    }
                }}
            </p>
            <p class="meta" data-fact="attachments">
                {move || match store.storage.attachments.get() {
                    Some((count, bytes)) => format!(
                        "Attachments: {count} file(s), {} in IndexedDB.",
                        units::bytes(bytes as f64)
                    ),
                    None => "Attachments: not counted yet.".to_owned(),
                }}
            </p>
            <ul class="usage">
                {move || {
                    let titles = store.sidebar.listings.get();
                    usage
                        .get()
                        .sessions
                        .into_iter()
                        .take(5)
                        .map(|s| {
                            let title = title_of(&titles, &s.session_id, &s.session_id);
                            view! {
                                <li>
                                    <span>{title}</span>
                                    <span class="bytes">{units::bytes(s.bytes as f64)}</span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <div class="actions">
                <button type="button" on:click=move |_| store.export_all()>
                    "Back up everything"
                </button>
                <label class="button">
                    "Import…"
                    <input
                        node_ref=picker
                        type="file"
                        accept=".json,application/json"
                        name="import-file"
                        class="visually-hidden"
                        on:change=on_pick
                    />
                </label>
            </div>
            {move || {
                import_result.get().map(|outcome| match outcome {
                    Ok(text) => view! { <p class="meta import-result" role="status">{text}</p> }.into_any(),
                    Err(text) => view! { <p class="error import-result" role="alert">{text}</p> }.into_any(),
                })
            }}
        </fieldset>
    }
}
