//! TeX (the subset replies use) to a tree of MathML nodes.
//!
//! The result is data, not markup: element names come from [`Element`],
//! attribute names from [`Attribute`] and their values from [`VALUES`], all
//! fixed here; the formula's own text only ever lands in text leaves. No
//! command can make a link, a class, a style or an id: `\href`, `\class`,
//! `\style` and every other command not listed here is an error, and the
//! shell keeps showing the TeX source. The work is bounded: the input's
//! length, the nesting depth and the number of nodes have limits
//! ([`Limits`]), and going over one is an error too, never a hang.

use thiserror::Error;

/// The MathML elements a tree may hold. The shell creates `<math>` itself
/// around the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Mi,
    Mn,
    Mo,
    Mrow,
    Msup,
    Msub,
    Msubsup,
    Mfrac,
    Msqrt,
    Mroot,
    Mover,
    Munder,
    Munderover,
    Mtext,
    Mtable,
    Mtr,
    Mtd,
    Mspace,
    Mstyle,
}

impl Element {
    /// Every element, in the order of its index on the wire.
    pub const ALL: [Element; 19] = [
        Element::Mi,
        Element::Mn,
        Element::Mo,
        Element::Mrow,
        Element::Msup,
        Element::Msub,
        Element::Msubsup,
        Element::Mfrac,
        Element::Msqrt,
        Element::Mroot,
        Element::Mover,
        Element::Munder,
        Element::Munderover,
        Element::Mtext,
        Element::Mtable,
        Element::Mtr,
        Element::Mtd,
        Element::Mspace,
        Element::Mstyle,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Element::Mi => "mi",
            Element::Mn => "mn",
            Element::Mo => "mo",
            Element::Mrow => "mrow",
            Element::Msup => "msup",
            Element::Msub => "msub",
            Element::Msubsup => "msubsup",
            Element::Mfrac => "mfrac",
            Element::Msqrt => "msqrt",
            Element::Mroot => "mroot",
            Element::Mover => "mover",
            Element::Munder => "munder",
            Element::Munderover => "munderover",
            Element::Mtext => "mtext",
            Element::Mtable => "mtable",
            Element::Mtr => "mtr",
            Element::Mtd => "mtd",
            Element::Mspace => "mspace",
            Element::Mstyle => "mstyle",
        }
    }

    pub fn index(self) -> u32 {
        Element::ALL.iter().position(|e| *e == self).unwrap_or(0) as u32
    }

    pub fn from_index(index: u32) -> Option<Element> {
        Element::ALL.get(index as usize).copied()
    }
}

/// The attributes a tree may set: presentation only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Mathvariant,
    Displaystyle,
    Stretchy,
    Linethickness,
    Accent,
    Width,
    Largeop,
    Movablelimits,
}

impl Attribute {
    pub const ALL: [Attribute; 8] = [
        Attribute::Mathvariant,
        Attribute::Displaystyle,
        Attribute::Stretchy,
        Attribute::Linethickness,
        Attribute::Accent,
        Attribute::Width,
        Attribute::Largeop,
        Attribute::Movablelimits,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Mathvariant => "mathvariant",
            Attribute::Displaystyle => "displaystyle",
            Attribute::Stretchy => "stretchy",
            Attribute::Linethickness => "linethickness",
            Attribute::Accent => "accent",
            Attribute::Width => "width",
            Attribute::Largeop => "largeop",
            Attribute::Movablelimits => "movablelimits",
        }
    }

    pub fn index(self) -> u32 {
        Attribute::ALL.iter().position(|a| *a == self).unwrap_or(0) as u32
    }

    pub fn from_index(index: u32) -> Option<Attribute> {
        Attribute::ALL.get(index as usize).copied()
    }
}

/// Every attribute value a tree may hold; values travel as their index.
pub const VALUES: [&str; 10] = [
    "normal",
    "true",
    "false",
    "0",
    "0.1667em",
    "0.2222em",
    "0.2778em",
    "1em",
    "2em",
    "-0.1667em",
];

/// The index of `value` in [`VALUES`].
pub fn value_index(value: &str) -> u32 {
    VALUES.iter().position(|v| *v == value).unwrap_or(0) as u32
}

/// A node of the result: an element or a text leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element {
        element: Element,
        /// Values are from [`VALUES`].
        attributes: Vec<(Attribute, &'static str)>,
        children: Vec<Node>,
    },
    Text(String),
}

impl Node {
    fn new(element: Element, children: Vec<Node>) -> Node {
        Node::Element {
            element,
            attributes: Vec::new(),
            children,
        }
    }

    fn with(mut self, attribute: Attribute, value: &'static str) -> Node {
        if let Node::Element { attributes, .. } = &mut self {
            attributes.push((attribute, value));
        }
        self
    }

    /// The tree as MathML text, for tests and debugging only: the shell
    /// builds elements, never parses this.
    pub fn to_markup(&self) -> String {
        let mut out = String::new();
        self.markup_into(&mut out);
        out
    }

    fn markup_into(&self, out: &mut String) {
        match self {
            Node::Text(text) => {
                for c in text.chars() {
                    match c {
                        '<' => out.push_str("&lt;"),
                        '&' => out.push_str("&amp;"),
                        _ => out.push(c),
                    }
                }
            }
            Node::Element {
                element,
                attributes,
                children,
            } => {
                out.push('<');
                out.push_str(element.name());
                for (attribute, value) in attributes {
                    out.push(' ');
                    out.push_str(attribute.name());
                    out.push_str("=\"");
                    out.push_str(value);
                    out.push('"');
                }
                out.push('>');
                for child in children {
                    child.markup_into(out);
                }
                out.push_str("</");
                out.push_str(element.name());
                out.push('>');
            }
        }
    }
}

/// Bounds on the work one formula may cause.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024,
            max_depth: 48,
            max_nodes: 8_000,
        }
    }
}

/// Why a formula is shown as its source.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TexError {
    #[error("formula of {bytes} bytes, over the {max} allowed")]
    TooLong { bytes: usize, max: usize },
    #[error("nested deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("more than {max} nodes")]
    TooManyNodes { max: usize },
    #[error("unsupported command \\{0}")]
    UnknownCommand(String),
    #[error("unsupported environment {0}")]
    UnknownEnvironment(String),
    #[error("unexpected {0:?}")]
    Unexpected(char),
    #[error("the formula ends too early")]
    UnexpectedEnd,
    #[error("\\end{{{found}}} closes \\begin{{{open}}}")]
    MismatchedEnd { open: String, found: String },
    #[error("two \\over in one group")]
    AmbiguousFraction,
}

/// `tex` as a MathML tree (the root is an `mrow`), with default limits.
pub fn to_mathml(tex: &str, display: bool) -> Result<Node, TexError> {
    to_mathml_within(tex, display, Limits::default())
}

pub fn to_mathml_within(tex: &str, display: bool, limits: Limits) -> Result<Node, TexError> {
    if tex.len() > limits.max_bytes {
        return Err(TexError::TooLong {
            bytes: tex.len(),
            max: limits.max_bytes,
        });
    }
    let mut parser = Parser {
        text: tex,
        at: 0,
        depth: 0,
        nodes: 0,
        limits,
        display,
        style: Style::Default,
    };
    let children = parser.expression()?;
    match parser.peek() {
        None => Ok(parser.row(children)?),
        Some(c) => Err(TexError::Unexpected(c)),
    }
}

/// A letter style from `\mathbf`, `\mathbb`, ...: letters and digits are
/// mapped to Unicode's mathematical alphanumerics, because MathML Core
/// (Chromium) only knows `mathvariant="normal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
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
enum Limit {
    /// Beside it (`x^2`).
    Side,
    /// Under and over it in display style (`\sum`, `\lim`), beside inline.
    Display,
    /// Always under and over (`\limits`, `\underbrace`).
    Always,
}

/// What ends an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Command(&'a str),
    Char(char),
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
    nodes: usize,
    limits: Limits,
    display: bool,
    style: Style,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Option<char> {
        self.skip_spaces();
        self.text[self.at..].chars().next()
    }

    fn skip_spaces(&mut self) {
        while let Some(c) = self.text[self.at..].chars().next() {
            if !c.is_whitespace() {
                break;
            }
            self.at += c.len_utf8();
        }
    }

    /// The next token without consuming it.
    fn peek_token(&mut self) -> Option<Token<'a>> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        let mut chars = rest.chars();
        match chars.next()? {
            '\\' => {
                let name_len = rest[1..]
                    .bytes()
                    .take_while(u8::is_ascii_alphabetic)
                    .count();
                if name_len > 0 {
                    Some(Token::Command(&rest[1..1 + name_len]))
                } else {
                    // `\,`, `\{`, `\\`: a one-character command.
                    let c = chars.next().map_or(1, char::len_utf8);
                    Some(Token::Command(&rest[1..1 + c.min(rest.len() - 1)]))
                }
            }
            c => Some(Token::Char(c)),
        }
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let token = self.peek_token()?;
        self.at += match token {
            Token::Command(name) => 1 + name.len(),
            Token::Char(c) => c.len_utf8(),
        };
        Some(token)
    }

    fn enter(&mut self) -> Result<(), TexError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(TexError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }

    fn node(&mut self, element: Element, children: Vec<Node>) -> Result<Node, TexError> {
        self.nodes += 1 + children.len();
        if self.nodes > self.limits.max_nodes {
            return Err(TexError::TooManyNodes {
                max: self.limits.max_nodes,
            });
        }
        Ok(Node::new(element, children))
    }

    fn token_node(&mut self, element: Element, text: &str) -> Result<Node, TexError> {
        self.node(element, vec![Node::Text(text.to_owned())])
    }

    /// One node for a list: itself if it is one, else an `mrow`.
    fn row(&mut self, mut children: Vec<Node>) -> Result<Node, TexError> {
        if children.len() == 1 {
            Ok(children.pop().unwrap_or(Node::Text(String::new())))
        } else {
            self.node(Element::Mrow, children)
        }
    }

    /// Atoms until the end, a `}`, `&`, `\\`, `\end` or `\right` (left for
    /// the caller). `\over` and its kin split the group into a fraction.
    fn expression(&mut self) -> Result<Vec<Node>, TexError> {
        self.enter()?;
        let mut items = Vec::new();
        let mut fraction: Option<(Vec<Node>, &'static str)> = None;
        loop {
            match self.peek_token() {
                None | Some(Token::Char('}' | '&')) => break,
                Some(Token::Command("\\" | "end" | "right" | "cr")) => break,
                Some(Token::Command(kind @ ("over" | "atop" | "choose"))) => {
                    self.next_token();
                    if fraction.is_some() {
                        return Err(TexError::AmbiguousFraction);
                    }
                    let thickness = if kind == "over" { "" } else { "0" };
                    fraction = Some((std::mem::take(&mut items), thickness));
                    if kind == "choose" {
                        fraction = fraction.map(|(n, _)| (n, "choose"));
                    }
                }
                Some(Token::Command(style @ ("displaystyle" | "textstyle"))) => {
                    self.next_token();
                    let rest = self.expression()?;
                    let rest = self.node(Element::Mstyle, rest)?;
                    let value = if style == "displaystyle" {
                        "true"
                    } else {
                        "false"
                    };
                    items.push(rest.with(Attribute::Displaystyle, value));
                }
                Some(_) => {
                    let atom = self.atom()?;
                    items.push(atom);
                }
            }
        }
        self.depth -= 1;
        if let Some((numerator, kind)) = fraction {
            let numerator = self.row(numerator)?;
            let denominator = self.row(items)?;
            let fraction = self.node(Element::Mfrac, vec![numerator, denominator])?;
            return Ok(match kind {
                "" => vec![fraction],
                "choose" => vec![
                    self.token_node(Element::Mo, "(")?,
                    fraction.with(Attribute::Linethickness, "0"),
                    self.token_node(Element::Mo, ")")?,
                ],
                _ => vec![fraction.with(Attribute::Linethickness, "0")],
            });
        }
        Ok(items)
    }

    /// A base and its scripts.
    fn atom(&mut self) -> Result<Node, TexError> {
        let (mut base, mut limit) = self.base()?;
        let mut sub = None;
        let mut sup: Option<Node> = None;
        loop {
            match self.peek_token() {
                Some(Token::Char('_')) if sub.is_none() => {
                    self.next_token();
                    sub = Some(self.argument()?);
                }
                Some(Token::Char('^')) if sup.is_none() => {
                    self.next_token();
                    sup = Some(self.argument()?);
                }
                Some(Token::Char('\'')) if sup.is_none() => {
                    let mut primes = String::new();
                    while self.peek_token() == Some(Token::Char('\'')) {
                        self.next_token();
                        primes.push('′');
                    }
                    sup = Some(self.token_node(Element::Mo, &primes)?);
                }
                Some(Token::Command("limits")) => {
                    self.next_token();
                    limit = Limit::Always;
                }
                Some(Token::Command("nolimits")) => {
                    self.next_token();
                    limit = Limit::Side;
                }
                _ => break,
            }
        }
        let under = limit == Limit::Always || (limit == Limit::Display && self.display);
        if limit == Limit::Display && !self.display && (sub.is_some() || sup.is_some()) {
            base = base.with(Attribute::Movablelimits, "true");
        }
        let (element, children) = match (sub, sup) {
            (None, None) => return Ok(base),
            (Some(sub), None) => (
                if under {
                    Element::Munder
                } else {
                    Element::Msub
                },
                vec![base, sub],
            ),
            (None, Some(sup)) => (
                if under { Element::Mover } else { Element::Msup },
                vec![base, sup],
            ),
            (Some(sub), Some(sup)) => (
                if under {
                    Element::Munderover
                } else {
                    Element::Msubsup
                },
                vec![base, sub, sup],
            ),
        };
        self.node(element, children)
    }

    /// A script or a command's argument: a group or one token.
    fn argument(&mut self) -> Result<Node, TexError> {
        self.enter()?;
        let node = match self.peek_token() {
            None => Err(TexError::UnexpectedEnd),
            Some(Token::Char('{')) => {
                self.next_token();
                let children = self.expression()?;
                self.expect('}')?;
                self.row(children)
            }
            // `\frac12`: an argument is one digit, not a number.
            Some(Token::Char(c)) if c.is_ascii_digit() => {
                self.next_token();
                self.token_node(Element::Mn, styled(c, self.style).encode_utf8(&mut [0; 4]))
            }
            Some(_) => self.base().map(|(node, _)| node),
        };
        self.depth -= 1;
        node
    }

    fn expect(&mut self, c: char) -> Result<(), TexError> {
        match self.next_token() {
            Some(Token::Char(found)) if found == c => Ok(()),
            Some(Token::Char(found)) => Err(TexError::Unexpected(found)),
            Some(Token::Command(_)) => Err(TexError::Unexpected('\\')),
            None => Err(TexError::UnexpectedEnd),
        }
    }

    /// The raw text of a `{...}` argument (for `\text`, environment names).
    fn raw_group(&mut self) -> Result<&'a str, TexError> {
        self.expect('{')?;
        let start = self.at;
        let mut depth = 0usize;
        for (offset, c) in self.text[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    self.at = start + offset + 1;
                    return Ok(&self.text[start..start + offset]);
                }
                '}' => depth -= 1,
                _ => {}
            }
            if depth > self.limits.max_depth {
                return Err(TexError::TooDeep {
                    max: self.limits.max_depth,
                });
            }
        }
        Err(TexError::UnexpectedEnd)
    }

    /// One base: a character, a group or a command.
    fn base(&mut self) -> Result<(Node, Limit), TexError> {
        let Some(token) = self.next_token() else {
            return Err(TexError::UnexpectedEnd);
        };
        let node = match token {
            Token::Char('{') => {
                self.enter()?;
                let children = self.expression()?;
                self.expect('}')?;
                self.depth -= 1;
                self.node(Element::Mrow, children)?
            }
            Token::Char(c @ ('}' | '^' | '_' | '&')) => return Err(TexError::Unexpected(c)),
            Token::Char(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at - 1;
                let len = self.text[self.at..]
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b'.')
                    .count();
                self.at += len;
                let digits: String = self.text[start..self.at]
                    .chars()
                    .map(|c| styled(c, self.style))
                    .collect();
                self.token_node(Element::Mn, &digits)?
            }
            Token::Char('~') => self.space("0.2778em")?,
            Token::Char(c) if c.is_alphabetic() => self.letter(c)?,
            Token::Char(c) => {
                let operator = match c {
                    '-' => '−',
                    '*' => '∗',
                    c => c,
                };
                self.token_node(Element::Mo, operator.encode_utf8(&mut [0; 4]))?
            }
            Token::Command(name) => return self.command(name),
        };
        Ok((node, Limit::Side))
    }

    fn letter(&mut self, c: char) -> Result<Node, TexError> {
        let node = self.token_node(Element::Mi, styled(c, self.style).encode_utf8(&mut [0; 4]))?;
        Ok(match self.style {
            Style::Default | Style::Italic => node,
            _ => node.with(Attribute::Mathvariant, "normal"),
        })
    }

    fn space(&mut self, width: &'static str) -> Result<Node, TexError> {
        Ok(self
            .node(Element::Mspace, Vec::new())?
            .with(Attribute::Width, width))
    }

    fn command(&mut self, name: &'a str) -> Result<(Node, Limit), TexError> {
        if let Some(symbol) = greek(name) {
            let node = self.token_node(Element::Mi, symbol)?;
            let upright = symbol.chars().next().is_some_and(char::is_uppercase);
            let node = if upright {
                node.with(Attribute::Mathvariant, "normal")
            } else {
                node
            };
            return Ok((node, Limit::Side));
        }
        if let Some(symbol) = ordinary(name) {
            return Ok((self.token_node(Element::Mi, symbol)?, Limit::Side));
        }
        if let Some(symbol) = operator(name) {
            return Ok((self.token_node(Element::Mo, symbol)?, Limit::Side));
        }
        if let Some((symbol, limit)) = large_operator(name) {
            let node = self
                .token_node(Element::Mo, symbol)?
                .with(Attribute::Largeop, "true");
            return Ok((node, limit));
        }
        if let Some(width) = spacing(name) {
            return Ok((self.space(width)?, Limit::Side));
        }
        if is_function_name(name) {
            return Ok((self.token_node(Element::Mi, name)?, Limit::Side));
        }
        if matches!(
            name,
            "lim" | "max" | "min" | "sup" | "inf" | "limsup" | "liminf" | "det" | "gcd" | "Pr"
        ) {
            let text = match name {
                "limsup" => "lim sup",
                "liminf" => "lim inf",
                _ => name,
            };
            return Ok((
                self.token_node(Element::Mo, text)?
                    .with(Attribute::Movablelimits, "true"),
                Limit::Display,
            ));
        }
        if let Some(style) = font(name) {
            let outer = std::mem::replace(&mut self.style, style);
            let argument = self.argument();
            self.style = outer;
            return Ok((argument?, Limit::Side));
        }
        if let Some((mark, over)) = accent(name) {
            let base = self.argument()?;
            let mark = self.token_node(Element::Mo, mark)?;
            let node = if over {
                self.node(Element::Mover, vec![base, mark])?
                    .with(Attribute::Accent, "true")
            } else {
                self.node(Element::Munder, vec![base, mark])?
            };
            let limit = if matches!(name, "overbrace" | "underbrace") {
                Limit::Always
            } else {
                Limit::Side
            };
            return Ok((node, limit));
        }
        let node = match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" | "binom" | "dbinom" | "tbinom" => {
                let numerator = self.argument()?;
                let denominator = self.argument()?;
                let fraction = self.node(Element::Mfrac, vec![numerator, denominator])?;
                let fraction = if name.ends_with("binom") {
                    let fraction = fraction.with(Attribute::Linethickness, "0");
                    let open = self.token_node(Element::Mo, "(")?;
                    let close = self.token_node(Element::Mo, ")")?;
                    self.node(Element::Mrow, vec![open, fraction, close])?
                } else {
                    fraction
                };
                match name.as_bytes()[0] {
                    b'd' | b'c' => self
                        .node(Element::Mstyle, vec![fraction])?
                        .with(Attribute::Displaystyle, "true"),
                    b't' => self
                        .node(Element::Mstyle, vec![fraction])?
                        .with(Attribute::Displaystyle, "false"),
                    _ => fraction,
                }
            }
            "sqrt" => {
                if self.peek_token() == Some(Token::Char('[')) {
                    self.next_token();
                    self.enter()?;
                    let mut index = Vec::new();
                    while !matches!(self.peek_token(), Some(Token::Char(']')) | None) {
                        index.push(self.atom()?);
                    }
                    self.expect(']')?;
                    self.depth -= 1;
                    let index = self.row(index)?;
                    let radicand = self.argument()?;
                    self.node(Element::Mroot, vec![radicand, index])?
                } else {
                    let radicand = self.argument()?;
                    self.node(Element::Msqrt, vec![radicand])?
                }
            }
            "text" | "textrm" | "textup" | "mbox" | "textnormal" | "textbf" | "textit"
            | "texttt" => {
                let text = self.raw_group()?;
                let text: String = text.chars().filter(|c| *c != '{' && *c != '}').collect();
                let style = match name {
                    "textbf" => Style::Bold,
                    "textit" => Style::Italic,
                    "texttt" => Style::Monospace,
                    _ => Style::Upright,
                };
                let text: String = text.chars().map(|c| styled(c, style)).collect();
                self.token_node(Element::Mtext, &text)?
            }
            "operatorname" => {
                let starred = self.text[self.at..].starts_with('*');
                if starred {
                    self.at += 1;
                }
                let text = self.raw_group()?;
                let node = self.token_node(Element::Mi, text.trim())?;
                if starred {
                    return Ok((node, Limit::Display));
                }
                node
            }
            "left" | "bigl" | "Bigl" | "biggl" | "Biggl" | "big" | "Big" | "bigg" | "Bigg"
            | "bigr" | "Bigr" | "biggr" | "Biggr" | "bigm" | "Bigm" | "middle" => {
                let delimiter = self.delimiter()?;
                if name != "left" {
                    return Ok((delimiter, Limit::Side));
                }
                self.enter()?;
                let mut children = vec![delimiter];
                children.extend(self.expression()?);
                match self.next_token() {
                    Some(Token::Command("right")) => children.push(self.delimiter()?),
                    Some(Token::Char(c)) => return Err(TexError::Unexpected(c)),
                    _ => return Err(TexError::UnexpectedEnd),
                }
                self.depth -= 1;
                self.node(Element::Mrow, children)?
            }
            "overset" | "stackrel" | "underset" => {
                let script = self.argument()?;
                let base = self.argument()?;
                let element = if name == "underset" {
                    Element::Munder
                } else {
                    Element::Mover
                };
                self.node(element, vec![base, script])?
            }
            "begin" => self.environment()?,
            "pmod" => {
                let argument = self.argument()?;
                let open = self.token_node(Element::Mo, "(")?;
                let word = self.token_node(Element::Mi, "mod")?;
                let close = self.token_node(Element::Mo, ")")?;
                self.node(Element::Mrow, vec![open, word, argument, close])?
            }
            _ => return Err(TexError::UnknownCommand(name.to_owned())),
        };
        Ok((node, Limit::Side))
    }

    /// The delimiter after `\left`, `\right`, `\big`: `(`, `\{`, `\langle`,
    /// `.` (none).
    fn delimiter(&mut self) -> Result<Node, TexError> {
        let symbol: String = match self.next_token() {
            Some(Token::Char('.')) => String::new(),
            Some(Token::Char(c @ ('(' | ')' | '[' | ']' | '|' | '/' | '<' | '>'))) => c.to_string(),
            Some(Token::Command(name)) => match name {
                "{" | "lbrace" => "{".into(),
                "}" | "rbrace" => "}".into(),
                "|" | "Vert" | "lVert" | "rVert" => "‖".into(),
                "vert" | "lvert" | "rvert" => "|".into(),
                "langle" => "⟨".into(),
                "rangle" => "⟩".into(),
                "lfloor" => "⌊".into(),
                "rfloor" => "⌋".into(),
                "lceil" => "⌈".into(),
                "rceil" => "⌉".into(),
                "backslash" => "\\".into(),
                other => return Err(TexError::UnknownCommand(other.to_owned())),
            },
            Some(Token::Char(c)) => return Err(TexError::Unexpected(c)),
            None => return Err(TexError::UnexpectedEnd),
        };
        if symbol.is_empty() {
            return self.node(Element::Mrow, Vec::new());
        }
        Ok(self
            .token_node(Element::Mo, &symbol)?
            .with(Attribute::Stretchy, "true"))
    }

    /// `\begin{name} ... \end{name}`: matrices, cases and aligned rows as a
    /// table, with the delimiters the environment names.
    fn environment(&mut self) -> Result<Node, TexError> {
        let name = self.raw_group()?;
        let (open, close) = match name {
            "matrix" | "smallmatrix" | "aligned" | "align" | "align*" | "gathered" | "gather"
            | "gather*" | "split" | "array" | "equation" | "equation*" => ("", ""),
            "pmatrix" => ("(", ")"),
            "bmatrix" => ("[", "]"),
            "Bmatrix" => ("{", "}"),
            "vmatrix" => ("|", "|"),
            "Vmatrix" => ("‖", "‖"),
            "cases" => ("{", ""),
            "rcases" => ("", "}"),
            other => return Err(TexError::UnknownEnvironment(other.to_owned())),
        };
        if name == "array" {
            // The column specification (`{cc|l}`) only aligns.
            self.raw_group()?;
        }
        self.enter()?;
        let mut rows = Vec::new();
        let mut cells = Vec::new();
        loop {
            let cell = self.expression()?;
            let cell = self.node(Element::Mtd, cell)?;
            cells.push(cell);
            match self.next_token() {
                Some(Token::Char('&')) => {}
                Some(Token::Command("\\" | "cr")) => {
                    let row = self.node(Element::Mtr, std::mem::take(&mut cells))?;
                    rows.push(row);
                }
                Some(Token::Command("end")) => {
                    let found = self.raw_group()?;
                    if found != name {
                        return Err(TexError::MismatchedEnd {
                            open: name.to_owned(),
                            found: found.to_owned(),
                        });
                    }
                    break;
                }
                Some(Token::Char(c)) => return Err(TexError::Unexpected(c)),
                Some(Token::Command(_)) => return Err(TexError::Unexpected('\\')),
                None => return Err(TexError::UnexpectedEnd),
            }
        }
        // A trailing `\\` leaves one empty cell: no row for it.
        let trailing = cells.len() == 1
            && matches!(&cells[0], Node::Element { children, .. } if children.is_empty());
        if !trailing {
            let row = self.node(Element::Mtr, cells)?;
            rows.push(row);
        }
        self.depth -= 1;
        let table = self.node(Element::Mtable, rows)?;
        if open.is_empty() && close.is_empty() {
            return Ok(table);
        }
        let mut children = Vec::new();
        if !open.is_empty() {
            children.push(
                self.token_node(Element::Mo, open)?
                    .with(Attribute::Stretchy, "true"),
            );
        }
        children.push(table);
        if !close.is_empty() {
            children.push(
                self.token_node(Element::Mo, close)?
                    .with(Attribute::Stretchy, "true"),
            );
        }
        self.node(Element::Mrow, children)
    }
}

/// `c` in a letter style (Unicode's Mathematical Alphanumeric Symbols,
/// with the letters that predate that block where they live instead).
fn styled(c: char, style: Style) -> char {
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

fn font(name: &str) -> Option<Style> {
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

fn greek(name: &str) -> Option<&'static str> {
    lookup(
        "alpha α beta β gamma γ delta δ epsilon ϵ varepsilon ε zeta ζ eta η theta θ vartheta ϑ iota ι kappa κ lambda λ mu μ nu ν xi ξ omicron ο pi π varpi ϖ rho ρ varrho ϱ sigma σ varsigma ς tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω Gamma Γ Delta Δ Theta Θ Lambda Λ Xi Ξ Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω",
        name,
    )
}

fn ordinary(name: &str) -> Option<&'static str> {
    lookup(
        "infty ∞ partial ∂ nabla ∇ emptyset ∅ varnothing ∅ hbar ℏ ell ℓ Re ℜ Im ℑ aleph ℵ wp ℘ prime ′ % % $ $ # # _ _ top ⊤ bot ⊥ angle ∠ triangle △ dagger † ddagger ‡ checkmark ✓ degree °",
        name,
    )
}

fn operator(name: &str) -> Option<&'static str> {
    lookup(
        "pm ± mp ∓ times × div ÷ cdot ⋅ ast ∗ star ⋆ circ ∘ bullet ∙ leq ≤ le ≤ geq ≥ ge ≥ neq ≠ ne ≠ approx ≈ equiv ≡ sim ∼ simeq ≃ cong ≅ propto ∝ ll ≪ gg ≫ subset ⊂ subseteq ⊆ supset ⊃ supseteq ⊇ in ∈ notin ∉ ni ∋ cup ∪ cap ∩ setminus ∖ wedge ∧ land ∧ vee ∨ lor ∨ neg ¬ lnot ¬ forall ∀ exists ∃ nexists ∄ to → rightarrow → leftarrow ← gets ← Rightarrow ⇒ Leftarrow ⇐ leftrightarrow ↔ Leftrightarrow ⇔ iff ⟺ implies ⟹ impliedby ⟸ mapsto ↦ longrightarrow ⟶ longleftarrow ⟵ uparrow ↑ downarrow ↓ mid ∣ parallel ∥ perp ⊥ langle ⟨ rangle ⟩ lfloor ⌊ rfloor ⌋ lceil ⌈ rceil ⌉ lvert | rvert | vert | lVert ‖ rVert ‖ Vert ‖ | ‖ { { } } ldots … dots … cdots ⋯ vdots ⋮ ddots ⋱ colon : oplus ⊕ ominus ⊖ otimes ⊗ odot ⊙ vdash ⊢ models ⊨ therefore ∴ because ∵ & & backslash ∖ prec ≺ succ ≻ preceq ⪯ succeq ⪰ doteq ≐ asymp ≍ leftrightarrows ⇆ hookrightarrow ↪ cdotp ⋅ lt < gt > le ≤ leqslant ⩽ geqslant ⩾",
        name,
    )
}

fn large_operator(name: &str) -> Option<(&'static str, Limit)> {
    if let Some(symbol) = lookup("int ∫ iint ∬ iiint ∭ oint ∮", name) {
        return Some((symbol, Limit::Side));
    }
    lookup(
        "sum ∑ prod ∏ coprod ∐ bigcup ⋃ bigcap ⋂ bigoplus ⨁ bigotimes ⨂ bigodot ⨀ bigvee ⋁ bigwedge ⋀ bigsqcup ⨆",
        name,
    )
    .map(|symbol| (symbol, Limit::Display))
}

fn spacing(name: &str) -> Option<&'static str> {
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

fn is_function_name(name: &str) -> bool {
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp dim ker deg arg hom lcm mod bmod"
        .split(' ')
        .any(|f| f == name)
}

/// `(mark, over)` for accents and over/under lines.
fn accent(name: &str) -> Option<(&'static str, bool)> {
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

#[cfg(test)]
mod tests;
