use std::time::Duration;

use confab_core::manager::Listing;
use leptos::prelude::*;

use super::profiles::ProfileSwitcher;
use crate::store::use_store;

/// Entries rendered with the page's first frame (more than a tall screen
/// shows). The rest follow once that frame is painted: building all 200
/// entries of a long history before the message box could show took ~10 ms,
/// and laying them out ~4 ms more, measured on a 2-core machine.
const FIRST_ENTRIES: usize = 40;

/// The latest the rest of the entries wait, should no frame come (a tab
/// opened in the background paints nothing until it is shown).
const REST_AT_LATEST: Duration = Duration::from_millis(100);

/// The conversations of the active profile: active ones first, then the
/// ended (archived) ones, each newest first.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = use_store();
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
    let active = Memo::new(move |_| {
        let limit = shown.get();
        store.listings.with(|l| {
            l.iter()
                .filter(|l| l.ended.is_none())
                .take(limit)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let ended = Memo::new(move |_| {
        // What the active group leaves of the first screenful.
        let limit = shown.get().saturating_sub(active.with(Vec::len));
        store.listings.with(|l| {
            l.iter()
                .filter(|l| l.ended.is_some())
                .take(limit)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <ProfileSwitcher />
            <button type="button" class="new-chat" on:click=move |_| store.new_chat()>
                "New chat"
            </button>
            <Group heading="Active" listings=active />
            <Show when=move || ended.with(|e| !e.is_empty())>
                <Group heading="Ended" listings=ended />
            </Show>
        </nav>
    }
}

#[component]
fn Group(heading: &'static str, listings: Memo<Vec<Listing>>) -> impl IntoView {
    let store = use_store();
    let heading_id = format!("group-{}", heading.to_ascii_lowercase());
    let labelled_by = heading_id.clone();
    view! {
        <section class="group" aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            <ul class="sessions">
                <For
                    each=move || listings.get()
                    key=|l| (l.summary.id.clone(), l.summary.title.clone(), l.ended.is_some())
                    let:listing
                >
                    {
                        let id = listing.summary.id.clone();
                        let current = {
                            let id = id.clone();
                            move || store.open_id.with(|open| open.as_deref() == Some(id.as_str()))
                        };
                        let title = listing
                            .summary
                            .title
                            .clone()
                            .unwrap_or_else(|| "New chat".to_owned());
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="session"
                                    data-session-id=id.clone()
                                    data-ended=listing.ended.is_some().to_string()
                                    aria-current=move || current().then_some("page")
                                    on:click=move |_| store.open(&id)
                                >
                                    {title}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
