//! A chat page with nothing but the stack: messages kept as JSON in
//! localStorage, rendered as markdown, a box and a Send button. What it weighs
//! is what Confab would weigh with no features of its own.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
struct Message {
    id: String,
    role: String,
    text: String,
    time: u64,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load() -> Vec<Message> {
    storage()
        .and_then(|s| s.get_item("floor").ok()?)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(messages: &[Message]) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(messages)) {
        let _ = storage.set_item("floor", &text);
    }
}

fn render(text: &str) -> String {
    let mut html = String::new();
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::all());
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

#[component]
fn App() -> impl IntoView {
    let messages = RwSignal::new(load());
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked();
        messages.update(|list| {
            let id = uuid::Uuid::new_v4().to_string();
            list.push(Message {
                id,
                role: "user".into(),
                text,
                time: 0,
            });
            save(list);
        });
        draft.set(String::new());
    };
    view! {
        <main>
            <ul>
                <For each=move || messages.get() key=|m| m.id.clone() let:m>
                    <li class=m.role.clone() inner_html=render(&m.text)></li>
                </For>
            </ul>
            <textarea
                prop:value=move || draft.get()
                on:input=move |e| draft.set(event_target_value(&e))
            ></textarea>
            <button on:click=move |_| send()>"Send"</button>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
