//! ChatGPT's data export (`conversations.json`): an array of conversations,
//! each a tree of message nodes (`mapping`) whose current branch ends at
//! `current_node`. The current branch's user and assistant text messages
//! become a Confab session; ids are kept, so importing again merges.

use serde_json::Value;

use super::{ExportFile, ExportedConversation, FORMAT, ImportError, VERSION};
use crate::session::{Content, Event, Part, Session, State};

/// Whether `value` is shaped like ChatGPT's export.
pub fn looks_like(value: &Value) -> bool {
    value.as_array().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|c| c.get("mapping").is_some_and(Value::is_object))
    })
}

fn text_of(message: &Value) -> String {
    let content = &message["content"];
    if let Some(parts) = content.get("parts").and_then(Value::as_array) {
        return parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n");
    }
    content
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The messages on the branch that ends at `current_node`, oldest first.
fn branch(conversation: &Value) -> Vec<&Value> {
    let mapping = &conversation["mapping"];
    let mut node_id = conversation
        .get("current_node")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut nodes = Vec::new();
    // A tree has no cycles, but a damaged file might: bound the walk.
    let mut steps = 0;
    while let Some(id) = node_id.take() {
        let Some(node) = mapping.get(&id) else { break };
        if let Some(message) = node.get("message").filter(|m| m.is_object()) {
            nodes.push(message);
        }
        node_id = node
            .get("parent")
            .and_then(Value::as_str)
            .map(str::to_owned);
        steps += 1;
        if steps > 100_000 {
            break;
        }
    }
    nodes.reverse();
    nodes
}

fn conversation(value: &Value, now: f64) -> Result<Option<ExportedConversation>, ImportError> {
    let id = value
        .get("conversation_id")
        .or_else(|| value.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ImportError::Invalid("a ChatGPT conversation has no id".into()))?;
    let created = value
        .get("create_time")
        .and_then(Value::as_f64)
        .unwrap_or(now);
    let mut events = Vec::new();
    let mut last = created;
    for message in branch(value) {
        let role = message["author"]["role"].as_str().unwrap_or_default();
        if role != "user" && role != "assistant" {
            continue; // system prompts and tool calls are not conversation turns
        }
        let text = text_of(message);
        if text.trim().is_empty() {
            continue;
        }
        let at = message
            .get("create_time")
            .and_then(Value::as_f64)
            .unwrap_or(last)
            .max(last);
        last = at;
        let author = if role == "user" {
            "user".to_owned()
        } else {
            message["metadata"]["model_slug"]
                .as_str()
                .unwrap_or("chatgpt")
                .to_owned()
        };
        events.push(Event {
            id: message["id"]
                .as_str()
                .map_or_else(crate::session::new_id, str::to_owned),
            content: Some(Content {
                role: if role == "user" { "user" } else { "model" }.into(),
                parts: vec![Part::text(&text)],
            }),
            ..Event::text(&author, id, at, "")
        });
    }
    if events.is_empty() {
        return Ok(None);
    }
    let mut state = State::new();
    if let Some(title) = value.get("title").and_then(Value::as_str) {
        state.insert(
            crate::session::IMPORTED_TITLE.into(),
            Value::String(title.to_owned()),
        );
    }
    state.insert("imported_from".into(), Value::String("chatgpt".into()));
    Ok(Some(ExportedConversation {
        session: Session {
            id: id.to_owned(),
            app_name: String::new(),
            user_id: String::new(),
            state,
            last_update_time: last,
            events,
        },
        conversation: None,
    }))
}

/// ChatGPT's conversations as a Confab export file.
pub fn convert(value: &Value, now: f64) -> Result<ExportFile, ImportError> {
    let mut conversations = Vec::new();
    for item in value.as_array().into_iter().flatten() {
        if let Some(converted) = conversation(item, now)? {
            conversations.push(converted);
        }
    }
    Ok(ExportFile {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: now,
        app_name: String::new(),
        user_id: String::new(),
        conversations,
        attachments: Default::default(),
    })
}
