//! The export file's text: indented as `serde_json::to_string_pretty` does,
//! but from compact JSON, so the exported types need no second (pretty)
//! serializer instantiated in the browser app.

use serde::Serialize;

/// `value` as JSON indented by two spaces, exactly as
/// `serde_json::to_string_pretty` writes it.
pub fn to_pretty_json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value).map(|compact| indent(&compact))
}

/// Re-indents JSON that has no whitespace outside strings (serde_json's
/// compact output).
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_text_as_serde_json_pretty() {
        let value = json!({
            "format": "confab",
            "empty_list": [],
            "empty_map": {},
            "nested": [{"a": 1, "b": [true, null, 2.5]}, [], [[]], {"c": {}}],
            "tricky": "quotes \" commas, colons: braces {}[] and \\ backslashes \\\"",
            "unicode": "é ✓ \u{1}",
        });
        assert_eq!(
            to_pretty_json(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(to_pretty_json(&json!([])).unwrap(), "[]");
        assert_eq!(to_pretty_json(&json!("a,b")).unwrap(), "\"a,b\"");
    }
}
