//! A reply's text as markdown, rendered while it streams, and the one click
//! listener for what the rendering contains (Copy on code blocks, loading an
//! image the user asked for).
//!
//! The renderer itself (our writer over pulldown-cmark, with its HTML entity
//! table) is a split point (crate::split): in the release build it is a
//! chunk fetched when the first reply is shown or the user starts typing,
//! not on the first load. Until it is there (or if it cannot be fetched) a
//! reply shows as plain text, readable and selectable.
//!
//! The HTML comes from `confab_core::markdown`, whose writer escapes every
//! text and attribute value and never passes the model's own markup
//! through (raw HTML is shown as text, links are limited to http, https and
//! mailto, images are placeholders). That is why it may be set with
//! `innerHTML` here: the page receives markup made by our writer only, never
//! markup written by the model. The hostile corpus in
//! `core/testdata/hostile-replies.json` checks this on the host and in
//! Chromium (tests/e2e/markdown.spec.ts).
//!
//! Code blocks with a language and formulas are then enhanced once they are
//! in the stable part (or the reply has ended), never per token: the render
//! worker (platform/render_worker.rs) answers with plain values, and
//! [`enhance`] builds the elements itself: token text as text nodes in
//! `<span>`s with a class from `TokenKind::class`, MathML elements by
//! `createElementNS` with names from `math::Element`. A formula that does
//! not convert, and every formula until the worker answers, shows its TeX.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use confab_core::markdown::{MarkdownStream, StreamUpdate};
use confab_core::session::MessageStatus;
use confab_render::highlight::TokenKind;
use confab_render::math;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::platform::render_worker::{self, Job};

/// The markdown renderer's two entry points. Called through these pointers,
/// so their code (and everything only they reach) stays in the chunk.
#[derive(Clone, Copy)]
struct Renderer {
    render_html: fn(&str) -> String,
    push: fn(&mut MarkdownStream, &str) -> StreamUpdate,
}

crate::split::split_point!(
    markdown,
    fn load_renderer() -> Renderer {
        Renderer {
            render_html: confab_core::markdown::render_html,
            push: MarkdownStream::push,
        }
    }
);

thread_local! {
    static RENDERER: Cell<Option<Renderer>> = const { Cell::new(None) };
    static LOADING: Cell<bool> = const { Cell::new(false) };
    /// Notified once the renderer is there: replies shown as plain text
    /// until then render again.
    static RENDERER_READY: ArcTrigger = ArcTrigger::new();
}

/// Starts fetching the markdown renderer unless it is there or on its way.
/// The composer calls this at the first keystroke, so a first reply finds
/// it ready. A failed fetch is tried again at the next call.
pub fn prepare() {
    if RENDERER.get().is_some() || LOADING.replace(true) {
        return;
    }
    leptos::task::spawn_local(async {
        renderer_ready().await;
        LOADING.set(false);
    });
}

/// Whether the renderer is there, fetching it first if need be (a fetch
/// already under way is shared, not repeated).
pub async fn renderer_ready() -> bool {
    if RENDERER.get().is_some() {
        return true;
    }
    let Ok(renderer) = load_renderer().await else {
        return false;
    };
    if RENDERER.replace(Some(renderer)).is_none() {
        RENDERER_READY.with(ArcTrigger::notify);
    }
    true
}

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
        renderer: Renderer,
        text: &str,
        stable: &web_sys::HtmlDivElement,
        tail: &web_sys::HtmlDivElement,
    ) {
        let update = (renderer.push)(&mut self.stream, text);
        // The first stable blocks replace whatever the empty element held
        // (Leptos leaves a placeholder comment in it).
        if update.reset || (self.shown_stable.is_empty() && !update.stable.is_empty()) {
            stable.set_inner_html(&update.stable);
            self.shown_stable = update.stable;
            enhance(stable);
        } else if !update.stable.is_empty() {
            // Appending keeps the nodes already shown (and a selection
            // in them) untouched.
            let before = stable.child_element_count();
            let _ = stable.insert_adjacent_html("beforeend", &update.stable);
            self.shown_stable.push_str(&update.stable);
            // Only the new blocks can need the worker: the query stays as
            // small as they are, however long the reply.
            let mut added = stable.last_element_child();
            for _ in before..stable.child_element_count() {
                let Some(block) = added else { break };
                enhance(&block);
                added = block.previous_element_sibling();
            }
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
        renderer: Renderer,
        text: &str,
        stable: &web_sys::HtmlDivElement,
        tail: &web_sys::HtmlDivElement,
    ) {
        let streamed = !self.shown_stable.is_empty() || !self.shown_tail.is_empty();
        if streamed {
            self.show(renderer, text, stable, tail);
        }
        let whole = (renderer.render_html)(text);
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
        enhance(stable);
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
    let ready = RENDERER_READY.with(Clone::clone);
    Effect::new(move |_| {
        let streaming = status.get() == MessageStatus::Streaming;
        text.track();
        ready.track();
        let (Some(stable), Some(tail)) = (stable_ref.get(), tail_ref.get()) else {
            return;
        };
        let Some(renderer) = RENDERER.get() else {
            // Plain text in the tail until the renderer is there; the
            // first rendering replaces it.
            prepare();
            text.with_untracked(|t| tail.set_text_content(Some(t)));
            let _ = tail.set_attribute("data-plain", "");
            return;
        };
        let _ = tail.remove_attribute("data-plain");
        if !streaming {
            text.with_untracked(|t| progress.borrow_mut().finish(renderer, t, &stable, &tail));
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
            text.with_untracked(|t| progress.show(renderer, t, &stable, &tail));
        });
    });
    view! {
        <div class="text markdown">
            <div class="md-stable" node_ref=stable_ref></div>
            <div class="md-tail" node_ref=tail_ref></div>
        </div>
    }
}

/// The MathML namespace, for `createElementNS`.
const MATHML: &str = "http://www.w3.org/1998/Math/MathML";

/// Asks the worker to highlight the code blocks and convert the formulas in
/// `root` that were not asked for yet (each is marked `data-hl` or
/// `data-math`: `pending`, then `done` or `error`). A page whose replies
/// have neither never starts the worker.
fn enhance(root: &web_sys::Element) {
    let Ok(found) = root.query_selector_all(
        "pre > code[class^=\"language-\"]:not([data-hl]), span.math:not([data-math])",
    ) else {
        return;
    };
    for index in 0..found.length() {
        let Some(element) = found
            .item(index)
            .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        if element.tag_name().eq_ignore_ascii_case("code") {
            highlight(element);
        } else {
            typeset(element);
        }
    }
}

fn highlight(code: web_sys::Element) {
    let class = code.class_name();
    let language = class
        .strip_prefix("language-")
        .unwrap_or_default()
        .to_owned();
    let text = code.text_content().unwrap_or_default();
    let _ = code.set_attribute("data-hl", "pending");
    let job = Job::Highlight {
        code: &text,
        language: &language,
    };
    let sent = text.clone();
    // Without a worker the block stays plain and readable.
    let _ = render_worker::request(job, move |tokens| show_tokens(&code, &sent, tokens));
}

/// Puts the tokens into `code`, if it still holds the `text` they are for
/// (a reset or the final rendering may have replaced it meanwhile). Ranges
/// are checked before anything changes: a bad one leaves the block plain.
fn show_tokens(code: &web_sys::Element, text: &str, tokens: JsValue) {
    if !code.is_connected() || code.text_content().as_deref() != Some(text) {
        return;
    }
    let Ok(tokens) = tokens.dyn_into::<js_sys::Uint32Array>() else {
        let _ = code.set_attribute("data-hl", "error");
        return;
    };
    let flat = tokens.to_vec();
    let mut pieces: Vec<(&str, Option<TokenKind>)> = Vec::with_capacity(flat.len() / 3 * 2 + 1);
    let mut at = 0;
    for token in flat.chunks_exact(3) {
        let (start, end) = (token[0] as usize, token[1] as usize);
        let (Some(before), Some(inside), Some(kind)) = (
            text.get(at..start),
            text.get(start..end),
            TokenKind::from_index(token[2]),
        ) else {
            let _ = code.set_attribute("data-hl", "error");
            return;
        };
        pieces.push((before, None));
        pieces.push((inside, Some(kind)));
        at = end;
    }
    pieces.push((&text[at..], None));
    let document = document();
    code.set_text_content(None);
    for (piece, kind) in pieces {
        if piece.is_empty() {
            continue;
        }
        let node: web_sys::Node = match kind {
            None => document.create_text_node(piece).into(),
            Some(kind) => {
                let Ok(span) = document.create_element("span") else {
                    continue;
                };
                span.set_class_name(kind.class());
                span.set_text_content(Some(piece));
                span.into()
            }
        };
        let _ = code.append_child(&node);
    }
    let _ = code.set_attribute("data-hl", "done");
}

fn typeset(holder: web_sys::Element) {
    let tex = holder.text_content().unwrap_or_default();
    let display = holder.get_attribute("data-display").as_deref() == Some("block");
    let _ = holder.set_attribute("data-math", "pending");
    let sent = tex.clone();
    let job = Job::Math { tex: &tex, display };
    // Without a worker the TeX stays readable.
    let _ = render_worker::request(job, move |tree| show_math(&holder, &sent, display, tree));
}

/// Replaces the TeX in `holder` by a `<math>` element built from `tree`,
/// with the TeX kept as its annotation (what assistive tools and copying
/// can read). A formula that did not convert keeps showing its source.
fn show_math(holder: &web_sys::Element, tex: &str, display: bool, tree: JsValue) {
    if !holder.is_connected() || holder.text_content().as_deref() != Some(tex) {
        return;
    }
    let document = document();
    let built = (|| {
        let root = math_node(&document, &tree, 0)?;
        let math = document.create_element_ns(Some(MATHML), "math").ok()?;
        if display {
            math.set_attribute("display", "block").ok()?;
        }
        let semantics = document.create_element_ns(Some(MATHML), "semantics").ok()?;
        semantics.append_child(&root).ok()?;
        let annotation = document
            .create_element_ns(Some(MATHML), "annotation")
            .ok()?;
        annotation
            .set_attribute("encoding", "application/x-tex")
            .ok()?;
        annotation.set_text_content(Some(tex));
        semantics.append_child(&annotation).ok()?;
        math.append_child(&semantics).ok()?;
        Some(math)
    })();
    match built {
        Some(math) => {
            holder.set_text_content(None);
            let _ = holder.append_child(&math);
            let _ = holder.set_attribute("data-math", "done");
        }
        None => {
            let _ = holder.set_attribute("data-math", "error");
        }
    }
}

/// Deeper than this is not a tree the worker makes (its depth bound is 48
/// groups): refuse it rather than recurse.
const MATH_NODE_DEPTH: usize = 256;

/// One node of the worker's tree: a string is text, an array is
/// `[element, [attribute, value, ...], child...]` with indices into the
/// fixed tables of confab_render::math.
fn math_node(document: &web_sys::Document, value: &JsValue, depth: usize) -> Option<web_sys::Node> {
    if depth > MATH_NODE_DEPTH {
        return None;
    }
    if let Some(text) = value.as_string() {
        return Some(document.create_text_node(&text).into());
    }
    let parts = value.dyn_ref::<js_sys::Array>()?;
    let element = math::Element::from_index(parts.get(0).as_f64()? as u32)?;
    let node = document
        .create_element_ns(Some(MATHML), element.name())
        .ok()?;
    let attributes = parts.get(1).dyn_into::<js_sys::Array>().ok()?.to_vec();
    for pair in attributes.chunks_exact(2) {
        let attribute = math::Attribute::from_index(pair[0].as_f64()? as u32)?;
        let value = math::VALUES.get(pair[1].as_f64()? as usize)?;
        node.set_attribute(attribute.name(), value).ok()?;
    }
    for child in parts.iter().skip(2) {
        node.append_child(&math_node(document, &child, depth + 1)?)
            .ok()?;
    }
    Some(node.into())
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
    leptos::task::spawn_local(async move {
        let copied = super::copy::copy_text(&code).await;
        button.set_text_content(Some(if copied { "Copied" } else { "Copy failed" }));
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
