//! The tables: command names to symbols (Greek, ordinary, operators, large
//! operators), letter styles to Unicode's mathematical alphanumerics,
//! spacing widths, function names, accents. Data only; the parser decides
//! what each kind of entry becomes.

/// A letter style from `\mathbf`, `\mathbb`, ...: letters and digits are
/// mapped to Unicode's mathematical alphanumerics, because MathML Core
/// (Chromium) only knows `mathvariant="normal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Default,
    Upright,
    Bold,
    Italic,
    BoldItalic,
    Script,
    Fraktur,
    DoubleStruck,
    SansSerif,
    Monospace,
}

/// How scripts attach to a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limit {
    /// Beside it (`x^2`).
    Side,
    /// Under and over it in display style (`\sum`, `\lim`), beside inline.
    Display,
    /// Always under and over (`\limits`, `\underbrace`).
    Always,
}

/// `c` in a letter style (Unicode's Mathematical Alphanumeric Symbols,
/// with the letters that predate that block where they live instead).
pub(super) fn styled(c: char, style: Style) -> char {
    let (upper, lower, digit) = match style {
        Style::Default | Style::Upright | Style::Italic => return c,
        Style::Bold => (0x1D400, 0x1D41A, Some(0x1D7CE)),
        Style::BoldItalic => (0x1D468, 0x1D482, Some(0x1D7CE)),
        Style::Script => (0x1D49C, 0x1D4B6, None),
        Style::Fraktur => (0x1D504, 0x1D51E, None),
        Style::DoubleStruck => (0x1D538, 0x1D552, Some(0x1D7D8)),
        Style::SansSerif => (0x1D5A0, 0x1D5BA, Some(0x1D7E2)),
        Style::Monospace => (0x1D670, 0x1D68A, Some(0x1D7F6)),
    };
    let exception = match (style, c) {
        (Style::Script, 'B') => Some('ℬ'),
        (Style::Script, 'E') => Some('ℰ'),
        (Style::Script, 'F') => Some('ℱ'),
        (Style::Script, 'H') => Some('ℋ'),
        (Style::Script, 'I') => Some('ℐ'),
        (Style::Script, 'L') => Some('ℒ'),
        (Style::Script, 'M') => Some('ℳ'),
        (Style::Script, 'R') => Some('ℛ'),
        (Style::Script, 'e') => Some('ℯ'),
        (Style::Script, 'g') => Some('ℊ'),
        (Style::Script, 'o') => Some('ℴ'),
        (Style::Fraktur, 'C') => Some('ℭ'),
        (Style::Fraktur, 'H') => Some('ℌ'),
        (Style::Fraktur, 'I') => Some('ℑ'),
        (Style::Fraktur, 'R') => Some('ℜ'),
        (Style::Fraktur, 'Z') => Some('ℨ'),
        (Style::DoubleStruck, 'C') => Some('ℂ'),
        (Style::DoubleStruck, 'H') => Some('ℍ'),
        (Style::DoubleStruck, 'N') => Some('ℕ'),
        (Style::DoubleStruck, 'P') => Some('ℙ'),
        (Style::DoubleStruck, 'Q') => Some('ℚ'),
        (Style::DoubleStruck, 'R') => Some('ℝ'),
        (Style::DoubleStruck, 'Z') => Some('ℤ'),
        _ => None,
    };
    if let Some(c) = exception {
        return c;
    }
    let code = match c {
        'A'..='Z' => upper + (c as u32 - 'A' as u32),
        'a'..='z' => lower + (c as u32 - 'a' as u32),
        '0'..='9' => match digit {
            Some(base) => base + (c as u32 - '0' as u32),
            None => return c,
        },
        _ => return c,
    };
    char::from_u32(code).unwrap_or(c)
}

pub(super) fn font(name: &str) -> Option<Style> {
    Some(match name {
        "mathrm" | "rm" | "mathup" => Style::Upright,
        "mathbf" | "bf" => Style::Bold,
        "mathit" | "it" => Style::Italic,
        "boldsymbol" | "bm" => Style::BoldItalic,
        "mathcal" | "mathscr" => Style::Script,
        "mathfrak" => Style::Fraktur,
        "mathbb" => Style::DoubleStruck,
        "mathsf" => Style::SansSerif,
        "mathtt" => Style::Monospace,
        _ => return None,
    })
}

/// Looks `name` up in a table of `name symbol` pairs separated by spaces.
fn lookup(table: &'static str, name: &str) -> Option<&'static str> {
    let mut words = table.split(' ');
    while let (Some(key), Some(symbol)) = (words.next(), words.next()) {
        if key == name {
            return Some(symbol);
        }
    }
    None
}

pub(super) fn greek(name: &str) -> Option<&'static str> {
    lookup(
        "alpha α beta β gamma γ delta δ epsilon ϵ varepsilon ε zeta ζ eta η theta θ vartheta ϑ iota ι kappa κ lambda λ mu μ nu ν xi ξ omicron ο pi π varpi ϖ rho ρ varrho ϱ sigma σ varsigma ς tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω Gamma Γ Delta Δ Theta Θ Lambda Λ Xi Ξ Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω",
        name,
    )
}

pub(super) fn ordinary(name: &str) -> Option<&'static str> {
    lookup(
        "infty ∞ partial ∂ nabla ∇ emptyset ∅ varnothing ∅ hbar ℏ ell ℓ Re ℜ Im ℑ aleph ℵ wp ℘ prime ′ % % $ $ # # _ _ top ⊤ bot ⊥ angle ∠ triangle △ dagger † ddagger ‡ checkmark ✓ degree °",
        name,
    )
}

pub(super) fn operator(name: &str) -> Option<&'static str> {
    lookup(
        "pm ± mp ∓ times × div ÷ cdot ⋅ ast ∗ star ⋆ circ ∘ bullet ∙ leq ≤ le ≤ geq ≥ ge ≥ neq ≠ ne ≠ approx ≈ equiv ≡ sim ∼ simeq ≃ cong ≅ propto ∝ ll ≪ gg ≫ subset ⊂ subseteq ⊆ supset ⊃ supseteq ⊇ in ∈ notin ∉ ni ∋ cup ∪ cap ∩ setminus ∖ wedge ∧ land ∧ vee ∨ lor ∨ neg ¬ lnot ¬ forall ∀ exists ∃ nexists ∄ to → rightarrow → leftarrow ← gets ← Rightarrow ⇒ Leftarrow ⇐ leftrightarrow ↔ Leftrightarrow ⇔ iff ⟺ implies ⟹ impliedby ⟸ mapsto ↦ longrightarrow ⟶ longleftarrow ⟵ uparrow ↑ downarrow ↓ mid ∣ parallel ∥ perp ⊥ langle ⟨ rangle ⟩ lfloor ⌊ rfloor ⌋ lceil ⌈ rceil ⌉ lvert | rvert | vert | lVert ‖ rVert ‖ Vert ‖ | ‖ { { } } ldots … dots … cdots ⋯ vdots ⋮ ddots ⋱ colon : oplus ⊕ ominus ⊖ otimes ⊗ odot ⊙ vdash ⊢ models ⊨ therefore ∴ because ∵ & & backslash ∖ prec ≺ succ ≻ preceq ⪯ succeq ⪰ doteq ≐ asymp ≍ leftrightarrows ⇆ hookrightarrow ↪ cdotp ⋅ lt < gt > le ≤ leqslant ⩽ geqslant ⩾",
        name,
    )
}

pub(super) fn large_operator(name: &str) -> Option<(&'static str, Limit)> {
    if let Some(symbol) = lookup("int ∫ iint ∬ iiint ∭ oint ∮", name) {
        return Some((symbol, Limit::Side));
    }
    lookup(
        "sum ∑ prod ∏ coprod ∐ bigcup ⋃ bigcap ⋂ bigoplus ⨁ bigotimes ⨂ bigodot ⨀ bigvee ⋁ bigwedge ⋀ bigsqcup ⨆",
        name,
    )
    .map(|symbol| (symbol, Limit::Display))
}

pub(super) fn spacing(name: &str) -> Option<&'static str> {
    Some(match name {
        "," | "thinspace" => "0.1667em",
        ":" | ">" | "medspace" => "0.2222em",
        ";" | " " | "thickspace" => "0.2778em",
        "quad" => "1em",
        "qquad" => "2em",
        "!" | "negthinspace" => "-0.1667em",
        _ => return None,
    })
}

pub(super) fn is_function_name(name: &str) -> bool {
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp dim ker deg arg hom lcm mod bmod"
        .split(' ')
        .any(|f| f == name)
}

/// `(mark, over)` for accents and over/under lines.
pub(super) fn accent(name: &str) -> Option<(&'static str, bool)> {
    Some(match name {
        "hat" | "widehat" => ("^", true),
        "bar" | "overline" => ("‾", true),
        "vec" | "overrightarrow" => ("→", true),
        "overleftarrow" => ("←", true),
        "dot" => ("˙", true),
        "ddot" => ("¨", true),
        "tilde" | "widetilde" => ("~", true),
        "check" => ("ˇ", true),
        "breve" => ("˘", true),
        "acute" => ("´", true),
        "grave" => ("`", true),
        "overbrace" => ("⏞", true),
        "underline" => ("_", false),
        "underbrace" => ("⏟", false),
        _ => return None,
    })
}
