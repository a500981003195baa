//! One conversation as Markdown, for reading and sharing. (Lossy: the JSON
//! export is the backup.)

use crate::manager::Conversation;
use crate::recency;
use crate::session::{MessageStatus, Session, title_of};
use crate::transport::thought_label;
use crate::units;

fn date(seconds: f64) -> String {
    let (year, month, day) = recency::civil_from_days((seconds / 86_400.0).floor() as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

pub fn conversation_markdown(session: &Session, conversation: Option<&Conversation>) -> String {
    let title = title_of(&session.events).unwrap_or_else(|| "New chat".into());
    let mut out = format!("# {title}\n\n");
    if let Some(first) = session.events.first() {
        out.push_str(&format!("*{}*", date(first.timestamp)));
        if let Some(c) = conversation {
            out.push_str(&format!(" · `{}`", c.conversation_id));
        }
        out.push_str("\n\n");
    }
    for event in &session.events {
        let who = if event.is_from_user() {
            "You"
        } else {
            &event.author
        };
        out.push_str(&format!("**{who}:**\n\n"));
        let reasoning = event.reasoning_text();
        if !reasoning.trim().is_empty() {
            // Collapsed, as on screen. A `</details>` of the model's own
            // would end the section early: it is written as text.
            let label = thought_label(event.reasoning.as_ref().and_then(|r| r.millis));
            out.push_str(&format!(
                "<details>\n<summary>{label}</summary>\n\n{}\n\n</details>\n\n",
                reasoning.trim().replace("</details", "&lt;/details")
            ));
        }
        out.push_str(&format!("{}\n\n", event.text_content().trim_end()));
        for attachment in event.attachments() {
            out.push_str(&format!(
                "Attachment: {} ({}, {})\n\n",
                attachment.name,
                attachment.mime_type,
                units::bytes(attachment.size as f64)
            ));
        }
        let note = match event.status {
            MessageStatus::Stopped => Some("stopped"),
            MessageStatus::Interrupted => Some("interrupted"),
            MessageStatus::Error => Some("error"),
            _ => None,
        };
        if let Some(note) = note {
            let detail = event.error_text().unwrap_or_default();
            out.push_str(&format!("> *({note}) {detail}*\n\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Event;

    #[test]
    fn a_conversation_reads_as_markdown() {
        let mut failed = Event::text("gpt", "i", 1_764_000_002.0, "");
        failed.status = MessageStatus::Error;
        failed.error_message = Some("HTTP 500".into());
        let session = Session {
            id: "s".into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            state: Default::default(),
            events: vec![
                Event::text("user", "i", 1_764_000_000.0, "Plan a trip"),
                Event::text("gpt", "i", 1_764_000_001.0, "Sure:\n\n- Paris\n"),
                failed,
            ],
            last_update_time: 1_764_000_002.0,
        };
        let md = conversation_markdown(&session, None);
        assert!(md.starts_with("# Plan a trip\n\n*2025-11-24*\n\n"), "{md}");
        assert!(md.contains("**You:**\n\nPlan a trip\n\n"));
        assert!(md.contains("**gpt:**\n\nSure:\n\n- Paris\n\n"));
        assert!(md.contains("> *(error) HTTP 500*"));
    }

    #[test]
    fn reasoning_is_a_collapsed_section_above_the_answer() {
        let mut reply = Event::text("r1", "i", 1_764_000_001.0, "It is 4.");
        reply.reasoning = Some(crate::session::Reasoning {
            text: "Two and two.\n</details><script>x</script>".into(),
            millis: Some(2100),
            ..Default::default()
        });
        let session = Session {
            id: "s".into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            state: Default::default(),
            events: vec![Event::text("user", "i", 1_764_000_000.0, "2+2?"), reply],
            last_update_time: 1_764_000_001.0,
        };
        let md = conversation_markdown(&session, None);
        assert!(
            md.contains("**r1:**\n\n<details>\n<summary>Thought for 3 s</summary>\n\nTwo and two.\n&lt;/details><script>x</script>\n\n</details>\n\nIt is 4.\n\n"),
            "{md}"
        );
        assert_eq!(md.matches("</details>").count(), 1);
    }

    #[test]
    fn attachments_are_listed_under_their_message() {
        let mut message = Event::text("user", "i", 1_764_000_000.0, "Mean?");
        message
            .content
            .as_mut()
            .unwrap()
            .parts
            .push(crate::session::Part::attachment(
                &crate::session::AttachmentRef {
                    sha256: "a".repeat(64),
                    name: "sales.csv".into(),
                    mime_type: "text/csv".into(),
                    size: 2048,
                    ..Default::default()
                },
            ));
        let session = Session {
            id: "s".into(),
            app_name: "confab".into(),
            user_id: "u".into(),
            state: Default::default(),
            events: vec![message],
            last_update_time: 1_764_000_000.0,
        };
        let md = conversation_markdown(&session, None);
        assert!(
            md.contains("**You:**\n\nMean?\n\nAttachment: sales.csv (text/csv, 2.0 KB)\n\n"),
            "{md}"
        );
    }

    #[test]
    fn dates_are_civil_dates() {
        assert_eq!(date(0.0), "1970-01-01");
        assert_eq!(date(951_782_400.0), "2000-02-29");
        assert_eq!(date(1_796_083_200.0), "2026-12-01");
    }
}
