use confab_core::actions::{MessageActions, MessageFacts};
use confab_core::manager::{Rating, ReplyFeedback};
use confab_core::session::{MessageStatus, Part};
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;

use crate::store::{MessageView, Role, use_store};

/// The open conversation's messages. The list is a `log`: screen readers
/// announce new messages politely, and `aria-busy` holds the announcement of
/// a streaming reply until it is finished rather than reading every token.
/// Messages rendered when a conversation opens: its newest ones, more than a
/// tall screen shows. Building all 1,000 messages of a long conversation
/// before its newest could paint would take far longer than the 100 ms
/// budget for opening it; older ones are added a page at a time on request.
const FIRST_MESSAGES: usize = 24;

/// Older messages added per "Show earlier messages".
const EARLIER_PAGE: usize = 100;

#[component]
pub fn Conversation() -> impl IntoView {
    let store = use_store();
    // Pages of older messages asked for, in all conversations.
    let earlier = RwSignal::new(0usize);
    // (open conversation, its first message rendered when it opened, pages
    // asked for by then): a conversation opens on its newest messages, and
    // messages added while it is open do not push older ones out.
    // (A conversation whose messages were not loaded yet counts as not
    // opened: at startup its id comes a frame before its messages.)
    let window = Memo::new(
        move |previous: Option<&(Option<String>, usize, usize, usize)>| {
            let open = store.on_screen.id.get();
            let len = store.on_screen.messages.with(Vec::len);
            let pages = earlier.get();
            match previous {
                Some((id, first, pages_then, before)) if *id == open && *before > 0 => {
                    (open, (*first).min(len), *pages_then, len)
                }
                _ => (open, len.saturating_sub(FIRST_MESSAGES), pages, len),
            }
        },
    );
    let hidden = move || {
        let (_, first, pages_then, _) = window.get();
        first.saturating_sub((earlier.get() - pages_then) * EARLIER_PAGE)
    };
    let visible = move || {
        let skip = hidden();
        store.on_screen.messages.with(|m| m[skip..].to_vec())
    };
    let follow = super::scroll::use_follow();
    view! {
        <section
            class="messages"
            node_ref=follow.section
            on:scroll=move |_| follow.on_scroll()
            on:wheel=move |ev| follow.on_wheel(&ev)
            role="log"
            aria-live="polite"
            aria-label="Messages"
            aria-busy=move || store.is_streaming().to_string()
            on:click=super::markdown::on_click
        >
            <Show when=move || store.on_screen.messages.with(Vec::is_empty) && !store.on_screen.opening.get()>
                <Welcome />
            </Show>
            <BranchedFrom />
            <Show when=move || hidden() != 0>
                <button
                    type="button"
                    class="earlier"
                    on:click=move |_| earlier.update(|n| *n += 1)
                >
                    {move || format!("Show earlier messages ({} more)", hidden())}
                </button>
            </Show>
            <For each=visible key=|m| m.id.clone() let:message>
                <Message message />
            </For>
            <Ended />
        </section>
    }
}

/// A new chat's welcome: who answers, and the starter prompts (Settings),
/// each of which fills the message box when chosen.
#[component]
fn Welcome() -> impl IntoView {
    let store = use_store();
    let super::composer::ComposerText(draft) = expect_context();
    let starters = move || store.settings.with(|s| s.starter_prompts.clone());
    view! {
        <div class="welcome">
            <h2>{move || format!("Chat with {}", super::answerer::answerer_name(store))}</h2>
            <p class="empty">"Send a message to start the conversation, or begin with one of these:"</p>
            <ul class="starters" aria-label="Starter prompts">
                {move || {
                    starters()
                        .into_iter()
                        .map(|prompt| {
                            let text = prompt.clone();
                            let fill = move |_| {
                                draft.set(text.clone());
                                prepare_first_reply();
                                super::keyboard::focus_composer();
                            };
                            view! {
                                <li>
                                    <button type="button" on:click=fill>{prompt}</button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// How an ended conversation ended, at its foot.
#[component]
fn Ended() -> impl IntoView {
    let store = use_store();
    move || {
        let ending = store
            .on_screen
            .record
            .with(|c| c.as_ref().and_then(|c| c.ended.clone()))?;
        let how = match (ending.reason, ending.satisfaction) {
            (_, Some(confab_core::manager::Satisfaction::Satisfied)) => {
                "You ended this conversation: satisfied.".to_owned()
            }
            (_, Some(confab_core::manager::Satisfaction::NotSatisfied)) => {
                "You ended this conversation: not satisfied.".to_owned()
            }
            (confab_core::manager::EndReason::Expired, None) => {
                "This conversation expired after a period of inactivity.".to_owned()
            }
            _ => "This conversation has ended.".to_owned(),
        };
        Some(view! {
            <aside class="ended" data-end-reason=ending.reason.as_str()>
                <p>{how}</p>
                {(!ending.comment.is_empty())
                    .then(|| view! { <p class="comment">"“" {ending.comment.clone()} "”"</p> })}
                <p class="meta">"It stays here to read. A new message starts a new conversation."</p>
            </aside>
        })
    }
}

thread_local! {
    static FIRST_REPLY_PREPARED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Called as the user types: fetches the markdown renderer (with the
/// reply's streaming code, one chunk) and, once it is there and the page
/// is idle, renders a message and a reply off the page and drops them.
/// The browser compiles WebAssembly functions the first time they run;
/// without this the first send's task compiled the message components
/// (the store's part of a send is rehearsed at startup, store/rehearsal.rs).
pub fn prepare_first_reply() {
    if FIRST_REPLY_PREPARED.replace(true) {
        return;
    }
    let owner = Owner::current();
    leptos::task::spawn_local(async move {
        if !super::markdown::renderer_ready().await {
            // Not fetched (offline): the next keystroke tries again.
            FIRST_REPLY_PREPARED.set(false);
            return;
        }
        let rehearse = move || {
            if let Some(owner) = owner {
                owner.with(rehearse_rendering);
            }
        };
        let idle = wasm_bindgen::closure::Closure::once_into_js(rehearse);
        // Without idle callbacks the rehearsal is skipped, nothing else.
        let _ = window().request_idle_callback(idle.unchecked_ref());
    });
}

/// A user message and a streamed reply rendered into an element that is
/// never in the page, under an owner dropped a frame later (after their
/// effects, the markdown rendering among them, have run once).
fn rehearse_rendering() {
    let Ok(holder) = document().create_element("div") else {
        return;
    };
    let owner = Owner::new();
    let state = owner.with(|| {
        let user = MessageView::rehearsal(Role::User, "A rehearsal", MessageStatus::Complete);
        let reply = MessageView::rehearsal(
            Role::Assistant,
            "A *rehearsed* reply:\n\n- one\n- two",
            MessageStatus::Streaming,
        );
        let text = reply.text.clone();
        let status = reply.status.clone();
        let mut state = view! {
            <Message message=user />
            <Message message=reply />
        }
        .build();
        state.mount(&holder, None);
        (state, text, status)
    });
    request_animation_frame(move || {
        let (state, text, status) = state;
        text.update(|t| t.push_str("\n- three"));
        status.set(MessageStatus::Complete);
        request_animation_frame(move || {
            drop(state);
            owner.cleanup();
        });
    });
}

#[component]
fn Message(message: MessageView) -> impl IntoView {
    let store = use_store();
    let MessageView {
        id,
        role,
        author,
        time,
        text,
        reasoning,
        thought_millis,
        status,
        error,
        saved,
        retry_in,
        rich_parts,
        attachments,
        missing_artifacts,
        note,
    } = message;
    let status_attr = {
        let status = status.clone();
        move || status.get().as_str()
    };
    // Everything that decides the message's actions, and the one rule that
    // turns it into them (core::actions, tested on the host). A memo: the
    // text changes with every streamed token, and the buttons that read
    // the actions then re-render only when they change.
    let actions = {
        let (id, status, text, saved) = (id.clone(), status.clone(), text.clone(), saved.clone());
        Memo::new(move |_| {
            MessageActions::of(MessageFacts {
                from_user: role == Role::User,
                status: status.get(),
                has_text: text.with(|t| !t.is_empty()),
                saved: saved.get(),
                is_last: store
                    .on_screen
                    .messages
                    .with(|m| m.last().is_some_and(|last| last.id == id)),
                streaming: store.is_streaming(),
                ended: store.is_ended(),
                agent: store
                    .on_screen
                    .record
                    .with(|c| c.as_ref().is_some_and(|c| c.options.agent().is_some())),
            })
        })
    };
    let label = move || match role {
        Role::User => "You".to_owned(),
        Role::Assistant => {
            let author = author.get();
            if author.is_empty() || author == "model" {
                "Model".to_owned()
            } else {
                author
            }
        }
    };
    let stopped = {
        let status = status.clone();
        move || {
            (status.get() == MessageStatus::Stopped)
                .then(|| view! { <p class="meta">"Stopped"</p> })
        }
    };
    let countdown = move || {
        retry_in.get().map(|seconds| {
            view! {
                <p class="countdown" role="status">
                    {format!("The model is rate limited. Trying again in {seconds} s…")}
                    <button type="button" on:click=move |_| store.stop()>"Cancel"</button>
                </p>
            }
        })
    };
    let cut = {
        let id = id.clone();
        move || {
            store.on_screen.context_cut.with(|cut| {
                cut.as_ref().filter(|(first, ..)| *first == id).map(|(_, left_out, files)| {
                    let messages = (*left_out > 0).then(|| format!(
                        "{left_out} earlier message(s) above are not sent to the model: they do not fit in its context window (Settings). "
                    ));
                    let files = (*files > 0).then(|| format!(
                        "{files} earlier attachment(s) are sent by name only: their contents do not fit."
                    ));
                    view! {
                        <p class="context-cut" role="note">
                            {messages}
                            {files}
                        </p>
                    }
                })
            })
        }
    };
    let parts = rich_parts.iter().map(rich_part).collect_view();
    let continue_id = id.clone();
    // A user message's edit form, opened from its actions.
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let (hh_mm, iso) = clock_time(time);
    view! {
        {cut}
        <article class="message" data-role=role.as_str() data-status=status_attr data-message-id=id.clone()>
            <header class="author">
                <span class="name">{label}</span>
                " "
                <time datetime=iso>{hh_mm}</time>
            </header>
            {parts}
            {super::attachments::message_attachments(attachments, missing_artifacts)}
            {match role {
                // What the user typed is shown as typed.
                Role::User => view! { <UserText id=id.clone() text=text.clone() editing draft /> }.into_any(),
                Role::Assistant => {
                    view! {
                        <super::reasoning::Reasoning
                            reasoning
                            answer=text.clone()
                            status=status.clone()
                            thought_millis
                        />
                        <super::markdown::MarkdownText text=text.clone() status=status.clone() />
                    }
                    .into_any()
                }
            }}
            {stopped}
            {move || note.get().map(|n| view! { <p class="meta elsewhere" role="status">{n}</p> })}
            {move || {
                error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })
            }}
            {countdown}
            <Show when=move || actions.get().continue_reply>
                <button
                    type="button"
                    class="continue"
                    on:click={
                        let id = continue_id.clone();
                        move |_| store.continue_reply(&id)
                    }
                >
                    "Continue"
                </button>
            </Show>
            <Show when=move || actions.get().retry>
                <button type="button" class="retry" on:click=move |_| store.retry()>
                    "Retry"
                </button>
            </Show>
            <Show when=move || actions.get().answer_with_model>
                <button type="button" class="fallback" on:click=move |_| store.answer_with_model()>
                    "Answer with the model instead"
                </button>
            </Show>
            <Actions id=id.clone() role text actions editing draft />
        </article>
    }
}

/// `time` (seconds since the epoch) as the local hour and minute, and as
/// an ISO date for `<time datetime>`.
fn clock_time(time: f64) -> (String, String) {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(time * 1000.0));
    let hh_mm = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let iso = date.to_iso_string().as_string().unwrap_or_default();
    (hh_mm, iso)
}

/// A message's everyday actions as one row of icon buttons under it: Copy,
/// Edit (the user's), Regenerate (the last reply), Branch, and the thumbs
/// (a reply). On a desktop the row shows on hover and keyboard focus; on
/// touch screens and narrow windows, always (style/main.css). Each icon
/// button has its accessible name, and the same text as its tooltip.
#[component]
fn Actions(
    id: String,
    role: Role,
    text: ArcRwSignal<String>,
    actions: Memo<MessageActions>,
    editing: RwSignal<bool>,
    draft: RwSignal<String>,
) -> impl IntoView {
    let store = use_store();
    let start_editing = {
        let text = text.clone();
        move |_| {
            draft.set(text.get_untracked());
            editing.set(true);
        }
    };
    let branch_id = id.clone();
    // `hidden`, not `<Show>`: each `Show` is code of its own in the first
    // load, and the row's height does not change either way.
    view! {
        <div class="actions" role="group" aria-label="Message actions">
            <super::copy::CopyButton
                text=text.clone()
                class="copy-message"
                label="Copy"
                icon=true
                hidden=Signal::derive(move || !actions.get().copy)
            />
            <button
                type="button"
                class="edit-message"
                aria-label="Edit"
                title="Edit (sent as a branch)"
                hidden=move || role != Role::User || editing.get()
                disabled=move || !actions.get().edit
                on:click=start_editing
            >
                {super::icons::pencil()}
            </button>
            <button
                type="button"
                class="regenerate"
                aria-label="Regenerate"
                title="Regenerate"
                hidden=move || !actions.get().regenerate
                on:click=move |_| store.retry()
            >
                {super::icons::again()}
            </button>
            <button
                type="button"
                class="branch"
                aria-label="Branch from here"
                title="Branch from here: a new conversation with the messages up to this one"
                hidden=move || !actions.get().branch
                on:click=move |_| store.branch_from(&branch_id)
            >
                {super::icons::branch()}
            </button>
            // Only replies are rated.
            {(role == Role::Assistant)
                .then(|| view! { <Feedback event_id=id hidden=Signal::derive(move || !actions.get().rate) /> })}
        </div>
    }
}

/// Image types shown inline; others (SVG above all) are not rendered.
const INLINE_IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// A message the user sent, as typed, or its edit form (opened by Edit in
/// its actions): the edited text is sent in a branch of the conversation
/// made at this message (the original stays), and a link to any branch
/// already made here.
#[component]
fn UserText(
    id: String,
    text: ArcRwSignal<String>,
    editing: RwSignal<bool>,
    draft: RwSignal<String>,
) -> impl IntoView {
    let store = use_store();
    let submit = {
        let id = id.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            if store.edit_and_resend(&id, &draft.get_untracked()) {
                editing.set(false);
            }
        }
    };
    let branches = {
        let id = id.clone();
        move || {
            store.on_screen.record.with(|c| {
                c.as_ref()
                    .map(|c| {
                        c.branches
                            .iter()
                            .filter(|b| b.event_id == id)
                            .map(|b| b.session_id.clone())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        }
    };
    view! {
        <Show
            when=move || editing.get()
            fallback={
                let text = text.clone();
                move || {
                    let text = text.clone();
                    view! { <div class="text">{move || text.get()}</div> }
                }
            }
        >
            <form class="edit-form" on:submit=submit.clone()>
                <textarea aria-label="Edited message" bind:value=draft rows="3" autofocus></textarea>
                <p class="meta">"Sending starts a branch of this conversation from here; this one stays as it is."</p>
                <button type="submit" class="primary">"Send as a branch"</button>
                <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
            </form>
        </Show>
        <For each=branches.clone() key=|s| s.clone() let:session>
            <p class="branch-link">
                "Edited in a branch: "
                <button type="button" class="link" on:click=move |_| store.open(&session)>
                    "open it"
                </button>
            </p>
        </For>
    }
}

/// At the top of a branch: where it came from.
#[component]
fn BranchedFrom() -> impl IntoView {
    let store = use_store();
    let origin = move || {
        store
            .on_screen
            .record
            .with(|c| c.as_ref().and_then(|c| c.branched_from.clone()))
    };
    move || {
        origin().map(|branch| {
            let title = store.sidebar.listings.with(|l| {
                l.iter()
                    .find(|l| l.summary.id == branch.session_id)
                    .and_then(|l| l.summary.title.clone())
            });
            let session = branch.session_id.clone();
            // "Branch from here" keeps the message it was made at; an edit
            // branches before the edited one.
            let kept = store
                .on_screen
                .messages
                .with_untracked(|m| m.iter().any(|m| m.id == branch.event_id));
            view! {
                <p class="branch-link branched-from">
                    "Branched from "
                    <button type="button" class="link" on:click=move |_| store.open(&session)>
                        {title.map_or_else(|| "another conversation".to_owned(), |t| format!("“{t}”"))}
                    </button>
                    {if kept { "." } else { " at an edited message." }}
                </p>
            }
        })
    }
}

/// An agent's part other than text, rendered inert: tool calls and results
/// as collapsible cards, code and its output as blocks, images inline.
fn rich_part(part: &Part) -> AnyView {
    let pretty = |v: Option<&Value>| {
        v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let str_of = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let tool_card = |kind: &'static str, label: &'static str, name: String, body: String| {
        view! {
            <details class="tool-card" data-part=kind>
                <summary>{label} <code>{name}</code></summary>
                <pre>{body}</pre>
            </details>
        }
        .into_any()
    };
    let other = &part.other;
    if let Some(call) = other.get("functionCall") {
        return tool_card(
            "function-call",
            "Tool call: ",
            str_of(call, "name"),
            pretty(call.get("args")),
        );
    }
    if let Some(response) = other.get("functionResponse") {
        let result = pretty(response.get("response"));
        return tool_card(
            "function-response",
            "Tool result: ",
            str_of(response, "name"),
            result,
        );
    }
    if let Some(code) = other.get("executableCode") {
        let language = str_of(code, "language").to_ascii_lowercase();
        let source = str_of(code, "code");
        return view! {
            <figure class="code-block" data-part="executable-code">
                <figcaption>{format!("Code ({language})")}</figcaption>
                <pre><code>{source}</code></pre>
            </figure>
        }
        .into_any();
    }
    if let Some(result) = other.get("codeExecutionResult") {
        let outcome = str_of(result, "outcome");
        let output = str_of(result, "output");
        return view! {
            <figure class="code-output" data-part="code-execution-result">
                <figcaption>{format!("Output ({outcome})")}</figcaption>
                <pre>{output}</pre>
            </figure>
        }
        .into_any();
    }
    if let Some(data) = other.get("inlineData") {
        let mime = str_of(data, "mimeType");
        if let Some(src) = INLINE_IMAGE_TYPES
            .contains(&mime.as_str())
            .then(|| standard_base64(&str_of(data, "data")))
            .flatten()
        {
            return view! {
                <img class="inline-image" data-part="inline-image" alt="Image from the agent"
                    src=format!("data:{mime};base64,{src}") />
            }
            .into_any();
        }
    }
    let kind = other.keys().next().cloned().unwrap_or_default();
    tool_card(
        "other",
        "Part: ",
        kind,
        pretty(Some(&Value::Object(other.clone()))),
    )
}

/// Base64 in the standard alphabet, padded; ADK may send it URL-safe.
/// `None` if it is not base64 at all (then nothing is rendered).
fn standard_base64(data: &str) -> Option<String> {
    let mut out: String = data
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let body = out.trim_end_matches('=');
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    {
        return None;
    }
    let body_len = body.len();
    out.truncate(body_len);
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    Some(out)
}

/// Thumbs up or down on a reply: a click records the rating; a comment is
/// asked for only when the user chooses "Add a comment" (then the rating
/// is recorded again with it, as feedback is a log).
#[component]
fn Feedback(event_id: String, hidden: Signal<bool>) -> impl IntoView {
    let store = use_store();
    let given = {
        let event_id = event_id.clone();
        Memo::new(move |_| {
            store
                .on_screen
                .record
                .with(|c| c.as_ref().and_then(|c| c.feedback_for(&event_id).cloned()))
        })
    };
    let commenting = RwSignal::new(false);
    let comment = RwSignal::new(String::new());
    let pressed = move |rating: Rating| {
        move || (given.with(|g| g.as_ref().map(|g| g.rating)) == Some(rating)).to_string()
    };
    let rate = {
        let event_id = event_id.clone();
        move |rating: Rating| {
            let event_id = event_id.clone();
            move |_| store.rate(&event_id, rating, "")
        }
    };
    let submit = {
        let event_id = event_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if let Some(rating) = given.with_untracked(|g| g.as_ref().map(|g| g.rating)) {
                store.rate(&event_id, rating, &comment.get_untracked());
            }
            commenting.set(false);
            comment.set(String::new());
        }
    };
    let summary = move || {
        given.get().map(
            |ReplyFeedback {
                 rating, comment, ..
             }| {
                let what = match rating {
                    Rating::Up => "You rated this reply as good",
                    Rating::Down => "You rated this reply as bad",
                };
                let text = if comment.is_empty() {
                    format!("{what}.")
                } else {
                    format!("{what}: “{comment}”")
                };
                view! { <p class="meta feedback-given">{text}</p> }
            },
        )
    };
    let thumb = move |rating: Rating| {
        let (label, down) = match rating {
            Rating::Up => ("Good reply", false),
            Rating::Down => ("Bad reply", true),
        };
        view! {
            <button
                type="button"
                class="thumb"
                aria-label=label
                title=label
                hidden=move || hidden.get()
                aria-pressed=pressed(rating)
                on:click=rate(rating)
            >
                {super::icons::thumb(down)}
            </button>
        }
    };
    view! {
        {thumb(Rating::Up)}
        {thumb(Rating::Down)}
        <div class="feedback">
            {summary}
            <button
                type="button"
                class="link add-comment"
                hidden=move || given.with(Option::is_none) || commenting.get()
                on:click=move |_| commenting.set(true)
            >
                "Add a comment"
            </button>
            <Show when=move || commenting.get()>
                <form class="feedback-form" on:submit=submit.clone()>
                    <label>
                        "Comment (optional)"
                        <input
                            type="text"
                            name="feedback-comment"
                            autofocus
                            prop:value=move || comment.get()
                            on:input=move |ev| comment.set(event_target_value(&ev))
                        />
                    </label>
                    <button type="submit" class="primary">
                        "Send feedback"
                    </button>
                    <button type="button" on:click=move |_| commenting.set(false)>
                        "Cancel"
                    </button>
                </form>
            </Show>
        </div>
    }
}
