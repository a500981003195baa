use std::time::Duration;

use confab_core::manager::Listing;
use leptos::prelude::*;

use super::keyboard::{SEARCH_ID, ShortcutsButton, use_ui};
use super::profiles::ProfileSwitcher;
use crate::store::{Found, use_store};

/// Entries rendered with the page's first frame (more than a tall screen
/// shows). The rest follow once that frame is painted: building all 200
/// entries of a long history before the message box could show took ~10 ms,
/// and laying them out ~4 ms more, measured on a 2-core machine.
const FIRST_ENTRIES: usize = 24;

/// The latest the rest of the entries wait, should no frame come (a tab
/// opened in the background paints nothing until it is shown).
const REST_AT_LATEST: Duration = Duration::from_millis(100);

/// Searching waits for a pause in typing this long: each search may read
/// every conversation's messages the first time.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// The conversations of the active profile: a search box, then pinned ones,
/// active ones, and the ended (archived) ones, each newest first.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = use_store();
    let ui = use_ui();
    // How many entries are rendered: a first screenful at startup, then all
    // of them, for good (later changes to the list render in full at once).
    let shown = RwSignal::new(FIRST_ENTRIES);
    let show_all = move || {
        if shown.try_get_untracked().is_some_and(|n| n != usize::MAX) {
            shown.set(usize::MAX);
        }
    };
    // After the first paint: a task queued from the frame's callback runs
    // once that frame is on screen.
    request_animation_frame(move || set_timeout(show_all, Duration::ZERO));
    set_timeout(show_all, REST_AT_LATEST);
    let group = move |pinned: bool, ended: bool| {
        Memo::new(move |_| {
            let limit = shown.get();
            store.sidebar.listings.with(|l| {
                l.iter()
                    .filter(|l| l.pinned == pinned && (pinned || l.ended.is_some() == ended))
                    .take(limit)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    let pinned = group(true, false);
    let active = group(false, false);
    let ended = group(false, true);

    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Vec<Found>>);
    let run_search = move || {
        let text = query.get_untracked();
        if text.trim().is_empty() {
            results.set(None);
            store.end_search();
        } else {
            results.set(Some(store.search(&text)));
        }
    };
    let on_input = move |ev| {
        query.set(event_target_value(&ev));
        let serial = store.next_search_serial();
        set_timeout(
            move || {
                if store.search_serial() == serial {
                    run_search();
                }
            },
            SEARCH_DEBOUNCE,
        );
    };
    // The list changed (a new message, another tab): search it again.
    Effect::new(move |_| {
        store.sidebar.listings.track();
        if results.with_untracked(Option::is_some) {
            run_search();
        }
    });
    let clear = move || {
        query.set(String::new());
        store.next_search_serial();
        run_search();
    };
    let on_search_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && !query.with_untracked(String::is_empty) {
            // Esc here clears the search; it does not also stop a reply.
            ev.prevent_default();
            ev.stop_propagation();
            clear();
        }
    };
    view! {
        <nav class="sidebar" id="sidebar" aria-label="Conversations">
            <div class="search" role="search">
                <input
                    type="search"
                    id=SEARCH_ID
                    aria-label="Search conversations"
                    placeholder="Search (Ctrl+K)"
                    autocomplete="off"
                    prop:value=move || query.get()
                    on:input=on_input
                    on:keydown=on_search_key
                />
            </div>
            <ProfileSwitcher />
            <button
                type="button"
                class="new-chat"
                on:click=move |_| {
                    store.new_chat();
                    ui.close_drawer(false);
                    super::keyboard::focus_composer();
                }
            >
                "New chat"
            </button>
            <Show
                when=move || results.with(Option::is_some)
                fallback=move || {
                    view! {
                        <Show when=move || pinned.with(|p| !p.is_empty())>
                            <Group heading="Pinned" listings=pinned />
                        </Show>
                        <Group heading="Active" listings=active />
                        <Show when=move || ended.with(|e| !e.is_empty())>
                            <Group heading="Ended" listings=ended />
                        </Show>
                    }
                }
            >
                <SearchResults results />
            </Show>
            <div class="sidebar-foot">
                <ShortcutsButton />
            </div>
        </nav>
    }
}

/// What a search found: each conversation with the text around the hit.
#[component]
fn SearchResults(results: RwSignal<Option<Vec<Found>>>) -> impl IntoView {
    let store = use_store();
    let ui = use_ui();
    let count = move || results.with(|r| r.as_ref().map_or(0, Vec::len));
    view! {
        <section class="group search-results" aria-labelledby="group-results">
            <h2 id="group-results">
                {move || match count() {
                    0 => "No conversation matches".to_owned(),
                    1 => "1 conversation found".to_owned(),
                    n => format!("{n} conversations found"),
                }}
            </h2>
            <ul class="sessions">
                <For
                    each=move || results.get().unwrap_or_default()
                    key=|f| (f.listing.summary.id.clone(), f.hit.snippet.clone())
                    let:found
                >
                    {
                        let id = found.listing.summary.id.clone();
                        let title = found
                            .listing
                            .summary
                            .title
                            .clone()
                            .unwrap_or_else(|| "New chat".to_owned());
                        let snippet = found.hit.snippet.clone();
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="session result"
                                    data-session-id=id.clone()
                                    on:click=move |_| {
                                        store.open(&id);
                                        ui.close_drawer(false);
                                    }
                                >
                                    <span class="result-title">{title}</span>
                                    <span class="snippet">
                                        {snippet.before}
                                        <mark>{snippet.hit}</mark>
                                        {snippet.after}
                                    </span>
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}

#[component]
fn Group(heading: &'static str, listings: Memo<Vec<Listing>>) -> impl IntoView {
    let heading_id = format!("group-{}", heading.to_ascii_lowercase());
    let labelled_by = heading_id.clone();
    view! {
        <section class="group" aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            <ul class="sessions">
                <For
                    each=move || listings.get()
                    key=|l| (
                        l.summary.id.clone(),
                        l.summary.title.clone(),
                        l.ended.is_some(),
                        l.pinned,
                    )
                    let:listing
                >
                    <Entry listing />
                </For>
            </ul>
        </section>
    }
}

/// One conversation: open it, or (behind its options button) rename, pin
/// or delete it.
#[component]
fn Entry(listing: Listing) -> impl IntoView {
    let store = use_store();
    let ui = use_ui();
    let id = listing.summary.id.clone();
    let title = listing
        .summary
        .title
        .clone()
        .unwrap_or_else(|| "New chat".to_owned());
    let pinned = listing.pinned;
    let menu_open = RwSignal::new(false);
    let renaming = RwSignal::new(false);
    let name = RwSignal::new(title.clone());
    let current = {
        let id = id.clone();
        move || {
            store
                .on_screen
                .id
                .with(|open| open.as_deref() == Some(id.as_str()))
        }
    };
    let menu_id = format!("entry-actions-{id}");
    let rename_input = NodeRef::<leptos::html::Input>::new();
    let save_name = {
        let id = id.clone();
        move || {
            if renaming.get_untracked() {
                renaming.set(false);
                store.rename(&id, &name.get_untracked());
            }
        }
    };
    let on_rename_key = {
        let save_name = save_name.clone();
        let title = title.clone();
        move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
            "Enter" => {
                ev.prevent_default();
                save_name();
            }
            "Escape" => {
                ev.prevent_default();
                ev.stop_propagation();
                name.set(title.clone());
                renaming.set(false);
            }
            _ => {}
        }
    };
    Effect::new(move |_| {
        if renaming.get()
            && let Some(input) = rename_input.get()
        {
            let _ = input.focus();
            input.select();
        }
    });
    let open_id = id.clone();
    let pin_id = id.clone();
    let delete_id = id.clone();
    let options_label = format!("Options for “{title}”");
    view! {
        <li class="entry" data-pinned=pinned.to_string()>
            <Show
                when=move || renaming.get()
                fallback={
                    let id = id.clone();
                    let open_id = open_id.clone();
                    let title = title.clone();
                    let ended = listing.ended.is_some();
                    let current = current.clone();
                    move || {
                        let open_id = open_id.clone();
                        view! {
                            <button
                                type="button"
                                class="session"
                                data-session-id=id.clone()
                                data-ended=ended.to_string()
                                aria-current={
                                    let current = current.clone();
                                    move || current().then_some("page")
                                }
                                on:click=move |_| {
                                    store.open(&open_id);
                                    ui.close_drawer(false);
                                }
                            >
                                {pinned
                                    .then_some(
                                        view! {
                                            <span class="pin" role="img" aria-label="Pinned">
                                                {super::icons::pin()}
                                            </span>
                                        },
                                    )}
                                {title.clone()}
                            </button>
                        }
                    }
                }
            >
                <input
                    type="text"
                    class="rename"
                    aria-label="Conversation title"
                    node_ref=rename_input
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    on:keydown=on_rename_key.clone()
                    on:blur={
                        let save_name = save_name.clone();
                        move |_| save_name()
                    }
                />
            </Show>
            <button
                type="button"
                class="entry-options"
                aria-label=options_label
                aria-expanded=move || menu_open.get().to_string()
                aria-controls=menu_id.clone()
                on:click=move |_| menu_open.update(|o| *o = !*o)
            >
                "⋯"
            </button>
            <div class="entry-actions" id=menu_id hidden=move || !menu_open.get()>
                <button
                    type="button"
                    on:click=move |_| {
                        menu_open.set(false);
                        renaming.set(true);
                    }
                >
                    "Rename"
                </button>
                <button
                    type="button"
                    on:click=move |_| {
                        menu_open.set(false);
                        store.set_pinned(&pin_id, !pinned);
                    }
                >
                    {if pinned { "Unpin" } else { "Pin" }}
                </button>
                <button
                    type="button"
                    class="delete"
                    on:click=move |_| {
                        menu_open.set(false);
                        store.delete_with_undo(&delete_id);
                    }
                >
                    "Delete"
                </button>
            </div>
        </li>
    }
}
