use super::*;

fn markup(tex: &str) -> String {
    to_mathml(tex, false)
        .unwrap_or_else(|e| panic!("{tex}: {e}"))
        .to_markup()
}

fn display(tex: &str) -> String {
    to_mathml(tex, true)
        .unwrap_or_else(|e| panic!("{tex}: {e}"))
        .to_markup()
}

#[test]
fn letters_numbers_operators() {
    assert_eq!(
        markup("x + 3.14 = y-1"),
        "<mrow><mi>x</mi><mo>+</mo><mn>3.14</mn><mo>=</mo><mi>y</mi><mo>−</mo><mn>1</mn></mrow>"
    );
}

#[test]
fn fractions() {
    assert_eq!(
        markup(r"\frac{a}{b}"),
        "<mfrac><mi>a</mi><mi>b</mi></mfrac>"
    );
    assert_eq!(markup(r"\frac12"), "<mfrac><mn>1</mn><mn>2</mn></mfrac>");
    assert_eq!(
        markup(r"{a \over b}"),
        "<mrow><mfrac><mi>a</mi><mi>b</mi></mfrac></mrow>"
    );
    assert!(markup(r"\dfrac{1}{x}").starts_with("<mstyle displaystyle=\"true\"><mfrac>"));
    assert_eq!(
        markup(r"\binom{n}{k}"),
        "<mrow><mo>(</mo><mfrac linethickness=\"0\"><mi>n</mi><mi>k</mi></mfrac><mo>)</mo></mrow>"
    );
}

#[test]
fn scripts() {
    assert_eq!(markup("x^2"), "<msup><mi>x</mi><mn>2</mn></msup>");
    assert_eq!(markup("a_i"), "<msub><mi>a</mi><mi>i</mi></msub>");
    assert_eq!(
        markup("a_{i}^{2}"),
        "<msubsup><mi>a</mi><mi>i</mi><mn>2</mn></msubsup>"
    );
    assert_eq!(
        markup("e^{i\\pi}"),
        "<msup><mi>e</mi><mrow><mi>i</mi><mi>π</mi></mrow></msup>"
    );
    assert_eq!(markup("f'"), "<msup><mi>f</mi><mo>′</mo></msup>");
}

#[test]
fn roots() {
    assert_eq!(markup(r"\sqrt{2}"), "<msqrt><mn>2</mn></msqrt>");
    assert_eq!(
        markup(r"\sqrt[3]{x}"),
        "<mroot><mi>x</mi><mn>3</mn></mroot>"
    );
}

#[test]
fn greek_and_symbols() {
    assert_eq!(markup(r"\alpha"), "<mi>α</mi>");
    assert_eq!(markup(r"\Omega"), "<mi mathvariant=\"normal\">Ω</mi>");
    assert_eq!(
        markup(r"a \leq b"),
        "<mrow><mi>a</mi><mo>≤</mo><mi>b</mi></mrow>"
    );
    assert_eq!(markup(r"\infty"), "<mi>∞</mi>");
    assert_eq!(markup(r"\sin x"), "<mrow><mi>sin</mi><mi>x</mi></mrow>");
}

#[test]
fn sums_and_integrals_with_limits() {
    assert_eq!(
        display(r"\sum_{i=1}^n i"),
        "<mrow><munderover><mo largeop=\"true\">∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mi>i</mi></mrow>"
    );
    assert!(
        markup(r"\sum_{i=1}^n i")
            .contains("<msubsup><mo largeop=\"true\" movablelimits=\"true\">∑</mo>")
    );
    assert_eq!(
        display(r"\int_0^1 x^2\,dx"),
        "<mrow><msubsup><mo largeop=\"true\">∫</mo><mn>0</mn><mn>1</mn></msubsup><msup><mi>x</mi><mn>2</mn></msup><mspace width=\"0.1667em\"></mspace><mi>d</mi><mi>x</mi></mrow>"
    );
    assert!(display(r"\int\limits_0^1 f").contains("<munderover>"));
    assert!(
        display(r"\lim_{x \to 0} f")
            .starts_with("<mrow><munder><mo movablelimits=\"true\">lim</mo>")
    );
}

#[test]
fn left_right() {
    assert_eq!(
        markup(r"\left( \frac{a}{b} \right)"),
        "<mrow><mo stretchy=\"true\">(</mo><mfrac><mi>a</mi><mi>b</mi></mfrac><mo stretchy=\"true\">)</mo></mrow>"
    );
    assert_eq!(
        markup(r"\left\{ x \right."),
        "<mrow><mo stretchy=\"true\">{</mo><mi>x</mi><mrow></mrow></mrow>"
    );
    assert!(to_mathml(r"\left( x", false).is_err());
}

#[test]
fn matrices_and_cases() {
    assert_eq!(
        markup(r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}"),
        "<mrow><mo stretchy=\"true\">(</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn></mtd></mtr><mtr><mtd><mn>0</mn></mtd><mtd><mn>1</mn></mtd></mtr></mtable><mo stretchy=\"true\">)</mo></mrow>"
    );
    assert!(
        markup(r"f(x) = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \\ \end{cases}")
            .contains("<mtext>otherwise</mtext>")
    );
    assert_eq!(
        to_mathml(r"\begin{pmatrix} 1 \end{bmatrix}", false),
        Err(TexError::MismatchedEnd {
            open: "pmatrix".into(),
            found: "bmatrix".into()
        })
    );
}

#[test]
fn text_and_fonts() {
    assert_eq!(
        markup(r"\text{if } x"),
        "<mrow><mtext>if </mtext><mi>x</mi></mrow>"
    );
    assert_eq!(markup(r"\mathbf{v}"), "<mi mathvariant=\"normal\">𝐯</mi>");
    assert_eq!(markup(r"\mathbb{R}"), "<mi mathvariant=\"normal\">ℝ</mi>");
    assert_eq!(markup(r"\mathcal{L}"), "<mi mathvariant=\"normal\">ℒ</mi>");
    assert_eq!(markup(r"\mathrm{d}"), "<mi mathvariant=\"normal\">d</mi>");
    assert_eq!(
        markup(r"\hat{x}"),
        "<mover accent=\"true\"><mi>x</mi><mo>^</mo></mover>"
    );
    assert_eq!(
        markup(r"\operatorname{rank} A"),
        "<mrow><mi>rank</mi><mi>A</mi></mrow>"
    );
}

#[test]
fn text_is_only_ever_text() {
    // Markup characters in the formula stay characters in text leaves.
    let tree = markup(r"\text{<script>alert(1)</script>} < b");
    assert!(
        tree.contains("<mtext>&lt;script>alert(1)&lt;/script></mtext>"),
        "{tree}"
    );
}

#[test]
fn hostile_commands_are_refused() {
    for tex in [
        r"\href{javascript:alert(1)}{x}",
        r"\class{x}{y}",
        r"\style{color:red}{x}",
        r"\url{javascript:alert(1)}",
        r"\htmlId{x}{y}",
        r"\includegraphics{x.png}",
        r"\color{red}{x}",
        r"\def\x{y}",
        r"\newcommand{\x}{y}",
        r"\begin{script}x\end{script}",
    ] {
        assert!(to_mathml(tex, false).is_err(), "{tex} is refused");
    }
}

#[test]
fn every_attribute_value_is_from_the_fixed_list() {
    fn check(node: &Node) {
        if let Node::Element {
            attributes,
            children,
            ..
        } = node
        {
            for (_, value) in attributes {
                assert!(VALUES.contains(value), "{value}");
            }
            children.iter().for_each(check);
        }
    }
    for tex in [
        r"\Omega \binom{a}{b} \left( x \right) \quad \! \, \; \: \qquad \dfrac12 \tfrac12 \sum_1^2 \hat x \mathbf{x}",
        r"\displaystyle x \textstyle y",
    ] {
        check(&to_mathml(tex, false).unwrap());
        check(&to_mathml(tex, true).unwrap());
    }
}

#[test]
fn ten_thousand_nested_braces_stop_at_the_depth_bound() {
    let tex = format!("{}x{}", "{".repeat(10_000), "}".repeat(10_000));
    assert!(to_mathml(&tex, false).is_err());
    let roomy = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    assert_eq!(
        to_mathml_within(&tex, false, roomy),
        Err(TexError::TooDeep { max: 48 })
    );
    let scripts = "x^".repeat(5_000) + "x";
    assert!(to_mathml(&scripts, false).is_err());
    let unclosed = "{".repeat(10_000);
    assert!(to_mathml(&unclosed, false).is_err());
    assert!(matches!(
        to_mathml(&format!("\\text{{{}}}", "{".repeat(10_000)), false),
        Err(TexError::TooDeep { .. })
    ));
}

#[test]
fn huge_over_nesting_is_bounded() {
    let nested = format!("{}1{}", "{1 \\over ".repeat(1_500), "}".repeat(1_500));
    assert!(matches!(
        to_mathml(&nested, false),
        Err(TexError::TooDeep { .. })
    ));
    assert_eq!(
        to_mathml(r"a \over b \over c", false),
        Err(TexError::AmbiguousFraction)
    );
    let wide = "{a \\over b}".repeat(1_400);
    assert!(matches!(
        to_mathml(&wide, false),
        Err(TexError::TooManyNodes { .. })
    ));
}

#[test]
fn a_megabyte_formula_is_refused_at_once() {
    let tex = "x+".repeat(512 * 1024);
    let started = std::time::Instant::now();
    assert!(matches!(
        to_mathml(&tex, true),
        Err(TexError::TooLong { .. })
    ));
    assert!(started.elapsed().as_millis() < 50);
}

#[test]
fn malformed_formulas_are_errors_not_panics() {
    for tex in [
        "}",
        "x^",
        "_x",
        "{x",
        r"\frac{a}",
        r"\sqrt[3",
        r"\left(",
        r"\begin{matrix}",
        r"\",
        "x^^2",
        r"\end{x}",
        "a & b",
        r"\right)",
        "\\text{",
        r"\operatorname",
        "é^",
        "\u{1F600}_",
    ] {
        let _ = to_mathml(tex, false);
        let _ = to_mathml(tex, true);
    }
}

#[test]
fn names_travel_as_indices() {
    for element in Element::ALL {
        assert_eq!(Element::from_index(element.index()), Some(element));
    }
    for attribute in Attribute::ALL {
        assert_eq!(Attribute::from_index(attribute.index()), Some(attribute));
    }
    assert_eq!(VALUES[value_index("0.2778em") as usize], "0.2778em");
}
