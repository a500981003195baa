//! A conversation's automatic title, derived from its events (the sidebar
//! shows it until the user gives one).

use super::model::Event;

/// Longest automatic title, in characters.
const TITLE_CHARS: usize = 60;

/// A conversation's title: the first line of its first user message, or
/// the name of its first attachment when it has no text.
pub fn title_of(events: &[Event]) -> Option<String> {
    let first = events.iter().find(|e| e.is_from_user())?;
    let mut text = first.text_content();
    if text.trim().is_empty() {
        text = first.attachments().into_iter().next()?.name;
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= TITLE_CHARS {
        return Some(line.to_owned());
    }
    let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(author: &str, text: &str) -> Event {
        Event::text(author, "i", 1.0, text)
    }

    #[test]
    fn titles_come_from_the_first_user_line() {
        let events = [
            event("model", "greeting"),
            event("user", "\n  Plan a trip to Paris  \nin March"),
            event("user", "later"),
        ];
        assert_eq!(title_of(&events).as_deref(), Some("Plan a trip to Paris"));
        assert_eq!(title_of(&[]), None);
        let long = event("user", &"word ".repeat(40));
        let title = title_of(&[long]).unwrap();
        assert!(title.chars().count() <= TITLE_CHARS && title.ends_with('…'));
    }

    #[test]
    fn a_message_of_attachments_alone_is_titled_by_the_first() {
        let mut only_files = event("user", "");
        let parts = &mut only_files.content.as_mut().unwrap().parts;
        parts.clear();
        parts.push(crate::session::model::Part::attachment(
            &crate::session::AttachmentRef {
                sha256: "a".repeat(64),
                name: "sales.csv".into(),
                mime_type: "text/csv".into(),
                size: 10,
                ..Default::default()
            },
        ));
        assert_eq!(title_of(&[only_files]).as_deref(), Some("sales.csv"));
    }
}
