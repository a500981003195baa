//! The table-driven scanner: one pass over the code's bytes, what counts as
//! a comment, string, number, key or word read from the language's
//! `Syntax`; Rust's raw strings, lifetimes and character literals besides.

use super::{Keys, Syntax, TokenKind, Tokens, after, char_len, line_end, skip_blanks, string_end};

fn has_word(list: &str, word: &[u8], case_insensitive: bool) -> bool {
    list.split(' ').any(|w| {
        if case_insensitive {
            w.as_bytes().eq_ignore_ascii_case(word)
        } else {
            w.as_bytes() == word
        }
    })
}

pub(super) fn generic(code: &[u8], syntax: &Syntax, out: &mut Tokens) {
    let is_word_byte = |b: u8| {
        b.is_ascii_alphanumeric()
            || b == b'_'
            || (b == b'$' && !syntax.dollar_variables)
            || (b == b'-' && syntax.dashed_words)
    };
    let mut i = 0;
    let mut line_start = true;
    while i < code.len() {
        let c = code[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if matches!(c, b' ' | b'\t' | b'\r') {
            i += 1;
            continue;
        }
        let first_on_line = std::mem::replace(&mut line_start, false);
        let rest = &code[i..];

        let comment_allowed =
            !syntax.comment_after_space || i == 0 || code[i - 1].is_ascii_whitespace();
        if comment_allowed
            && syntax
                .line_comments
                .iter()
                .any(|marker| rest.starts_with(marker.as_bytes()))
        {
            let end = line_end(code, i);
            out.push(TokenKind::Comment, i, end);
            i = end;
            continue;
        }
        if let Some((open, close)) = syntax.block_comment
            && rest.starts_with(open.as_bytes())
        {
            let end = after(code, i + open.len(), close.as_bytes());
            out.push(TokenKind::Comment, i, end);
            i = end;
            continue;
        }
        if (syntax.hash_lines && c == b'#' && first_on_line)
            || (syntax.table_lines && c == b'[' && first_on_line)
        {
            let end = line_end(code, i);
            let kind = if syntax.table_lines {
                TokenKind::Heading
            } else {
                TokenKind::Meta
            };
            out.push(kind, i, end);
            i = end;
            continue;
        }
        if syntax.rust {
            if rest.starts_with(b"#[") || rest.starts_with(b"#![") {
                let close = code[i..line_end(code, i)].iter().rposition(|&b| b == b']');
                let end = close.map_or(line_end(code, i), |p| i + p + 1);
                out.push(TokenKind::Meta, i, end);
                i = end;
                continue;
            }
            if let Some(end) = rust_raw_string(code, i) {
                out.push(TokenKind::String, i, end);
                i = end;
                continue;
            }
            if c == b'\'' {
                let (end, kind) = rust_quote(code, i);
                out.push(kind, i, end);
                i = end;
                continue;
            }
        }
        if syntax.quotes.contains(&c) {
            let end = if syntax.triple_quotes && rest.len() >= 3 && rest[1] == c && rest[2] == c {
                after(code, i + 3, &[c, c, c])
            } else {
                string_end(code, i, c)
            };
            let kind = if key_follows(code, end, syntax) {
                TokenKind::Property
            } else {
                TokenKind::String
            };
            out.push(kind, i, end);
            i = end;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && rest.get(1).is_some_and(u8::is_ascii_digit)) {
            let mut end = i + 1;
            while end < code.len() {
                let b = code[end];
                let exponent_sign = matches!(b, b'+' | b'-')
                    && matches!(code[end - 1], b'e' | b'E')
                    && !code[i..end].starts_with(b"0x");
                if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign {
                    end += 1;
                } else {
                    break;
                }
            }
            out.push(TokenKind::Number, i, end);
            i = end;
            continue;
        }
        if syntax.dollar_variables && c == b'$' {
            let end = match rest.get(1) {
                Some(b'{') => after(code, i + 2, b"}"),
                Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {
                    i + 1
                        + rest[1..]
                            .iter()
                            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                            .count()
                }
                Some(b) if b.is_ascii_digit() || b"?#@*!$-".contains(b) => i + 2,
                _ => i + 1,
            };
            if end > i + 1 {
                out.push(TokenKind::Variable, i, end);
            }
            i = end;
            continue;
        }
        if syntax.at_names && c == b'@' && rest.get(1).is_some_and(|b| b.is_ascii_alphabetic()) {
            let end = i
                + 1
                + rest[1..]
                    .iter()
                    .take_while(|b| is_word_byte(**b) || **b == b'.')
                    .count();
            out.push(TokenKind::Meta, i, end);
            i = end;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || (c == b'$' && !syntax.dollar_variables) {
            let end = i + rest.iter().take_while(|b| is_word_byte(**b)).count();
            let word = &code[i..end];
            let next = skip_blanks(code, end);
            let toml_key =
                first_on_line && syntax.keys == Keys::BeforeEquals && code.get(next) == Some(&b'=');
            let kind = if toml_key || key_follows(code, end, syntax) {
                Some(TokenKind::Property)
            } else if has_word(syntax.keywords, word, syntax.case_insensitive) {
                Some(TokenKind::Keyword)
            } else if has_word(syntax.types, word, syntax.case_insensitive) {
                Some(TokenKind::Type)
            } else if has_word(syntax.literals, word, syntax.case_insensitive) {
                Some(TokenKind::Literal)
            } else if syntax.rust
                && code.get(end) == Some(&b'!')
                && code.get(end + 1) != Some(&b'=')
            {
                // A macro: its `!` belongs to the name.
                out.push(TokenKind::Function, i, end + 1);
                i = end + 1;
                continue;
            } else if code.get(next) == Some(&b'(') && syntax.keys == Keys::None {
                Some(TokenKind::Function)
            } else if syntax.capitalized_types && word[0].is_ascii_uppercase() {
                Some(TokenKind::Type)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(kind, i, end);
            }
            i = end;
            continue;
        }
        i += char_len(c);
    }
}

/// Whether the token ending at `end` is a key: a `:` follows (not `::`),
/// and for YAML-like keys, then a space or the line's end.
fn key_follows(code: &[u8], end: usize, syntax: &Syntax) -> bool {
    if syntax.keys != Keys::BeforeColon {
        return false;
    }
    let next = skip_blanks(code, end);
    code.get(next) == Some(&b':')
        && code.get(next + 1) != Some(&b':')
        && (!syntax.dashed_words
            || syntax.block_comment.is_some()
            || code.get(next + 1).is_none_or(|b| b.is_ascii_whitespace()))
}

/// `r"..."`, `r#"..."#`, `br"..."` starting at `start`: its end.
fn rust_raw_string(code: &[u8], start: usize) -> Option<usize> {
    if start > 0 && (code[start - 1].is_ascii_alphanumeric() || code[start - 1] == b'_') {
        return None;
    }
    let mut i = start;
    if code.get(i) == Some(&b'b') {
        i += 1;
    }
    if code.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = code[i..].iter().take_while(|b| **b == b'#').count();
    i += hashes;
    if code.get(i) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    Some(after(code, i + 1, &close))
}

/// A Rust `'`: a character literal (`'a'`, `'\n'`) or a lifetime (`'a`).
fn rust_quote(code: &[u8], start: usize) -> (usize, TokenKind) {
    let next = start + 1;
    match code.get(next) {
        Some(b'\\') => {
            let end = code[next + 1..]
                .iter()
                .position(|b| *b == b'\'' || *b == b'\n')
                .map_or(code.len(), |p| next + 1 + p + 1);
            (end.min(code.len()), TokenKind::String)
        }
        Some(&b) => {
            let after_char = next + char_len(b);
            if code.get(after_char) == Some(&b'\'') {
                (after_char + 1, TokenKind::String)
            } else {
                let name = code[next..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                (next + name, TokenKind::Meta)
            }
        }
        None => (next, TokenKind::Meta),
    }
}
