//! The scanners for languages shaped by lines or tags rather than by
//! tokens: diff (a kind per line), Markdown (block markers per line, then
//! inline code, emphasis and link targets) and HTML (tags, attributes,
//! comments, entities).

use super::{TokenKind, Tokens, after, char_len, line_end, skip_blanks};

pub(super) fn diff(code: &[u8], out: &mut Tokens) {
    let mut i = 0;
    while i < code.len() {
        let end = line_end(code, i);
        let line = &code[i..end];
        let kind = if line.starts_with(b"+++")
            || line.starts_with(b"---")
            || line.starts_with(b"diff ")
            || line.starts_with(b"index ")
        {
            Some(TokenKind::Heading)
        } else if line.starts_with(b"@@") {
            Some(TokenKind::Meta)
        } else if line.starts_with(b"+") || line.starts_with(b">") {
            Some(TokenKind::Inserted)
        } else if line.starts_with(b"-") || line.starts_with(b"<") {
            Some(TokenKind::Deleted)
        } else {
            None
        };
        if let Some(kind) = kind {
            out.push(kind, i, end);
        }
        i = end + 1;
    }
}

pub(super) fn markdown(code: &[u8], out: &mut Tokens) {
    let mut i = 0;
    let mut in_fence = false;
    while i < code.len() {
        let end = line_end(code, i);
        let start = skip_blanks(code, i).min(end);
        let line = &code[start..end];
        if line.starts_with(b"```") || line.starts_with(b"~~~") {
            in_fence = !in_fence;
            out.push(TokenKind::Meta, start, end);
        } else if in_fence {
            out.push(TokenKind::String, i, end);
        } else if line.starts_with(b"#") {
            out.push(TokenKind::Heading, start, end);
        } else if line.starts_with(b">") {
            out.push(TokenKind::Comment, start, end);
        } else {
            let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
            let marker = if line.len() > 1 && b"-*+".contains(&line[0]) && line[1] == b' ' {
                1
            } else if digits > 0 && matches!(line.get(digits), Some(b'.' | b')')) {
                digits + 1
            } else {
                0
            };
            out.push(TokenKind::Keyword, start, start + marker);
            markdown_inline(code, start + marker, end, out);
        }
        i = end + 1;
    }
}

/// Inline code, emphasis markers and link targets in one Markdown line.
fn markdown_inline(code: &[u8], mut i: usize, end: usize, out: &mut Tokens) {
    while i < end {
        match code[i] {
            b'`' => {
                let close = code[i + 1..end]
                    .iter()
                    .position(|b| *b == b'`')
                    .map_or(end, |p| i + 1 + p + 1);
                out.push(TokenKind::String, i, close);
                i = close;
            }
            b'*' | b'_' if code.get(i + 1) == Some(&code[i]) => {
                out.push(TokenKind::Keyword, i, i + 2);
                i += 2;
            }
            b']' if code.get(i + 1) == Some(&b'(') => {
                let close = code[i + 2..end]
                    .iter()
                    .position(|b| *b == b')')
                    .map_or(end, |p| i + 2 + p + 1);
                out.push(TokenKind::String, i + 1, close);
                i = close;
            }
            b => i += char_len(b),
        }
    }
}

pub(super) fn html(code: &[u8], out: &mut Tokens) {
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        if rest.starts_with(b"<!--") {
            let end = after(code, i + 4, b"-->");
            out.push(TokenKind::Comment, i, end);
            i = end;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            let end = after(code, i, b">");
            out.push(TokenKind::Meta, i, end);
            i = end;
        } else if rest.len() > 1
            && rest[0] == b'<'
            && (rest[1].is_ascii_alphabetic() || rest[1] == b'/')
        {
            i = html_tag(code, i, out);
        } else if rest[0] == b'&' {
            let name = rest[1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'#')
                .count();
            if name > 0 && rest.get(1 + name) == Some(&b';') {
                out.push(TokenKind::Literal, i, i + name + 2);
                i += name + 2;
            } else {
                i += 1;
            }
        } else {
            i += char_len(rest[0]);
        }
    }
}

/// One tag from its `<`: name, attributes, values; returns its end.
fn html_tag(code: &[u8], start: usize, out: &mut Tokens) -> usize {
    let name_end = start
        + 1
        + code[start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b':'))
            .count();
    out.push(TokenKind::Tag, start, name_end);
    let mut i = name_end;
    while i < code.len() {
        match code[i] {
            b'>' => {
                out.push(TokenKind::Tag, i, i + 1);
                return i + 1;
            }
            b'/' if code.get(i + 1) == Some(&b'>') => {
                out.push(TokenKind::Tag, i, i + 2);
                return i + 2;
            }
            b'<' => return i,
            q @ (b'"' | b'\'') => {
                let end = after(code, i + 1, &[q]);
                out.push(TokenKind::String, i, end);
                i = end;
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b == b'@' || b == b':' => {
                let end = i + code[i..]
                    .iter()
                    .take_while(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'@' | b'.')
                    })
                    .count();
                out.push(TokenKind::Attribute, i, end);
                i = end;
            }
            b => i += char_len(b),
        }
    }
    code.len()
}
