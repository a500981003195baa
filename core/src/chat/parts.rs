//! A user message's attachments as chat-completions content parts: what
//! each costs (tokens, bytes on the wire), the parts planned before the
//! bytes are loaded (placeholders), and the bytes filled in.

use crate::bytes::{base64_len, data_url};
use crate::session::AttachmentRef;
use crate::transport::openai::{ChatMessage, ContentPart, MessageContent};

/// Tokens an image is reckoned to cost, whatever its size: Confab sends
/// images with their long side at most 2048 px, and the most such an image
/// costs is OpenAI's high-detail 85 + 170 × 8 tiles = 1,445 (scaled to 768
/// px on its short side, 512-px tiles) or Anthropic's ~1,600 at its
/// 1.15-megapixel cap (Gemini's 258 per tile is less). Counting the most
/// means a conversation of images never overruns the window by surprise.
pub const IMAGE_TOKENS: usize = 1_600;

/// Bytes of PDF reckoned per token. Servers read a PDF as its text plus an
/// image of each page (OpenAI, Anthropic: 1,500–3,000 tokens a page), and a
/// text PDF runs 20–50 KB a page: 16 bytes a token puts a 40 KB page at
/// 2,500 tokens. Scanned PDFs are heavier per page and cost less than this.
pub const PDF_BYTES_PER_TOKEN: u64 = 16;

/// The most the attachments of one request may come to as sent (base64 for
/// images and PDFs): confab-proxy takes bodies up to 32 MB, and the rest is
/// room for the conversation's text and JSON.
pub const ATTACHMENT_BYTES_LIMIT: u64 = 24 << 20;

/// How an attachment can go to a chat-completions model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WireKind {
    /// An `image_url` part (PNG, JPEG, WebP, GIF).
    Image,
    /// Its text, in a text part under a header naming the file.
    Text,
    /// A `file` part (PDF).
    Pdf,
    /// No part reads it: only its header is sent.
    Other,
}

impl WireKind {
    pub(super) fn of(mime: &str) -> Self {
        let mime = mime.trim().to_ascii_lowercase();
        let subtype = mime.split_once('/').map_or("", |(_, s)| s);
        if mime == "application/pdf" {
            Self::Pdf
        } else if mime.starts_with("text/")
            || subtype.ends_with("+json")
            || subtype.ends_with("+xml")
            || matches!(
                mime.as_str(),
                "application/json"
                    | "application/xml"
                    | "application/javascript"
                    | "application/x-javascript"
                    | "application/yaml"
                    | "application/x-yaml"
                    | "application/toml"
                    | "application/sql"
                    | "application/x-sh"
                    | "application/x-python"
                    | "application/csv"
            )
        {
            // SVG is `image/svg+xml`: text, which no image part takes.
            Self::Text
        } else if mime.starts_with("image/") {
            Self::Image
        } else {
            Self::Other
        }
    }
}

/// The header an image's part follows: `[Attached image: <name>]`.
fn image_header(attachment: &AttachmentRef) -> String {
    format!("[Attached image: {}]", attachment.name)
}

/// The header of a text file's part (its text follows on the next line),
/// and of a file no part reads: `[Attached file: <name> (<mime>, <N>
/// bytes)]`. The offline model reads this header to quote what arrived.
fn file_header(attachment: &AttachmentRef) -> String {
    format!(
        "[Attached file: {} ({}, {} bytes)]",
        attachment.name, attachment.mime_type, attachment.size
    )
}

/// What stands for an attachment left out of a request (no room for it in
/// an older turn, or its bytes are gone): its name, so the model knows
/// something was there.
fn left_out_text(attachment: &AttachmentRef) -> String {
    let noun = if WireKind::of(&attachment.mime_type) == WireKind::Image {
        "image"
    } else {
        "file"
    };
    format!("[Attached {noun}: {} (left out)]", attachment.name)
}

/// Tokens for `chars` characters of text, as `estimate_tokens` counts them
/// (without the message's overhead, which its message pays once).
fn text_tokens(chars: usize) -> usize {
    chars.div_ceil(4)
}

/// What one attachment costs whole: tokens (its header included) and the
/// bytes it adds to the request.
pub(super) fn cost(attachment: &AttachmentRef) -> (usize, u64) {
    let header = |text: String| text_tokens(text.chars().count());
    match WireKind::of(&attachment.mime_type) {
        WireKind::Image => (
            header(image_header(attachment)) + IMAGE_TOKENS,
            base64_len(attachment.size),
        ),
        // Bytes, not characters, of the text: never fewer.
        WireKind::Text => (
            text_tokens(file_header(attachment).chars().count() + 1 + attachment.size as usize),
            attachment.size,
        ),
        WireKind::Pdf => (
            attachment.size.div_ceil(PDF_BYTES_PER_TOKEN) as usize,
            base64_len(attachment.size),
        ),
        WireKind::Other => (header(file_header(attachment)), 0),
    }
}

/// What an attachment costs left out: its name only.
pub(super) fn left_out_cost(attachment: &AttachmentRef) -> usize {
    text_tokens(left_out_text(attachment).chars().count())
}

/// A part waiting for the bytes of an attachment: where it is in the
/// request, and whether it belongs to the message being sent (whose
/// attachments must all arrive) or to an earlier turn (left out if gone).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Slot {
    pub message: usize,
    /// The part the bytes go in (an image's header is the part before).
    pub part: usize,
    pub attachment: AttachmentRef,
    pub newest: bool,
}

/// A user message of `text` and attachments, each whole (`true`, a
/// placeholder recorded in `slots`) or left out; a message with no
/// attachments is a plain string, as before.
pub(super) fn message(
    text: &str,
    attachments: &[(AttachmentRef, bool)],
    index: usize,
    newest: bool,
    slots: &mut Vec<Slot>,
) -> ChatMessage {
    if attachments.is_empty() {
        return ChatMessage::new("user", text);
    }
    let mut parts = Vec::new();
    if !text.is_empty() {
        parts.push(ContentPart::Text(text.to_owned()));
    }
    for (attachment, whole) in attachments {
        let kind = WireKind::of(&attachment.mime_type);
        if !whole {
            parts.push(ContentPart::Text(left_out_text(attachment)));
            continue;
        }
        let placeholder = match kind {
            WireKind::Image => {
                parts.push(ContentPart::Text(image_header(attachment)));
                ContentPart::ImageUrl(String::new())
            }
            WireKind::Text => ContentPart::Text(file_header(attachment)),
            WireKind::Pdf => ContentPart::File {
                filename: attachment.name.clone(),
                file_data: String::new(),
            },
            WireKind::Other => {
                parts.push(ContentPart::Text(file_header(attachment)));
                continue;
            }
        };
        slots.push(Slot {
            message: index,
            part: parts.len(),
            attachment: attachment.clone(),
            newest,
        });
        parts.push(placeholder);
    }
    ChatMessage::parts("user", parts)
}

/// Fills `slot` with `bytes`, or (`None`) puts the attachment's name in its
/// place. Slots are filled last to first, so a part removed here moves no
/// slot still to fill.
pub(super) fn fill(messages: &mut [ChatMessage], slot: &Slot, bytes: Option<&[u8]>) {
    let Some(MessageContent::Parts(parts)) = messages.get_mut(slot.message).map(|m| &mut m.content)
    else {
        return;
    };
    let Some(part) = parts.get_mut(slot.part) else {
        return;
    };
    let attachment = &slot.attachment;
    let Some(bytes) = bytes else {
        *part = ContentPart::Text(left_out_text(attachment));
        if WireKind::of(&attachment.mime_type) == WireKind::Image && slot.part > 0 {
            // Its header goes with it.
            parts.remove(slot.part - 1);
        }
        return;
    };
    match part {
        ContentPart::ImageUrl(url) => *url = data_url(&attachment.mime_type, bytes),
        ContentPart::File { file_data, .. } => *file_data = data_url("application/pdf", bytes),
        ContentPart::Text(header) => {
            let text = String::from_utf8_lossy(bytes);
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            header.push('\n');
            header.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, mime: &str, size: u64) -> AttachmentRef {
        AttachmentRef {
            sha256: crate::bytes::sha256_hex(name.as_bytes()),
            name: name.into(),
            mime_type: mime.into(),
            size,
            ..AttachmentRef::default()
        }
    }

    #[test]
    fn kinds_are_read_from_the_type() {
        for (mime, kind) in [
            ("image/png", WireKind::Image),
            ("image/jpeg", WireKind::Image),
            ("image/svg+xml", WireKind::Text),
            ("text/csv", WireKind::Text),
            ("text/x-rust", WireKind::Text),
            ("application/json", WireKind::Text),
            ("application/ld+json", WireKind::Text),
            ("application/pdf", WireKind::Pdf),
            ("Application/PDF", WireKind::Pdf),
            ("application/zip", WireKind::Other),
        ] {
            assert_eq!(WireKind::of(mime), kind, "{mime}");
        }
    }

    #[test]
    fn each_kind_costs_its_own_estimate() {
        // "[Attached image: a.png]" is 23 characters: 6 tokens.
        assert_eq!(
            cost(&file("a.png", "image/png", 300_000)),
            (6 + IMAGE_TOKENS, 400_000)
        );
        // "[Attached file: d.csv (text/csv, 4000 bytes)]" (45) + "\n" + 4000.
        assert_eq!(cost(&file("d.csv", "text/csv", 4_000)), (1_012, 4_000));
        assert_eq!(
            cost(&file("p.pdf", "application/pdf", 160_000)),
            (10_000, 213_336)
        );
        let other = file("x.zip", "application/zip", 9_999_999);
        assert_eq!(cost(&other).1, 0, "nothing of it is sent");
    }

    #[test]
    fn placeholders_are_filled_with_the_bytes_in_each_parts_form() {
        let image = file("a.png", "image/png", 4);
        let csv = file("d.csv", "text/csv", 6);
        let pdf = file("p.pdf", "application/pdf", 4);
        let mut slots = Vec::new();
        let attachments = [(image, true), (csv, true), (pdf, true)];
        let mut messages = vec![message("Look:", &attachments, 0, true, &mut slots)];
        assert_eq!(slots.len(), 3);
        let bytes: [&[u8]; 3] = [b"\x89PNG", "\u{feff}a,b\n1".as_bytes(), b"%PDF"];
        for (slot, bytes) in slots.iter().zip(bytes).rev() {
            fill(&mut messages, slot, Some(bytes));
        }
        assert_eq!(
            serde_json::to_value(&messages[0]).unwrap(),
            serde_json::json!({"role": "user", "content": [
                {"type": "text", "text": "Look:"},
                {"type": "text", "text": "[Attached image: a.png]"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                {"type": "text", "text": "[Attached file: d.csv (text/csv, 6 bytes)]\na,b\n1"},
                {"type": "file", "file": {"filename": "p.pdf",
                                          "file_data": "data:application/pdf;base64,JVBERg=="}}
            ]})
        );
    }

    #[test]
    fn a_missing_blob_leaves_the_name_in_place_of_the_part() {
        let image = file("a.png", "image/png", 4);
        let pdf = file("p.pdf", "application/pdf", 4);
        let mut slots = Vec::new();
        let attachments = [(image, true), (pdf, true)];
        let mut messages = vec![message("", &attachments, 0, false, &mut slots)];
        for slot in slots.iter().rev() {
            fill(&mut messages, slot, None);
        }
        assert_eq!(
            messages[0].content,
            MessageContent::Parts(vec![
                ContentPart::Text("[Attached image: a.png (left out)]".into()),
                ContentPart::Text("[Attached file: p.pdf (left out)]".into()),
            ])
        );
    }
}
