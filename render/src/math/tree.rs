//! The result and its bounds: the MathML elements, attributes and values a
//! tree may hold (fixed tables, the only names that reach the page), the
//! nodes, the limits on one formula's work and why a formula is refused.

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
    pub(super) fn new(element: Element, children: Vec<Node>) -> Node {
        Node::Element {
            element,
            attributes: Vec::new(),
            children,
        }
    }

    pub(super) fn with(mut self, attribute: Attribute, value: &'static str) -> Node {
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
