//! Searching conversations: case-insensitive matching over titles and
//! message text, with a short snippet around the first hit so the sidebar
//! can show why a conversation matched.

/// Characters of context shown on each side of a hit.
pub const SNIPPET_CONTEXT: usize = 32;

/// Longest query considered; longer input is cut (a pasted page would
/// otherwise be compared against every message).
pub const MAX_QUERY_CHARS: usize = 200;

/// A conversation to search: its title and the text of each message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Searchable {
    pub id: String,
    pub title: String,
    pub texts: Vec<String>,
}

/// Where a conversation matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Title,
    /// The message at this position.
    Message(usize),
}

/// Text around a hit: `before`, the matched text as written, `after`.
/// `before`/`after` start/end with "…" when cut.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Snippet {
    pub before: String,
    pub hit: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub id: String,
    pub field: Field,
    pub snippet: Snippet,
}

/// A query as typed, prepared once: trimmed, folded, cut to a sane length.
/// Returns `None` for a blank query (nothing to search for).
pub fn prepare(query: &str) -> Option<Vec<char>> {
    let folded: Vec<char> = fold(query.trim())
        .into_iter()
        .map(|(c, _)| c)
        .take(MAX_QUERY_CHARS)
        .collect();
    (!folded.is_empty()).then_some(folded)
}

/// Every conversation that matches `query`, in the order given (the
/// sidebar's order), each with the first field that matched: the title
/// first, then messages in order.
pub fn search(query: &str, conversations: &[Searchable]) -> Vec<SearchHit> {
    let Some(needle) = prepare(query) else {
        return Vec::new();
    };
    conversations
        .iter()
        .filter_map(|c| search_one(&needle, &c.id, &c.title, &c.texts))
        .collect()
}

/// The first field of one conversation that matches `needle` (from
/// [`prepare`]): its title, then its messages in order. What [`search`]
/// does for each; a caller that spreads a long search over several tasks
/// asks one conversation at a time, without copying its texts.
pub fn search_one(needle: &[char], id: &str, title: &str, texts: &[String]) -> Option<SearchHit> {
    let fields = std::iter::once((Field::Title, title)).chain(
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| (Field::Message(i), t.as_str())),
    );
    fields.into_iter().find_map(|(field, text)| {
        find(needle, text).map(|snippet| SearchHit {
            id: id.to_owned(),
            field,
            snippet,
        })
    })
}

/// `text` lowercased char by char, runs of whitespace as one space, each
/// folded char paired with the index (in chars) of the character it came
/// from. Lowercasing can turn one char into several ("İ" → "i̇"), so
/// positions must be mapped back this way rather than assumed equal.
fn fold(text: &str) -> Vec<(char, usize)> {
    let mut out = Vec::with_capacity(text.len());
    let mut blank = false;
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            if !blank {
                out.push((' ', i));
            }
            blank = true;
        } else {
            out.extend(c.to_lowercase().map(|l| (l, i)));
            blank = false;
        }
    }
    out
}

/// The first case-insensitive occurrence of `needle` (already folded) in
/// `text`, as a snippet; `None` if there is none.
pub fn find(needle: &[char], text: &str) -> Option<Snippet> {
    if needle.is_empty() {
        return None;
    }
    let folded = fold(text);
    let start = folded
        .windows(needle.len())
        .position(|w| w.iter().map(|(c, _)| c).eq(needle.iter()))?;
    let first = folded[start].1;
    let last = folded[start + needle.len() - 1].1;
    let chars: Vec<char> = text.chars().collect();
    Some(snippet(&chars, first, last + 1))
}

/// The characters `[from, to)` of `chars` with some context each side,
/// whitespace runs (newlines included) shown as one space.
fn snippet(chars: &[char], from: usize, to: usize) -> Snippet {
    let begin = from.saturating_sub(SNIPPET_CONTEXT);
    let end = (to + SNIPPET_CONTEXT).min(chars.len());
    let mut before = squash(&chars[begin..from]);
    if begin > 0 {
        before = format!("…{}", before.trim_start());
    } else {
        before = before.trim_start().to_owned();
    }
    let mut after = squash(&chars[to..end]);
    if end < chars.len() {
        after = format!("{}…", after.trim_end());
    } else {
        after = after.trim_end().to_owned();
    }
    Snippet {
        before,
        hit: squash(&chars[from..to]),
        after,
    }
}

/// Runs of whitespace as single spaces (a snippet is one line).
fn squash(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut blank = false;
    for &c in chars {
        if c.is_whitespace() {
            if !blank {
                out.push(' ');
            }
            blank = true;
        } else {
            out.push(c);
            blank = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: &str, title: &str, texts: &[&str]) -> Searchable {
        Searchable {
            id: id.into(),
            title: title.into(),
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn matches_ignore_case_in_titles_and_messages() {
        let list = [
            conv("a", "Trip to Paris", &["where to eat?"]),
            conv("b", "Recipes", &["A good RATATOUILLE needs time"]),
            conv("c", "Taxes", &["nothing here"]),
        ];
        let hits = search("paris", &list);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "a");
        assert_eq!(hits[0].field, Field::Title);
        let hits = search("ratatouille", &list);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].field, Field::Message(0));
        assert_eq!(hits[0].snippet.hit, "RATATOUILLE", "shown as written");
        assert!(search("zebra", &list).is_empty());
    }

    #[test]
    fn the_title_wins_over_a_message_and_the_list_order_is_kept() {
        let list = [
            conv("x", "notes", &["more notes"]),
            conv("y", "other", &["", "notes again"]),
        ];
        let hits = search("NOTES", &list);
        let got: Vec<_> = hits.iter().map(|h| (h.id.as_str(), h.field)).collect();
        assert_eq!(got, [("x", Field::Title), ("y", Field::Message(1))]);
    }

    #[test]
    fn a_blank_query_finds_nothing() {
        let list = [conv("a", "anything", &["at all"])];
        assert!(search("", &list).is_empty());
        assert!(search("   \n", &list).is_empty());
        assert_eq!(prepare("  Hi "), Some(vec!['h', 'i']));
    }

    #[test]
    fn snippets_cut_long_text_around_the_hit_on_one_line() {
        let long = format!(
            "{}needle\n\nin the   hay{}",
            "a".repeat(100),
            "b".repeat(100)
        );
        // Whitespace runs compare as one space: a query typed on one line
        // finds text that wraps across lines.
        let hit = &search("needle in  the", &[conv("a", "t", &[&long])])[0];
        assert_eq!(hit.snippet.hit, "needle in the");
        let hit = &search("needle", &[conv("a", "t", &[&long])])[0];
        assert!(hit.snippet.before.starts_with('…'));
        assert_eq!(hit.snippet.before.chars().count(), SNIPPET_CONTEXT + 1);
        assert_eq!(hit.snippet.hit, "needle");
        assert!(
            hit.snippet.after.starts_with(" in the hay"),
            "{:?}",
            hit.snippet.after
        );
        assert!(hit.snippet.after.ends_with('…'));
        assert!(!hit.snippet.after.contains('\n'));
    }

    #[test]
    fn short_text_is_shown_whole_without_ellipses() {
        let hit = &search("b", &[conv("a", "t", &["a b c"])])[0];
        assert_eq!(
            hit.snippet,
            Snippet {
                before: "a ".into(),
                hit: "b".into(),
                after: " c".into()
            }
        );
    }

    #[test]
    fn characters_whose_lowercase_is_longer_map_back_to_the_original() {
        // "İ" lowercases to two chars ("i" + combining dot): the hit after
        // it must still be cut at the right place in the original text.
        let hit = &search("straße", &[conv("a", "t", &["İİ STRASSE Straße end"])])[0];
        assert_eq!(hit.snippet.hit, "Straße");
        assert_eq!(hit.snippet.before, "İİ STRASSE ");
        assert_eq!(hit.snippet.after, " end");
        let hit = &search("ÉTÉ", &[conv("a", "t", &["un été chaud"])])[0];
        assert_eq!(hit.snippet.hit, "été");
    }

    #[test]
    fn very_long_queries_are_cut() {
        let query = "x".repeat(MAX_QUERY_CHARS * 2);
        assert_eq!(prepare(&query).map(|q| q.len()), Some(MAX_QUERY_CHARS));
    }
}
