//! Auto-scroll: the message list follows a streaming reply until the user
//! scrolls up; then "Jump to latest" brings them back (and following on).

use leptos::html;
use leptos::prelude::*;

use crate::store::use_store;

/// Within this many pixels of the end counts as "at the end".
const AT_END: f64 = 32.0;

#[derive(Clone, Copy)]
pub struct Follow {
    /// The list sticks to its end as text arrives.
    following: RwSignal<bool>,
    pub section: NodeRef<html::Section>,
    /// The scroll position after the last scroll event: moving up from it
    /// is the user's doing (the code only ever scrolls down).
    last_top: StoredValue<f64>,
}

impl Follow {
    /// Creates the state and the effect that keeps the list at its end.
    pub fn provide() -> Self {
        let store = use_store();
        let follow = Self {
            following: RwSignal::new(true),
            section: NodeRef::new(),
            last_top: StoredValue::new(0.0),
        };
        // Another conversation opened: start at its end, following.
        Effect::new(move |previous: Option<Option<String>>| {
            let open = store.on_screen.id.get();
            if previous.is_some_and(|p| p != open) {
                follow.following.set(true);
            }
            open
        });
        Effect::new(move |_| {
            // Whatever changes the list's height: a message added or
            // removed, or the streaming reply's text.
            store.on_screen.messages.track();
            store.writing.reply.with(|r| {
                if let Some(reply) = r {
                    reply.view.text.track();
                }
            });
            if follow.following.get() {
                // After the new text is laid out.
                request_animation_frame(move || follow.scroll_to_end());
            }
        });
        provide_context(follow);
        follow
    }

    fn scroll_to_end(&self) {
        if let Some(section) = self.section.get_untracked() {
            section.set_scroll_top(section.scroll_height());
            self.last_top
                .set_value(f64::from(section.scroll_top()).max(0.0));
        }
    }

    /// A scroll event: upwards unfollows, reaching the end follows again.
    pub fn on_scroll(&self) {
        let Some(section) = self.section.get_untracked() else {
            return;
        };
        let top = f64::from(section.scroll_top());
        let end = f64::from(section.scroll_height() - section.client_height());
        if end - top <= AT_END {
            self.following.set(true);
        } else if top < self.last_top.get_value() - 1.0 {
            self.following.set(false);
        }
        self.last_top.set_value(top);
    }

    /// The wheel turned upwards: unfollow at once, before the scroll event,
    /// so a token arriving in between does not pull the list back down.
    pub fn on_wheel(&self, ev: &leptos::ev::WheelEvent) {
        if ev.delta_y() < 0.0 {
            self.following.set(false);
        }
    }

    pub fn jump(&self) {
        self.following.set(true);
        self.scroll_to_end();
    }

    pub fn is_following(&self) -> bool {
        self.following.get()
    }
}

pub fn use_follow() -> Follow {
    expect_context::<Follow>()
}

/// Shown while the user reads above the end of the list.
#[component]
pub fn JumpToLatest() -> impl IntoView {
    let follow = use_follow();
    let store = use_store();
    view! {
        <Show when=move || !follow.is_following() && store.on_screen.messages.with(|m| !m.is_empty())>
            <button type="button" class="jump-latest" on:click=move |_| follow.jump()>
                "↓ Jump to latest"
            </button>
        </Show>
    }
}
