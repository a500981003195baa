//! The render worker: Trunk builds this into `confab-render-worker.js` and
//! `_bg.wasm` (no-modules) with a loader shim, and the app starts it the
//! first time a reply has a code block or a formula
//! (src/platform/render_worker.rs in the app).
//!
//! Messages in: `[id, 0, code, language]` or `[id, 1, tex, "inline"|"block"]`.
//! Messages out: `"ready"` once, when requests can be taken (messages sent
//! before the wasm has started would be lost), then `[id, result]`: for code
//! a `Uint32Array` of `start, end, kind` triples (byte offsets into the
//! code as UTF-8, kind an index into `TokenKind::ALL`); for a formula a tree
//! (`[element, [attribute, value, ...], child...]` with indices into
//! `Element::ALL`, `Attribute::ALL` and `VALUES`, text leaves as strings),
//! or `null` when it does not convert (the page keeps showing its source).

#[cfg(target_arch = "wasm32")]
mod worker {
    use confab_render::{highlight, math};
    use js_sys::{Array, Uint32Array};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    pub fn start() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let replies = scope.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let request = Array::from(&event.data());
            let text = request.get(2).as_string().unwrap_or_default();
            let detail = request.get(3).as_string().unwrap_or_default();
            let result = match request.get(1).as_f64() {
                Some(0.0) => tokens(&text, &detail),
                Some(1.0) => formula(&text, detail == "block"),
                _ => JsValue::NULL,
            };
            let _ = replies.post_message(&Array::of2(&request.get(0), &result));
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The worker lives as long as the page: its handler too.
        on_message.forget();
        let _ = scope.post_message(&JsValue::from_str("ready"));
    }

    fn tokens(code: &str, language: &str) -> JsValue {
        let tokens = highlight::tokenize(code, language);
        let mut flat = Vec::with_capacity(tokens.len() * 3);
        for token in tokens {
            flat.extend([token.start, token.end, token.kind.index()]);
        }
        Uint32Array::from(flat.as_slice()).into()
    }

    fn formula(tex: &str, display: bool) -> JsValue {
        match math::to_mathml(tex, display) {
            Ok(tree) => encode(&tree),
            Err(_) => JsValue::NULL,
        }
    }

    fn encode(node: &math::Node) -> JsValue {
        match node {
            math::Node::Text(text) => JsValue::from_str(text),
            math::Node::Element {
                element,
                attributes,
                children,
            } => {
                let out = Array::new();
                out.push(&element.index().into());
                let pairs = Array::new();
                for (attribute, value) in attributes {
                    pairs.push(&attribute.index().into());
                    pairs.push(&math::value_index(value).into());
                }
                out.push(&pairs);
                for child in children {
                    out.push(&encode(child));
                }
                out.into()
            }
        }
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::start();
}
