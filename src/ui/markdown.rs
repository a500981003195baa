//! A reply's text as markdown, rendered while it streams, and the one click
//! listener for what the rendering contains (Copy on code blocks, loading an
//! image the user asked for).
//!
//! The HTML comes from `confab_core::markdown`, whose writer escapes every
//! text and attribute value and never passes the model's own markup
//! through (raw HTML is shown as text, links are limited to http, https and
//! mailto, images are placeholders). That is why it may be set with
//! `innerHTML` here: the page receives markup made by our writer only, never
//! markup written by the model. The hostile corpus in
//! `core/testdata/hostile-replies.json` checks this on the host and in
//! Chromium (tests/e2e/markdown.spec.ts).

use std::cell::RefCell;
use std::rc::Rc;

use confab_core::markdown::{MarkdownStream, render_html};
use confab_core::session::MessageStatus;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the rendering is while a reply streams.
#[derive(Default)]
struct Progress {
    stream: MarkdownStream,
    /// A frame is already asked for: later tokens wait for it.
    frame_pending: bool,
    /// The HTML in the stable part and in the tail, as last written.
    shown_stable: String,
    shown_tail: String,
}

impl Progress {
    /// Brings the stable part and the tail up to `text`.
    fn show(
        &mut self,
        text: &str,
        stable: &web_sys::HtmlDivElement,
        tail: &web_sys::HtmlDivElement,
    ) {
        let update = self.stream.push(text);
        // The first stable blocks replace whatever the empty element held
        // (Leptos leaves a placeholder comment in it).
        if update.reset || (self.shown_stable.is_empty() && !update.stable.is_empty()) {
            stable.set_inner_html(&update.stable);
            self.shown_stable = update.stable;
        } else if !update.stable.is_empty() {
            // Appending keeps the nodes already shown (and a selection
            // in them) untouched.
            let _ = stable.insert_adjacent_html("beforeend", &update.stable);
            self.shown_stable.push_str(&update.stable);
        }
        tail.set_inner_html(&update.tail);
        self.shown_tail = update.tail;
    }

    /// Shows the whole of a finished `text` as a one-shot rendering would.
    /// A streamed reply usually already is that: then its nodes stay and the
    /// tail's move into the stable part (replacing the 6,000 elements of a
    /// long reply took a task of 80 ms).
    fn finish(
        &mut self,
        text: &str,
        stable: &web_sys::HtmlDivElement,
        tail: &web_sys::HtmlDivElement,
    ) {
        let streamed = !self.shown_stable.is_empty() || !self.shown_tail.is_empty();
        if streamed {
            self.show(text, stable, tail);
        }
        let whole = render_html(text);
        if streamed && self.shown_stable.len() + self.shown_tail.len() == whole.len() && {
            let (head, rest) = whole.split_at(self.shown_stable.len());
            head == self.shown_stable && rest == self.shown_tail
        } {
            if self.shown_stable.is_empty() {
                // Only the placeholder comment is in it.
                stable.set_inner_html("");
            }
            while let Some(node) = tail.first_child() {
                let _ = stable.append_child(&node);
            }
        } else {
            stable.set_inner_html(&whole);
            tail.set_inner_html("");
        }
        *self = Self::default();
    }
}

/// The text of an assistant message. While it streams, blocks that can no
/// longer change are appended once and only the tail is replaced, at most
/// once per animation frame; when it ends (or for a stored reply) the whole
/// text is rendered once, so the final page equals a one-shot rendering.
#[component]
pub fn MarkdownText(
    text: ArcRwSignal<String>,
    status: ArcRwSignal<MessageStatus>,
) -> impl IntoView {
    let stable_ref = NodeRef::<html::Div>::new();
    let tail_ref = NodeRef::<html::Div>::new();
    let progress = Rc::new(RefCell::new(Progress::default()));
    Effect::new(move |_| {
        let streaming = status.get() == MessageStatus::Streaming;
        text.track();
        let (Some(stable), Some(tail)) = (stable_ref.get(), tail_ref.get()) else {
            return;
        };
        if !streaming {
            text.with_untracked(|t| progress.borrow_mut().finish(t, &stable, &tail));
            return;
        }
        if std::mem::replace(&mut progress.borrow_mut().frame_pending, true) {
            return;
        }
        let (progress, text, status) = (progress.clone(), text.clone(), status.clone());
        request_animation_frame(move || {
            let mut progress = progress.borrow_mut();
            progress.frame_pending = false;
            // Ended meanwhile: the whole text is already rendered.
            if status.get_untracked() != MessageStatus::Streaming {
                return;
            }
            text.with_untracked(|t| progress.show(t, &stable, &tail));
        });
    });
    view! {
        <div class="text markdown">
            <div class="md-stable" node_ref=stable_ref></div>
            <div class="md-tail" node_ref=tail_ref></div>
        </div>
    }
}

/// One listener on the list of messages for every rendered reply: a Copy
/// button copies its code block, a "Load image" button loads that image.
pub fn on_click(event: web_sys::MouseEvent) {
    let Some(target) = event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    if let Ok(Some(button)) = target.closest(".markdown button.copy") {
        copy_code(button);
    } else if let Ok(Some(button)) = target.closest(".markdown button.load-image") {
        // Inside a link, the click loads the image and does not follow it.
        event.prevent_default();
        load_image(&button);
    }
}

/// Puts `text` on the clipboard; whether it worked (the browser may refuse:
/// no permission, or the page not focused).
pub async fn copy_text(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.is_ok()
}

fn copy_code(button: web_sys::Element) {
    let Some(code) = button
        .closest("figure.code")
        .ok()
        .flatten()
        .and_then(|figure| figure.query_selector("pre > code").ok().flatten())
    else {
        return;
    };
    let code = code.text_content().unwrap_or_default();
    let promise = window().navigator().clipboard().write_text(&code);
    leptos::task::spawn_local(async move {
        // The clipboard can refuse (no permission, page not focused).
        let label = match JsFuture::from(promise).await {
            Ok(_) => "Copied",
            Err(_) => "Copy failed",
        };
        button.set_text_content(Some(label));
    });
}

/// Replaces an image placeholder by the image. The writer only makes
/// placeholders for http(s) addresses; the scheme is checked again here,
/// on the address as the browser parses it, before anything is requested.
fn load_image(button: &web_sys::Element) {
    let Some(holder) = button.closest("span.image").ok().flatten() else {
        return;
    };
    let Some(src) = holder.get_attribute("data-src") else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&src) else {
        return;
    };
    if !matches!(url.protocol().as_str(), "http:" | "https:") {
        return;
    }
    let Ok(image) = document().create_element("img") else {
        return;
    };
    let alt = holder.get_attribute("data-alt").unwrap_or_default();
    for (name, value) in [
        ("class", "loaded-image"),
        ("alt", alt.as_str()),
        // The image's host learns nothing about the conversation's page.
        ("referrerpolicy", "no-referrer"),
        ("src", url.href().as_str()),
    ] {
        let _ = image.set_attribute(name, value);
    }
    let _ = holder.replace_with_with_node_1(&image);
}
