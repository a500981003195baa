//! Code split into highlighted tokens: byte ranges of the code, each with one
//! of a few fixed [`TokenKind`]s. Text between tokens stays plain.
//!
//! One table-driven scanner serves the C-like, scripting and data languages
//! (a `Syntax` per language: comment markers, quotes, word lists, a few
//! switches); diff, Markdown and HTML are line- or tag-shaped and have small
//! scanners of their own. It is a highlighter, not a parser: it never fails,
//! it only colours less when the code is unusual. Word lists are
//! space-separated strings (one data segment each in the wasm, not a table
//! of pointers).
//!
//! By topic:
//!
//! - mod.rs: the tokens and [`tokenize`], the `Syntax` a language fills in,
//!   and the byte helpers every scanner uses;
//! - languages.rs: the languages by name, each a `Syntax` table or a scanner
//!   of its own;
//! - generic.rs: the table-driven scanner (and Rust's raw strings,
//!   lifetimes and character literals);
//! - shaped.rs: the line- and tag-shaped scanners: diff, Markdown, HTML.

mod generic;
mod languages;
mod shaped;

use generic::generic;
use languages::scanner_for;
use shaped::{diff, html, markdown};

/// What a token is; the browser shell turns it into a class name from
/// [`TokenKind::class`], a fixed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Keyword,
    Type,
    /// `true`, `null`, `None`, ...: values with a name.
    Literal,
    String,
    Number,
    Comment,
    /// A name called (`f(`) or a macro (`m!`).
    Function,
    /// Preprocessor lines, attributes, decorators, lifetimes, hunk headers.
    Meta,
    /// Keys in JSON, YAML, TOML, CSS properties.
    Property,
    /// HTML tags.
    Tag,
    /// HTML attribute names.
    Attribute,
    /// Shell variables.
    Variable,
    /// Diff lines.
    Inserted,
    Deleted,
    /// Markdown headings, diff file names, TOML tables.
    Heading,
}

impl TokenKind {
    /// Every kind, in the order of its index on the wire.
    pub const ALL: [TokenKind; 15] = [
        TokenKind::Keyword,
        TokenKind::Type,
        TokenKind::Literal,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Comment,
        TokenKind::Function,
        TokenKind::Meta,
        TokenKind::Property,
        TokenKind::Tag,
        TokenKind::Attribute,
        TokenKind::Variable,
        TokenKind::Inserted,
        TokenKind::Deleted,
        TokenKind::Heading,
    ];

    /// The class the shell gives a token's element (style/main.css colours it).
    pub fn class(self) -> &'static str {
        match self {
            TokenKind::Keyword => "tok-keyword",
            TokenKind::Type => "tok-type",
            TokenKind::Literal => "tok-literal",
            TokenKind::String => "tok-string",
            TokenKind::Number => "tok-number",
            TokenKind::Comment => "tok-comment",
            TokenKind::Function => "tok-function",
            TokenKind::Meta => "tok-meta",
            TokenKind::Property => "tok-property",
            TokenKind::Tag => "tok-tag",
            TokenKind::Attribute => "tok-attribute",
            TokenKind::Variable => "tok-variable",
            TokenKind::Inserted => "tok-inserted",
            TokenKind::Deleted => "tok-deleted",
            TokenKind::Heading => "tok-heading",
        }
    }

    /// The index a token travels as (see [`TokenKind::ALL`]).
    pub fn index(self) -> u32 {
        TokenKind::ALL.iter().position(|k| *k == self).unwrap_or(0) as u32
    }

    pub fn from_index(index: u32) -> Option<TokenKind> {
        TokenKind::ALL.get(index as usize).copied()
    }
}

/// One highlighted piece of the code: `code[start..end]` (byte offsets, on
/// character boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: u32,
    pub end: u32,
    pub kind: TokenKind,
}

/// Longer code is left plain: highlighting it would cost the page more
/// than it helps.
pub const MAX_CODE_BYTES: usize = 256 * 1024;

/// The tokens of `code` in `language` (a fence's info word: `rust`, `py`,
/// `c++`, ...), in order and not overlapping. An unknown or empty language,
/// or code over [`MAX_CODE_BYTES`], gives none.
pub fn tokenize(code: &str, language: &str) -> Vec<Token> {
    let mut out = Tokens::default();
    if code.len() > MAX_CODE_BYTES {
        return out.0;
    }
    match scanner_for(language) {
        Some(Scanner::Generic(syntax)) => generic(code.as_bytes(), syntax, &mut out),
        Some(Scanner::Diff) => diff(code.as_bytes(), &mut out),
        Some(Scanner::Markdown) => markdown(code.as_bytes(), &mut out),
        Some(Scanner::Html) => html(code.as_bytes(), &mut out),
        None => {}
    }
    out.0
}

/// Whether `language` is one [`tokenize`] highlights.
pub fn is_supported(language: &str) -> bool {
    scanner_for(language).is_some()
}

#[derive(Default)]
struct Tokens(Vec<Token>);

impl Tokens {
    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        if end > start {
            self.0.push(Token {
                start: start as u32,
                end: end as u32,
                kind,
            });
        }
    }
}

enum Scanner {
    Generic(&'static Syntax),
    Diff,
    Markdown,
    Html,
}

/// How a data language marks keys.
#[derive(PartialEq, Eq)]
enum Keys {
    None,
    /// `key:` (JSON, YAML, CSS).
    BeforeColon,
    /// `key =` at the start of a line (TOML).
    BeforeEquals,
}

/// One language for the generic scanner.
struct Syntax {
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    /// String delimiters (single bytes).
    quotes: &'static [u8],
    /// `"""` and `'''` strings.
    triple_quotes: bool,
    /// Space-separated word lists.
    keywords: &'static str,
    types: &'static str,
    literals: &'static str,
    /// SQL: `SELECT` and `select` alike.
    case_insensitive: bool,
    /// A capitalised word is a type (`HashMap`, `String`).
    capitalized_types: bool,
    /// `#` at the start of a line is a preprocessor line (C, C++).
    hash_lines: bool,
    /// `@name` is a decorator or annotation.
    at_names: bool,
    /// `$name`, `${...}` (shell).
    dollar_variables: bool,
    /// `-` inside words (CSS properties, YAML keys).
    dashed_words: bool,
    /// A line comment needs whitespace before it (shell `#`, not `$#`).
    comment_after_space: bool,
    keys: Keys,
    /// `[table]` lines (TOML).
    table_lines: bool,
    /// Raw strings, lifetimes, `#[attributes]`, `macro!` (Rust).
    rust: bool,
}

fn line_end(code: &[u8], from: usize) -> usize {
    code[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(code.len(), |i| from + i)
}

/// The offset just after the first `needle` at or after `from`, or the end.
fn after(code: &[u8], from: usize, needle: &[u8]) -> usize {
    if from > code.len() {
        return code.len();
    }
    code[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map_or(code.len(), |i| from + i + needle.len())
}

/// The first byte at or after `from` that is not a space or tab.
fn skip_blanks(code: &[u8], mut from: usize) -> usize {
    while from < code.len() && matches!(code[from], b' ' | b'\t') {
        from += 1;
    }
    from
}

/// The end of a quoted string starting at `start` (the quote), escapes
/// skipped. Only backtick strings span lines.
fn string_end(code: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < code.len() {
        match code[i] {
            b'\\' => i += 2,
            b'\n' if quote != b'`' => return i,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    code.len()
}

/// The length of the UTF-8 character starting with `byte`.
fn char_len(byte: u8) -> usize {
    match byte {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests;
