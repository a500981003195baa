use confab_core::manager::Listing;
use leptos::prelude::*;

use super::profiles::ProfileSwitcher;
use crate::store::use_store;

/// The conversations of the active profile: active ones first, then the
/// ended (archived) ones, each newest first.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = use_store();
    let active = Memo::new(move |_| {
        store.listings.with(|l| {
            l.iter()
                .filter(|l| l.ended.is_none())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let ended = Memo::new(move |_| {
        store.listings.with(|l| {
            l.iter()
                .filter(|l| l.ended.is_some())
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
    let heading_id = format!("group-{}", heading.to_lowercase());
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
