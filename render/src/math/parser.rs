//! The grammar: tokens, groups, `\over` fractions, a base and its scripts,
//! arguments. Every node is made through `Parser::node`, which counts it
//! against the bounds; depth is counted on the way into a group.

use super::symbols::{Limit, Style, styled};
use super::tree::{Attribute, Element, Limits, Node, TexError};

/// What ends an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'a> {
    Command(&'a str),
    Char(char),
}

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
    pub(super) depth: usize,
    pub(super) nodes: usize,
    pub(super) limits: Limits,
    pub(super) display: bool,
    pub(super) style: Style,
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&mut self) -> Option<char> {
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
    pub(super) fn peek_token(&mut self) -> Option<Token<'a>> {
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

    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        let token = self.peek_token()?;
        self.at += match token {
            Token::Command(name) => 1 + name.len(),
            Token::Char(c) => c.len_utf8(),
        };
        Some(token)
    }

    pub(super) fn enter(&mut self) -> Result<(), TexError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(TexError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }

    pub(super) fn node(&mut self, element: Element, children: Vec<Node>) -> Result<Node, TexError> {
        self.nodes += 1 + children.len();
        if self.nodes > self.limits.max_nodes {
            return Err(TexError::TooManyNodes {
                max: self.limits.max_nodes,
            });
        }
        Ok(Node::new(element, children))
    }

    pub(super) fn token_node(&mut self, element: Element, text: &str) -> Result<Node, TexError> {
        self.node(element, vec![Node::Text(text.to_owned())])
    }

    /// One node for a list: itself if it is one, else an `mrow`.
    pub(super) fn row(&mut self, mut children: Vec<Node>) -> Result<Node, TexError> {
        if children.len() == 1 {
            Ok(children.pop().unwrap_or(Node::Text(String::new())))
        } else {
            self.node(Element::Mrow, children)
        }
    }

    /// Atoms until the end, a `}`, `&`, `\\`, `\end` or `\right` (left for
    /// the caller). `\over` and its kin split the group into a fraction.
    pub(super) fn expression(&mut self) -> Result<Vec<Node>, TexError> {
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
    pub(super) fn atom(&mut self) -> Result<Node, TexError> {
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
    pub(super) fn argument(&mut self) -> Result<Node, TexError> {
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

    pub(super) fn expect(&mut self, c: char) -> Result<(), TexError> {
        match self.next_token() {
            Some(Token::Char(found)) if found == c => Ok(()),
            Some(Token::Char(found)) => Err(TexError::Unexpected(found)),
            Some(Token::Command(_)) => Err(TexError::Unexpected('\\')),
            None => Err(TexError::UnexpectedEnd),
        }
    }

    /// The raw text of a `{...}` argument (for `\text`, environment names).
    pub(super) fn raw_group(&mut self) -> Result<&'a str, TexError> {
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

    pub(super) fn space(&mut self, width: &'static str) -> Result<Node, TexError> {
        Ok(self
            .node(Element::Mspace, Vec::new())?
            .with(Attribute::Width, width))
    }
}
