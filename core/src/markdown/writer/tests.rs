//! What the writer produces.

use super::*;

#[test]
fn paragraphs_emphasis_and_strikethrough() {
    assert_eq!(
        render_html("Hello *world* and **bold** and ~~gone~~."),
        "<p>Hello <em>world</em> and <strong>bold</strong> and <del>gone</del>.</p>\n"
    );
}

#[test]
fn tables_with_alignment_use_classes_not_styles() {
    let html = render_html("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n");
    assert_eq!(
        html,
        "<div class=\"table\"><table><thead><tr><th class=\"left\">a</th><th class=\"center\">b</th><th class=\"right\">c</th></tr></thead><tbody>\n\
         <tr><td class=\"left\">1</td><td class=\"center\">2</td><td class=\"right\">3</td></tr>\n</tbody></table></div>\n"
    );
}

#[test]
fn task_lists_are_disabled_checkboxes() {
    let html = render_html("- [x] done\n- [ ] to do\n");
    assert_eq!(
        html,
        "<ul>\n<li><input type=\"checkbox\" disabled checked> done</li>\n<li><input type=\"checkbox\" disabled> to do</li>\n</ul>\n"
    );
}

#[test]
fn code_blocks_show_their_language_and_a_copy_button_and_keep_whitespace() {
    let html = render_html("```rust\nfn main() {\n    let  x = 1 < 2;\n}\n```\n");
    assert_eq!(
        html,
        "<figure class=\"code\"><figcaption><span class=\"lang\">rust</span><button type=\"button\" class=\"copy\">Copy</button></figcaption>\
         <pre><code class=\"language-rust\">fn main() {\n    let  x = 1 &lt; 2;\n}\n</code></pre></figure>\n"
    );
    // No language: a neutral label, no class.
    assert!(render_html("    indented\n").contains("<span class=\"lang\">code</span><button"));
    assert!(render_html("    indented\n").contains("<pre><code>indented\n</code>"));
}

#[test]
fn the_language_token_is_reduced_to_safe_characters() {
    assert_eq!(language_token("Rust ignore"), Some("rust".into()));
    assert_eq!(language_token("c++"), Some("c++".into()));
    assert_eq!(language_token("{.python}"), Some("python".into()));
    assert_eq!(language_token("\"><img"), None);
    assert_eq!(language_token("js\"onload=x"), Some("js".into()));
    assert_eq!(language_token(&"a".repeat(100)).map(|t| t.len()), Some(24));
}

#[test]
fn inline_code_keeps_its_text() {
    assert_eq!(
        render_html("Run `a  <b>` now"),
        "<p>Run <code>a  &lt;b&gt;</code> now</p>\n"
    );
}

#[test]
fn safe_links_open_in_a_new_tab_without_opener_or_referrer() {
    assert_eq!(
        render_html("[docs](https://example.com/a?b=1&c=2 \"The docs\")"),
        "<p><a href=\"https://example.com/a?b=1&amp;c=2\" title=\"The docs — https://example.com/a?b=1&amp;c=2\" \
         target=\"_blank\" rel=\"noopener noreferrer\">docs</a></p>\n"
    );
    assert!(render_html("<someone@example.com>").contains("href=\"mailto:someone@example.com\""));
    assert!(render_html("<http://example.com>").contains("href=\"http://example.com\""));
}

#[test]
fn other_links_become_their_text() {
    for markdown in [
        "[docs](javascript:alert(1))",
        "[docs](/relative/path)",
        "[docs](#anchor)",
        "[docs](//host.example)",
        "[docs](ftp://host.example)",
        "[docs](jav&#x61;script:alert(1))",
    ] {
        assert_eq!(render_html(markdown), "<p>docs</p>\n", "{markdown}");
    }
}

#[test]
fn safe_href_reads_the_address_as_a_browser_would() {
    use LinkType::Inline;
    assert_eq!(
        safe_href(Inline, "HTTPS://x.example"),
        Some("HTTPS://x.example".into())
    );
    assert_eq!(
        safe_href(Inline, " https://x.example "),
        Some("https://x.example".into())
    );
    assert_eq!(safe_href(Inline, "java\tscript:x"), None);
    assert_eq!(safe_href(Inline, "\u{1}javascript:x"), None);
    assert_eq!(safe_href(Inline, "https://x.example/\u{202e}fdp.exe"), None);
    assert_eq!(safe_href(Inline, "javascript%3Ax"), None);
    assert_eq!(safe_href(Inline, "data:text/html,x"), None);
    assert_eq!(
        safe_href(LinkType::Email, "a@b.example"),
        Some("mailto:a@b.example".into())
    );
}

#[test]
fn images_are_placeholders_until_the_user_asks() {
    assert_eq!(
        render_html("![a *cat*](https://img.example/cat.png \"t\")"),
        "<p><span class=\"image\" data-src=\"https://img.example/cat.png\" data-alt=\"a cat\">\
         <button type=\"button\" class=\"load-image\">Load image from img.example</button> \
         <span class=\"alt\">a cat</span></span></p>\n"
    );
    assert_eq!(
        render_html("![x](data:image/png;base64,AAAA)"),
        "<p><span class=\"image blocked\">[image: x]</span></p>\n"
    );
    assert_eq!(
        host_of("https://user:pw@host.example:8080/a"),
        "host.example:8080"
    );
}

#[test]
fn raw_html_is_shown_as_text() {
    assert_eq!(
        render_html("<div onclick=\"x()\">hi</div>\n"),
        "<div class=\"raw-html\">&lt;div onclick=&quot;x()&quot;&gt;hi&lt;/div&gt;\n</div>\n"
    );
    assert_eq!(
        render_html("a <b>bold</b> word"),
        "<p>a &lt;b&gt;bold&lt;/b&gt; word</p>\n"
    );
}
