//! Attachments as chips: on a sent message (bytes read from IndexedDB for a
//! thumbnail or a download) and in the composer before sending (with a
//! remove button). An image opens larger in the one lightbox; a CSV/TSV
//! shows the preview its reference carries (no parsing on display).

use confab_core::session::{AttachmentRef, TablePreview};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::platform::{blobs, files};

/// The files of a `FileList` (a picker's, a paste's or a drop's).
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Whether a drag carries files (not text or a link dragged in the page).
fn carries_files(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer().is_some_and(|data| {
        data.types()
            .iter()
            .any(|t| t.as_string().as_deref() == Some("Files"))
    })
}

/// Dropping files on the conversation: where they may land is marked
/// while they are dragged over it (`dragging`).
#[derive(Clone, Copy)]
pub struct DropTarget {
    pub dragging: RwSignal<bool>,
    store: crate::store::ChatStore,
}

impl DropTarget {
    pub fn new(store: crate::store::ChatStore) -> Self {
        Self {
            dragging: RwSignal::new(false),
            store,
        }
    }

    pub fn on_dragover(self, ev: web_sys::DragEvent) {
        if carries_files(&ev) {
            // Allows the drop.
            ev.prevent_default();
            self.dragging.set(true);
        }
    }

    pub fn on_dragleave(self, ev: web_sys::DragEvent) {
        // Leaving for a child element is no leaving.
        let inside = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
            .zip(
                ev.current_target()
                    .and_then(|t| t.dyn_into::<web_sys::Node>().ok()),
            )
            .is_some_and(|(to, area)| area.contains(Some(&to)));
        if !inside {
            self.dragging.set(false);
        }
    }

    pub fn on_drop(self, ev: web_sys::DragEvent) {
        self.dragging.set(false);
        let files = files_of(ev.data_transfer().and_then(|data| data.files()));
        if !files.is_empty() {
            ev.prevent_default();
            self.store.attach_files(files);
        }
    }
}

/// The image the lightbox shows: `(object URL, name)`.
#[derive(Clone, Copy)]
pub struct Lightbox(RwSignal<Option<(String, String)>>);

impl Lightbox {
    pub fn provide() {
        provide_context(Self(RwSignal::new(None)));
    }
}

/// `image`, `pdf` or `text`: what the page marks (`data-kind`).
pub fn kind_of(mime: &str) -> &'static str {
    if mime.starts_with("image/") {
        "image"
    } else if mime == "application/pdf" {
        "pdf"
    } else {
        "text"
    }
}

/// A short type label: `PNG`, `CSV`, `PDF`.
fn type_label(reference: &AttachmentRef) -> String {
    let subtype = reference
        .mime_type
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_start_matches("x-")
        .trim_start_matches("vnd.");
    match subtype {
        "plain" => "TEXT".to_owned(),
        "jpeg" => "JPEG".to_owned(),
        "" => "FILE".to_owned(),
        other => other.to_ascii_uppercase(),
    }
}

/// Saves the stored bytes of `reference` as a file with its name.
fn download_stored(reference: &AttachmentRef) {
    let (sha, name) = (reference.sha256.clone(), reference.name.clone());
    spawn_local(async move {
        if let Ok(Some(blob)) = blobs::get(&sha).await {
            let _ = files::download_blob(&name, &blob);
        }
    });
}

/// The attachments of a sent message, and the artifacts its agent saved
/// that could not be fetched (named, unavailable). Their chips are a split
/// point (crate::split): a first visit has none to show.
pub fn message_attachments(
    attachments: Vec<AttachmentRef>,
    missing_artifacts: Vec<String>,
) -> Option<impl IntoView> {
    (!attachments.is_empty() || !missing_artifacts.is_empty())
        .then(|| super::split::show(stored_chips(attachments, missing_artifacts)))
}

crate::split::split_point!(
    stored_chips,
    fn stored_chips(attachments: Vec<AttachmentRef>, missing_artifacts: Vec<String>) -> AnyView {
        stored_chips_view(attachments, missing_artifacts)
    }
);

fn stored_chips_view(attachments: Vec<AttachmentRef>, missing_artifacts: Vec<String>) -> AnyView {
    view! {
        <div class="attachments">
            {attachments
                .into_iter()
                .map(|reference| view! { <StoredAttachment reference /> })
                .collect_view()}
            {missing_artifacts
                .into_iter()
                .map(|name| {
                    let label = name.clone();
                    view! {
                        <div
                            class="attachment"
                            data-role="attachment"
                            data-name=name
                            data-origin="artifact"
                            data-state="unavailable"
                        >
                            <div class="attachment-row">
                                <span class="attachment-label">
                                    <span class="attachment-name">{label}</span>
                                    <span class="meta">"saved by the agent"</span>
                                    <span class="attachment-missing" role="note">
                                        "attachment unavailable"
                                    </span>
                                </span>
                            </div>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
    .into_any()
}

/// A sent attachment: its bytes looked up in IndexedDB; missing or
/// unreadable, it says so (the conversation opens and goes on all the same).
#[component]
fn StoredAttachment(reference: AttachmentRef) -> impl IntoView {
    let state = RwSignal::new("loading");
    let thumb = RwSignal::new(None::<String>);
    let (sha, image) = (reference.sha256.clone(), reference.is_image());
    let read = move || {
        let sha = sha.clone();
        spawn_local(async move {
            match blobs::get(&sha).await {
                Ok(Some(blob)) => {
                    if image {
                        let url = web_sys::Url::create_object_url_with_blob(&blob).ok();
                        // The chip may be gone already (another conversation opened).
                        if thumb.try_set(url.clone()).is_some()
                            && let Some(url) = url
                        {
                            let _ = web_sys::Url::revoke_object_url(&url);
                        }
                    }
                    let _ = state.try_set("ready");
                }
                _ => {
                    let _ = state.try_set("unavailable");
                }
            }
        });
    };
    read();
    // Blobs moved into IndexedDB after this chip looked (the startup drain
    // of a migrated store): one it did not find is looked up again.
    let arrived = crate::store::use_store().storage.blobs_arrived;
    Effect::new(move |seen: Option<u32>| {
        let now = arrived.get();
        if seen.is_some_and(|seen| seen != now) && state.get_untracked() == "unavailable" {
            read();
        }
        now
    });
    on_cleanup(move || {
        if let Some(Some(url)) = thumb.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    let downloaded = reference.clone();
    view! {
        <AttachmentChip
            reference
            thumb=thumb.into()
            state=state.into()
            on_download=Callback::new(move |()| download_stored(&downloaded))
        />
    }
}

/// One chip: thumbnail (images), name, type, size, Download, and Remove
/// when `on_remove` is given (before sending).
#[component]
pub fn AttachmentChip(
    reference: AttachmentRef,
    thumb: Signal<Option<String>>,
    state: Signal<&'static str>,
    on_download: Callback<()>,
    #[prop(optional)] on_remove: Option<Callback<()>>,
) -> impl IntoView {
    let lightbox = use_context::<Lightbox>();
    let name = reference.name.clone();
    let saved_by_agent = if reference.origin.as_deref() == Some(confab_core::agent::ARTIFACT_ORIGIN)
    {
        " · saved by the agent"
    } else {
        ""
    };
    let details = format!(
        "{} · {}{saved_by_agent}",
        type_label(&reference),
        confab_core::units::bytes(reference.size as f64)
    );
    let thumbnail = {
        let name = name.clone();
        move || {
            let url = thumb.get()?;
            let (open_url, open_name) = (url.clone(), name.clone());
            Some(view! {
                <button
                    type="button"
                    class="attachment-thumb"
                    aria-label=format!("Open {name} larger")
                    on:click=move |_| {
                        if let Some(Lightbox(shown)) = lightbox {
                            shown.set(Some((open_url.clone(), open_name.clone())));
                        }
                    }
                >
                    <img src=url alt="" />
                </button>
            })
        }
    };
    // Plain `Option` views, not `Show`s (each `Show` is its own generic
    // memo and children in the wasm).
    let missing = move || {
        (state.get() == "unavailable").then(|| {
            view! { <span class="attachment-missing" role="note">"attachment unavailable"</span> }
        })
    };
    let download_label = format!("Download {name}");
    let download = move || {
        (state.get() == "ready").then(|| {
            view! {
                <button
                    type="button"
                    class="attachment-download"
                    data-role="download"
                    aria-label=download_label.clone()
                    on:click=move |_| on_download.run(())
                >
                    "Download"
                </button>
            }
        })
    };
    let table = reference
        .table
        .clone()
        .map(|table| view! { <TablePreviewView table /> });
    let remove = on_remove.map(|remove| {
        view! {
            <button
                type="button"
                class="attachment-remove"
                aria-label=format!("Remove {name}")
                on:click=move |_| remove.run(())
            >
                "×"
            </button>
        }
    });
    view! {
        <div
            class="attachment"
            data-role="attachment"
            data-name=reference.name.clone()
            data-kind=kind_of(&reference.mime_type)
            data-origin=reference.origin.clone()
            data-state=move || state.get()
        >
            <div class="attachment-row">
                {thumbnail}
                <span class="attachment-label">
                    <span class="attachment-name">{reference.name.clone()}</span>
                    <span class="meta">{details}</span>
                    {missing}
                </span>
                {download}
                {remove}
            </div>
            {table}
        </div>
    }
}

/// A table's first rows, and its size.
#[component]
fn TablePreviewView(table: TablePreview) -> impl IntoView {
    let caption = format!("{} rows × {} columns", table.rows, table.columns);
    view! {
        <div class="attachment-table-wrap">
            <table data-role="attachment-table">
                <caption>{caption}</caption>
                <thead>
                    <tr>{table.header.into_iter().map(|cell| view! { <th>{cell}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {table
                        .head
                        .into_iter()
                        .map(|row| {
                            view! {
                                <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The image a chip opened, larger, in a modal `<dialog>` (Esc closes it,
/// as does a click anywhere on it).
#[component]
pub fn LightboxDialog() -> impl IntoView {
    let Lightbox(shown) = expect_context::<Lightbox>();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    super::modal_follows(dialog, move || shown.with(Option::is_some));
    view! {
        <dialog
            class="lightbox"
            data-role="lightbox"
            node_ref=dialog
            aria-label="Image"
            on:close=move |_| shown.set(None)
            on:click=move |_| shown.set(None)
        >
            {move || {
                shown
                    .get()
                    .map(|(url, name)| {
                        view! {
                            <figure>
                                <img src=url alt=name.clone() />
                                <figcaption>{name}</figcaption>
                            </figure>
                        }
                    })
            }}
        </dialog>
    }
}
