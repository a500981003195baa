use leptos::prelude::*;

use crate::store::use_store;

#[component]
pub fn Sidebar() -> impl IntoView {
    let store = use_store();
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <button type="button" class="new-chat" on:click=move |_| store.new_chat()>
                "New chat"
            </button>
            <ul class="sessions">
                <For
                    each=move || store.summaries.get()
                    key=|s| (s.id.clone(), s.title.clone())
                    let:summary
                >
                    {
                        let id = summary.id.clone();
                        let current = {
                            let id = id.clone();
                            move || store.open_id.with(|open| open.as_deref() == Some(id.as_str()))
                        };
                        let title = summary.title.clone().unwrap_or_else(|| "New chat".to_owned());
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="session"
                                    data-session-id=id.clone()
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
        </nav>
    }
}
