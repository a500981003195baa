use super::*;

/// The tokens of `code` as (text, kind) pairs.
fn tokens<'a>(code: &'a str, language: &str) -> Vec<(&'a str, TokenKind)> {
    tokenize(code, language)
        .into_iter()
        .map(|t| (&code[t.start as usize..t.end as usize], t.kind))
        .collect()
}

/// Asserts each (text, kind) is among the tokens of `code`, and that the
/// tokens are in order, not overlapping, on character boundaries.
fn assert_has(code: &str, language: &str, expected: &[(&str, TokenKind)]) {
    let found = tokens(code, language);
    for pair in expected {
        assert!(
            found.contains(pair),
            "{language}: {pair:?} not in {found:?}"
        );
    }
    let mut last = 0;
    for token in tokenize(code, language) {
        assert!(
            token.start >= last && token.end > token.start,
            "{language}: overlapping {token:?}"
        );
        assert!(
            code.is_char_boundary(token.start as usize)
                && code.is_char_boundary(token.end as usize)
        );
        last = token.end;
    }
}

use TokenKind::*;

#[test]
fn rust() {
    let code = "#[derive(Debug)]\nfn main<'a>(x: &'a str) -> Vec<u8> {\n    let c = '\\n'; // done\n    println!(\"{x}\");\n    let r = r#\"raw \"q\"\"#;\n    Some(42_u32)\n}";
    assert_has(
        code,
        "rust",
        &[
            ("#[derive(Debug)]", Meta),
            ("fn", Keyword),
            ("'a", Meta),
            ("str", Type),
            ("Vec", Type),
            ("u8", Type),
            ("'\\n'", String),
            ("// done", Comment),
            ("println!", Function),
            ("\"{x}\"", String),
            ("r#\"raw \"q\"\"#", String),
            ("Some", Literal),
            ("42_u32", Number),
        ],
    );
}

#[test]
fn python() {
    let code = "@dataclass\nclass Point:\n    def norm(self) -> float:\n        \"\"\"Length.\"\"\"\n        return math.sqrt(self.x ** 2)  # ok\nprint(None, 1.5e-3)";
    assert_has(
        code,
        "py",
        &[
            ("@dataclass", Meta),
            ("class", Keyword),
            ("Point", Type),
            ("def", Keyword),
            ("float", Type),
            ("\"\"\"Length.\"\"\"", String),
            ("sqrt", Function),
            ("# ok", Comment),
            ("None", Literal),
            ("1.5e-3", Number),
        ],
    );
}

#[test]
fn javascript_and_typescript() {
    let js = "const xs = [1, 2].map((n) => n * 2); // double\nconsole.log(`total ${xs}`, null);";
    assert_has(
        js,
        "javascript",
        &[
            ("const", Keyword),
            ("map", Function),
            ("// double", Comment),
            ("`total ${xs}`", String),
            ("null", Literal),
            ("1", Number),
        ],
    );
    let ts =
        "interface User { name: string; age?: number }\nexport function greet(u: User): void {}";
    assert_has(
        ts,
        "ts",
        &[
            ("interface", Keyword),
            ("string", Type),
            ("number", Type),
            ("User", Type),
            ("greet", Function),
            ("void", Type),
        ],
    );
}

#[test]
fn json() {
    let code = "{\"name\": \"confab\", \"size\": 4.5, \"ok\": true, \"none\": null}";
    assert_has(
        code,
        "json",
        &[
            ("\"name\"", Property),
            ("\"confab\"", String),
            ("4.5", Number),
            ("true", Literal),
            ("null", Literal),
        ],
    );
}

#[test]
fn shell() {
    let code = "#!/bin/sh\nif [ -n \"$HOME\" ]; then\n  echo 'hi' $# ${PATH} # note\nfi\nls a#b";
    assert_has(
        code,
        "bash",
        &[
            ("#!/bin/sh", Comment),
            ("if", Keyword),
            ("\"$HOME\"", String),
            ("'hi'", String),
            ("$#", Variable),
            ("${PATH}", Variable),
            ("# note", Comment),
            ("fi", Keyword),
        ],
    );
    assert!(
        !tokens(code, "sh").iter().any(|(t, _)| *t == "#b"),
        "a # inside a word is not a comment"
    );
}

#[test]
fn sql() {
    let code = "SELECT id, name FROM users WHERE age > 18 -- adults\nselect count(*) from t;";
    assert_has(
        code,
        "sql",
        &[
            ("SELECT", Keyword),
            ("FROM", Keyword),
            ("WHERE", Keyword),
            ("18", Number),
            ("-- adults", Comment),
            ("select", Keyword),
            ("count", Function),
        ],
    );
}

#[test]
fn html() {
    let code = "<!DOCTYPE html>\n<!-- c -->\n<a href=\"/x\" class='y'>Tom &amp; Jerry</a>";
    assert_has(
        code,
        "html",
        &[
            ("<!DOCTYPE html>", Meta),
            ("<!-- c -->", Comment),
            ("<a", Tag),
            ("href", Attribute),
            ("\"/x\"", String),
            ("'y'", String),
            ("&amp;", Literal),
            ("</a", Tag),
            (">", Tag),
        ],
    );
}

#[test]
fn css() {
    let code = "@media (max-width: 600px) {\n  .box { background-color: #fff !important; margin: 0 auto; } /* c */\n}";
    assert_has(
        code,
        "css",
        &[
            ("@media", Meta),
            ("600px", Number),
            ("background-color", Property),
            ("important", Keyword),
            ("auto", Literal),
            ("/* c */", Comment),
        ],
    );
}

#[test]
fn go() {
    let code = "package main\n\nfunc main() {\n\tvar s string = `raw`\n\tfmt.Println(s, nil)\n}";
    assert_has(
        code,
        "go",
        &[
            ("package", Keyword),
            ("func", Keyword),
            ("string", Type),
            ("`raw`", String),
            ("Println", Function),
            ("nil", Literal),
        ],
    );
}

#[test]
fn java() {
    let code = "@Override\npublic static void main(String[] args) { System.out.println(\"hi\"); }";
    assert_has(
        code,
        "java",
        &[
            ("@Override", Meta),
            ("public", Keyword),
            ("void", Type),
            ("String", Type),
            ("println", Function),
            ("\"hi\"", String),
        ],
    );
}

#[test]
fn c_and_cpp() {
    let c = "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 0x1F); return 0; }";
    assert_has(
        c,
        "c",
        &[
            ("#include <stdio.h>", Meta),
            ("int", Type),
            ("printf", Function),
            ("\"%d\\n\"", String),
            ("0x1F", Number),
            ("return", Keyword),
        ],
    );
    let cpp = "template <typename T>\nclass Box { public: T* p = nullptr; };\nstd::vector<int> v;";
    assert_has(
        cpp,
        "c++",
        &[
            ("template", Keyword),
            ("typename", Keyword),
            ("class", Keyword),
            ("nullptr", Literal),
            ("vector", Type),
        ],
    );
}

#[test]
fn yaml() {
    let code = "# config\nruns-on: ubuntu-latest\nsteps:\n  - name: \"build\"\n    retries: 3\n    cache: true\nurl: http://x";
    assert_has(
        code,
        "yml",
        &[
            ("# config", Comment),
            ("runs-on", Property),
            ("steps", Property),
            ("name", Property),
            ("\"build\"", String),
            ("3", Number),
            ("true", Literal),
        ],
    );
    assert!(
        !tokens(code, "yaml").contains(&("http", Property)),
        "a URL's colon is not a key"
    );
}

#[test]
fn toml() {
    let code = "[package]\nname = \"confab\" # the app\nversion = 2\nlto = true";
    assert_has(
        code,
        "toml",
        &[
            ("[package]", Heading),
            ("name", Property),
            ("\"confab\"", String),
            ("# the app", Comment),
            ("2", Number),
            ("true", Literal),
        ],
    );
}

#[test]
fn diff() {
    let code = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n same";
    assert_has(
        code,
        "diff",
        &[
            ("diff --git a/x b/x", Heading),
            ("--- a/x", Heading),
            ("+++ b/x", Heading),
            ("@@ -1,2 +1,2 @@", Meta),
            ("-old", Deleted),
            ("+new", Inserted),
        ],
    );
}

#[test]
fn markdown() {
    let code = "# Title\n\n- item with `code`\n1. **bold** [link](https://x)\n> quote\n```rust\nfn x() {}\n```";
    assert_has(
        code,
        "md",
        &[
            ("# Title", Heading),
            ("-", Keyword),
            ("`code`", String),
            ("1.", Keyword),
            ("**", Keyword),
            ("(https://x)", String),
            ("> quote", Comment),
            ("```rust", Meta),
            ("fn x() {}", String),
        ],
    );
}

#[test]
fn unknown_or_missing_language_gives_no_tokens() {
    assert!(tokenize("fn main() {}", "").is_empty());
    assert!(tokenize("fn main() {}", "brainfudge").is_empty());
    assert!(!is_supported("cobol"));
    assert!(is_supported("Rust"), "case does not matter");
}

#[test]
fn unterminated_and_odd_input_never_panics() {
    for language in [
        "rust", "python", "js", "json", "bash", "sql", "html", "css", "go", "java", "c", "cpp",
        "yaml", "toml", "diff", "md",
    ] {
        for code in [
            "\"",
            "'",
            "/*",
            "r#\"",
            "<",
            "<a b='",
            "${",
            "'\\",
            "é'",
            "#[",
            "1e",
            "`",
            "@",
            "$",
            "\u{1F600}\"x",
        ] {
            let _ = tokenize(code, language);
        }
        assert_has("x = \"é ü\" // ☃ 1", language, &[]);
    }
}

#[test]
fn code_over_the_bound_stays_plain() {
    let code = "let x = 1;\n".repeat(MAX_CODE_BYTES / 10);
    assert!(tokenize(&code, "rust").is_empty());
}

#[test]
fn kinds_travel_as_indices_and_have_distinct_classes() {
    for kind in TokenKind::ALL {
        assert_eq!(TokenKind::from_index(kind.index()), Some(kind));
    }
    let mut classes: Vec<_> = TokenKind::ALL.iter().map(|k| k.class()).collect();
    classes.dedup();
    assert_eq!(classes.len(), TokenKind::ALL.len());
    assert_eq!(TokenKind::from_index(99), None);
}
