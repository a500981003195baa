use std::time::Duration;

use confab_core::Clock;
use confab_core::manager::Listing;
use confab_core::recency::{Recency, recency};
use leptos::prelude::*;

use super::keyboard::{SEARCH_ID, ShortcutsButton, use_ui};
use super::profiles::ProfileSwitcher;
use crate::platform::BrowserClock;
use crate::store::{Found, PAGE, use_store};

/// Searching waits for a pause in typing this long: each search may read
/// every conversation's messages the first time.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// The conversations of the active profile: a search box, then pinned
/// ones, then the others by recency (Today, Yesterday, Previous 7 days,
/// Previous 30 days, then Older, under a heading per month), each newest
/// first.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = use_store();
    let ui = use_ui();
    // How many entries are rendered, over all groups in display order (see
    // `SidebarPage`).
    let shown = store.sidebar.shown;
    let day = new_day_signal();
    // Each section's entries, a memo of its own: a change in one section
    // re-renders only it.
    let section = move |at: usize| {
        Memo::new(move |_| {
            let limit = shown.get();
            day.track();
            let now = Clock::now(&BrowserClock);
            let offset = utc_offset_minutes();
            store
                .sidebar
                .listings
                .with(|l| section_of(at, l.iter().take(limit), now, offset))
        })
    };
    // Entries not rendered (offered by "Show more"), once the first page is.
    let not_shown = Memo::new(move |_| {
        let limit = shown.get();
        if limit < PAGE {
            return 0;
        }
        store
            .sidebar
            .listings
            .with(|l| l.len().saturating_sub(limit))
    });

    let query = RwSignal::new(String::new());
    let results = RwSignal::new(None::<Vec<Found>>);
    let run_search = move || {
        let text = query.get_untracked();
        if text.trim().is_empty() {
            results.set(None);
            store.end_search();
        } else {
            store.search_in_steps(&text, move |found| {
                // Not if the sidebar is gone meanwhile.
                let _ = results.try_set(Some(found));
            });
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
        // Inert until the stored conversations have loaded (a moment after
        // the first frame): nothing here can act on them before.
        <nav class="sidebar" id="sidebar" aria-label="Conversations" inert=move || !store.storage.loaded.get()>
            <div class="search" role="search">
                <input
                    type="search"
                    id=SEARCH_ID
                    disabled=move || !store.storage.loaded.get()
                    aria-label="Search conversations"
                    placeholder="Search (Ctrl+K)"
                    autocomplete="off"
                    prop:value=move || query.get()
                    on:input=on_input
                    on:keydown=on_search_key
                />
            </div>
            <button
                type="button"
                class="new-chat"
                disabled=move || !store.storage.loaded.get()
                on:click=move |_| {
                    store.new_chat();
                    ui.close_drawer(false);
                    super::keyboard::focus_composer();
                }
            >
                "New chat"
            </button>
            // Hidden, not removed, while searching: clearing the search then
            // shows them without rendering every entry again.
            <div
                class="groups"
                hidden=move || results.with(Option::is_some)
                aria-busy=move || store.sidebar.listing.get().then_some("true")
            >
                // Fixed sections, not a list keyed by group: a second keyed
                // list cost the first load ~12 KB of wasm.
                <Group heading="Pinned" listings=section(0) />
                <Group heading="Today" listings=section(1) />
                <Group heading="Yesterday" listings=section(2) />
                <Group heading="Previous 7 days" listings=section(3) />
                <Group heading="Previous 30 days" listings=section(4) />
                <Group heading="Older" listings=section(5) heading_hidden=true />
                <ShowMore not_shown=not_shown.into() shown />
            </div>
            <Show when=move || results.with(Option::is_some)>
                <SearchResults results />
            </Show>
            <div class="sidebar-foot">
                <ProfileSwitcher />
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
    // As the groups: a page of results, a page more per "Show more" (a
    // new search starts again at one page).
    let shown = RwSignal::new(PAGE);
    Effect::new(move |_| {
        results.track();
        shown.set(PAGE);
    });
    let not_shown = Signal::derive(move || count().saturating_sub(shown.get()));
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
                    each=move || {
                        let limit = shown.get();
                        results
                            .with(|r| r.iter().flatten().take(limit).cloned().collect::<Vec<_>>())
                    }
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
            <ShowMore not_shown shown />
        </section>
    }
}

/// "Show more" under a list cut at `shown` entries, saying how many are not
/// shown; it shows a page more.
#[component]
fn ShowMore(not_shown: Signal<usize>, shown: RwSignal<usize>) -> impl IntoView {
    view! {
        <Show when=move || { not_shown.get() > 0 }>
            <button type="button" class="show-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                {move || format!("Show more ({} not shown)", not_shown.get())}
            </button>
        </Show>
    }
}

/// The browser's offset from UTC now, in minutes east (getTimezoneOffset
/// is UTC minus local time: west is positive).
fn utc_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// A signal that changes when a new local day starts, so Today becomes
/// Yesterday without a new message to redraw the list.
fn new_day_signal() -> RwSignal<usize> {
    let day = RwSignal::new(0);
    fn at_next_day(day: RwSignal<usize>) {
        let now = Clock::now(&BrowserClock);
        let wait = confab_core::recency::until_next_day(now, utc_offset_minutes());
        set_timeout(
            move || {
                // Not once the sidebar is gone.
                if day.try_update(|d| *d += 1).is_some() {
                    at_next_day(day);
                }
            },
            // A second past midnight, so the clock is surely on the new day.
            Duration::from_millis((wait * 1000.0) as u64 + 1000),
        );
    }
    at_next_day(day);
    day
}

/// An entry of a section. In "Older", the first entry of each month
/// carries the month's heading.
#[derive(Clone, PartialEq)]
struct Row {
    month: Option<String>,
    listing: Listing,
}

/// The entries of `listings` (in sidebar order: pinned first, then newest
/// first) in the sidebar's section `at`: 0 Pinned, 1 Today, 2 Yesterday,
/// 3 Previous 7 days, 4 Previous 30 days, 5 Older (by month).
fn section_of<'a>(
    at: usize,
    listings: impl Iterator<Item = &'a Listing>,
    now: f64,
    utc_offset_minutes: i32,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut last_month = None;
    for listing in listings {
        let (section, month) = match (!listing.pinned)
            .then(|| recency(listing.summary.last_update_time, now, utc_offset_minutes))
        {
            None => (0, None),
            Some(Recency::Today) => (1, None),
            Some(Recency::Yesterday) => (2, None),
            Some(Recency::Previous7Days) => (3, None),
            Some(Recency::Previous30Days) => (4, None),
            Some(month) => (
                5,
                (last_month.replace(month) != Some(month)).then(|| month.label()),
            ),
        };
        if section == at {
            rows.push(Row {
                month,
                listing: listing.clone(),
            });
        }
    }
    rows
}

/// A section of the sidebar, hidden while it has no entry. With
/// `heading_hidden` (Older, whose months have headings of their own) its
/// heading is for screen readers only.
#[component]
fn Group(
    heading: &'static str,
    listings: Memo<Vec<Row>>,
    #[prop(optional)] heading_hidden: bool,
) -> impl IntoView {
    let heading_id = format!("group-{}", heading.to_ascii_lowercase().replace(' ', "-"));
    let labelled_by = heading_id.clone();
    view! {
        <section
            class="group"
            aria-labelledby=labelled_by
            hidden=move || listings.with(Vec::is_empty)
        >
            <h2 id=heading_id class=heading_hidden.then_some("visually-hidden")>
                {heading}
            </h2>
            <ul class="sessions">
                <For
                    each=move || listings.get()
                    key=|row| (
                        row.month.clone(),
                        row.listing.summary.id.clone(),
                        row.listing.summary.title.clone(),
                        row.listing.ended.is_some(),
                        row.listing.pinned,
                    )
                    let:row
                >
                    <Entry listing=row.listing month=row.month />
                </For>
            </ul>
        </section>
    }
}

/// One conversation: open it, or (behind its options button) rename, pin
/// or delete it.
#[component]
fn Entry(listing: Listing, month: Option<String>) -> impl IntoView {
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
            {month.map(|month| view! { <h3 class="month">{month}</h3> })}
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
                                title=ended.then_some("Ended")
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
            // Built when opened: every entry carrying its menu made a page
            // of entries twice as slow to render.
            <Show when=move || menu_open.get()>
                <div class="entry-actions" id=menu_id.clone()>
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
                    on:click={
                        let pin_id = pin_id.clone();
                        move |_| {
                            menu_open.set(false);
                            store.set_pinned(&pin_id, !pinned);
                        }
                    }
                >
                    {if pinned { "Unpin" } else { "Pin" }}
                </button>
                <button
                    type="button"
                    class="delete"
                    on:click={
                        let delete_id = delete_id.clone();
                        move |_| {
                            menu_open.set(false);
                            store.delete_with_undo(&delete_id);
                        }
                    }
                >
                    "Delete"
                </button>
                </div>
            </Show>
        </li>
    }
}
