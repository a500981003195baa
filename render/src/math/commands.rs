//! What each command builds: symbols, functions and large operators from
//! the tables, fonts, accents, fractions, roots, text, delimiters and
//! environments (matrices, cases, aligned rows). A command not listed here
//! is an error.

use super::parser::{Parser, Token};
use super::symbols::{
    Limit, Style, accent, font, greek, is_function_name, large_operator, operator, ordinary,
    spacing, styled,
};
use super::tree::{Attribute, Element, Node, TexError};

impl<'a> Parser<'a> {
    pub(super) fn command(&mut self, name: &'a str) -> Result<(Node, Limit), TexError> {
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
