//! Code split into highlighted tokens: byte ranges of the code, each with one
//! of a few fixed [`TokenKind`]s. Text between tokens stays plain.
//!
//! One table-driven scanner serves the C-like, scripting and data languages
//! (a [`Syntax`] per language: comment markers, quotes, word lists, a few
//! switches); diff, Markdown and HTML are line- or tag-shaped and have small
//! scanners of their own. It is a highlighter, not a parser: it never fails,
//! it only colours less when the code is unusual. Word lists are
//! space-separated strings (one data segment each in the wasm, not a table
//! of pointers).

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

fn scanner_for(language: &str) -> Option<Scanner> {
    let language = language.to_ascii_lowercase();
    let syntax = match language.as_str() {
        "rust" | "rs" => &RUST,
        "python" | "py" | "python3" | "py3" => &PYTHON,
        "javascript" | "js" | "jsx" | "mjs" | "cjs" | "node" => &JAVASCRIPT,
        "typescript" | "ts" | "tsx" | "mts" => &TYPESCRIPT,
        "json" | "jsonc" | "json5" | "jsonl" => &JSON,
        "bash" | "sh" | "shell" | "zsh" | "console" | "shellsession" => &SHELL,
        "sql" | "postgresql" | "postgres" | "mysql" | "sqlite" => &SQL,
        "css" | "scss" | "less" => &CSS,
        "go" | "golang" => &GO,
        "java" => &JAVA,
        "c" | "h" => &C,
        "cpp" | "c++" | "cxx" | "cc" | "hpp" | "hxx" => &CPP,
        "yaml" | "yml" => &YAML,
        "toml" => &TOML,
        "diff" | "patch" => return Some(Scanner::Diff),
        "markdown" | "md" => return Some(Scanner::Markdown),
        "html" | "xml" | "xhtml" | "svg" | "htm" => return Some(Scanner::Html),
        _ => return None,
    };
    Some(Scanner::Generic(syntax))
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

const BASE: Syntax = Syntax {
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: b"\"'",
    triple_quotes: false,
    keywords: "",
    types: "",
    literals: "true false null",
    case_insensitive: false,
    capitalized_types: false,
    hash_lines: false,
    at_names: false,
    dollar_variables: false,
    dashed_words: false,
    comment_after_space: false,
    keys: Keys::None,
    table_lines: false,
    rust: false,
};

static RUST: Syntax = Syntax {
    quotes: b"\"",
    keywords: "as async await break const continue crate dyn else enum extern fn for if impl in let loop match mod move mut pub ref return self static struct super trait type unsafe use where while yield",
    types: "i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str",
    literals: "true false None Some Ok Err",
    capitalized_types: true,
    rust: true,
    ..BASE
};

static PYTHON: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    triple_quotes: true,
    keywords: "and as assert async await break class continue def del elif else except finally for from global if import in is lambda match case nonlocal not or pass raise return try while with yield",
    types: "int float str bool bytes list dict set tuple object type",
    literals: "True False None self cls",
    capitalized_types: true,
    at_names: true,
    ..BASE
};

const JS_KEYWORDS: &str = "async await break case catch class const continue debugger default delete do else export extends finally for from function if import in instanceof let new of return static super switch this throw try typeof var void while with yield";

static JAVASCRIPT: Syntax = Syntax {
    quotes: b"\"'`",
    keywords: JS_KEYWORDS,
    types: "",
    literals: "true false null undefined NaN Infinity",
    capitalized_types: true,
    ..BASE
};

static TYPESCRIPT: Syntax = Syntax {
    quotes: b"\"'`",
    keywords: "abstract as async await break case catch class const continue debugger declare default delete do else enum export extends finally for from function if implements import in instanceof interface is keyof let namespace new of private protected public readonly return satisfies static super switch this throw try type typeof var while with yield",
    types: "string number boolean any unknown never void object bigint symbol",
    literals: "true false null undefined NaN Infinity",
    capitalized_types: true,
    at_names: true,
    ..BASE
};

static JSON: Syntax = Syntax {
    quotes: b"\"",
    keys: Keys::BeforeColon,
    ..BASE
};

static SHELL: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    keywords: "if then else elif fi for while until do done case esac in function select return local export declare readonly unset shift break continue exit source alias sudo",
    types: "",
    literals: "true false",
    dollar_variables: true,
    comment_after_space: true,
    ..BASE
};

static SQL: Syntax = Syntax {
    line_comments: &["--"],
    keywords: "select from where and or not insert into values update set delete create table view index drop alter add column primary key foreign references join inner left right outer full cross on as group by order having limit offset union all distinct case when then else end exists in is like between with returning begin commit rollback transaction if unique default check constraint asc desc",
    types: "int integer bigint smallint text varchar char boolean bool date time timestamp timestamptz numeric decimal real float double serial uuid json jsonb blob",
    literals: "true false null",
    case_insensitive: true,
    ..BASE
};

static CSS: Syntax = Syntax {
    line_comments: &[],
    keywords: "important",
    literals: "inherit initial unset none auto",
    at_names: true,
    dashed_words: true,
    keys: Keys::BeforeColon,
    ..BASE
};

static GO: Syntax = Syntax {
    quotes: b"\"'`",
    keywords: "break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var",
    types: "bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string uint uint8 uint16 uint32 uint64 uintptr any",
    literals: "true false nil iota",
    ..BASE
};

static JAVA: Syntax = Syntax {
    keywords: "abstract assert break case catch class continue default do else enum extends final finally for if implements import instanceof interface native new package private protected public return static super switch synchronized this throw throws transient try var volatile while yield record sealed permits",
    types: "boolean byte char double float int long short void",
    literals: "true false null",
    capitalized_types: true,
    at_names: true,
    ..BASE
};

const C_KEYWORDS: &str = "auto break case const continue default do else enum extern for goto if inline register restrict return sizeof static struct switch typedef union volatile while";
const C_TYPES: &str = "char double float int long short signed unsigned void bool size_t int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t FILE";

static C: Syntax = Syntax {
    keywords: C_KEYWORDS,
    types: C_TYPES,
    literals: "true false NULL",
    hash_lines: true,
    ..BASE
};

static CPP: Syntax = Syntax {
    keywords: "auto break case catch class const constexpr consteval const_cast continue co_await co_return co_yield decltype default delete do dynamic_cast else enum explicit export extern for friend goto if inline mutable namespace new noexcept operator private protected public register reinterpret_cast return sizeof static static_cast struct switch template this throw try typedef typename union using virtual volatile while",
    types: "bool char char8_t char16_t char32_t double float int long short signed unsigned void wchar_t size_t string vector map std",
    literals: "true false nullptr NULL",
    hash_lines: true,
    ..BASE
};

static YAML: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    literals: "true false null yes no on off True False Null",
    dashed_words: true,
    comment_after_space: true,
    keys: Keys::BeforeColon,
    ..BASE
};

static TOML: Syntax = Syntax {
    line_comments: &["#"],
    block_comment: None,
    triple_quotes: true,
    literals: "true false inf nan",
    dashed_words: true,
    keys: Keys::BeforeEquals,
    table_lines: true,
    ..BASE
};

fn has_word(list: &str, word: &[u8], case_insensitive: bool) -> bool {
    list.split(' ').any(|w| {
        if case_insensitive {
            w.as_bytes().eq_ignore_ascii_case(word)
        } else {
            w.as_bytes() == word
        }
    })
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

fn generic(code: &[u8], syntax: &Syntax, out: &mut Tokens) {
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

fn diff(code: &[u8], out: &mut Tokens) {
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

fn markdown(code: &[u8], out: &mut Tokens) {
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

fn html(code: &[u8], out: &mut Tokens) {
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

#[cfg(test)]
mod tests;
