//! A reasoning model's thinking, as a disclosure above its answer: open
//! and labelled "Thinking…" while it thinks, closed and labelled "Thought
//! for N s" once the answer begins. The text goes through the same safe
//! markdown writer as answers (never raw HTML); Copy copies it as it came.

use confab_core::session::MessageStatus;
use confab_core::transport::thought_label;
use leptos::prelude::*;

#[component]
pub fn Reasoning(
    reasoning: ArcRwSignal<String>,
    answer: ArcRwSignal<String>,
    status: ArcRwSignal<MessageStatus>,
    thought_millis: ArcRwSignal<Option<u64>>,
) -> impl IntoView {
    // Thinking: the reply streams and its answer has not begun.
    let thinking = {
        let status = status.clone();
        move || status.get() == MessageStatus::Streaming && answer.with(String::is_empty)
    };
    let shown = {
        let reasoning = reasoning.clone();
        move || reasoning.with(|r| !r.trim().is_empty())
    };
    view! {
        <Show when=shown>
            <details
                class="reasoning"
                data-role="reasoning"
                data-status={
                    let thinking = thinking.clone();
                    move || if thinking() { "thinking" } else { "done" }
                }
                // Set only when `thinking` changes (twice at most), so the
                // reader's own opening or closing is otherwise left alone.
                prop:open={
                    let thinking = thinking.clone();
                    move || thinking()
                }
            >
                <summary>
                    {
                        let thinking = thinking.clone();
                        let thought_millis = thought_millis.clone();
                        move || {
                            if thinking() {
                                "Thinking…".to_owned()
                            } else {
                                thought_label(thought_millis.get())
                            }
                        }
                    }
                </summary>
                <super::markdown::MarkdownText text=reasoning.clone() status=status.clone() />
                <super::copy::CopyButton text=reasoning.clone() class="copy-reasoning" label="Copy thinking" />
            </details>
        </Show>
    }
}
