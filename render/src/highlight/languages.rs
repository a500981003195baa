//! The languages by name (a fence's info word) and their tables for the
//! generic scanner: comment markers, quotes, space-separated word lists and
//! switches, each language a few fields over `BASE`.

use super::{Keys, Scanner, Syntax};

pub(super) fn scanner_for(language: &str) -> Option<Scanner> {
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
