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
//!
//! By topic:
//!
//! - tree.rs: the result ([`Node`] of [`Element`]s, [`Attribute`]s and
//!   [`VALUES`]), the bounds ([`Limits`]) and the errors ([`TexError`]);
//! - parser.rs: the grammar, groups, scripts and arguments, with the
//!   bounds counted as it goes;
//! - commands.rs: what each command and environment builds;
//! - symbols.rs: the tables, command names to symbols, letter styles,
//!   spacing and accents.

mod commands;
mod parser;
mod symbols;
mod tree;

pub use tree::{Attribute, Element, Limits, Node, TexError, VALUES, value_index};

use parser::Parser;
use symbols::Style;

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

#[cfg(test)]
mod tests;
