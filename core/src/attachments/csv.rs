//! CSV and TSV, read for a message's preview table: RFC 4180 (quoted
//! fields, `""` inside quotes, separators and line breaks inside quotes,
//! CRLF, LF or CR), a UTF-8 byte-order mark, and the separator detected
//! among `,`, `;` (spreadsheets in locales with a decimal comma) and tab.
//!
//! Written here rather than taken from a crate (ARCHITECTURE.md says why:
//! `csv` reads through `std::io` and brings serde support and buffers a
//! preview does not need; `csv-core` would fit, but its caller-supplied
//! output buffers take as much code as this state machine over bytes). It
//! is lenient where RFC 4180 is strict (a quote inside an unquoted field is
//! kept as text), as files from the wild need.

use crate::session::TablePreview;

/// Data rows a preview shows.
pub const PREVIEW_ROWS: usize = 5;
/// Columns a preview shows (`columns` still counts them all).
pub const PREVIEW_COLUMNS: usize = 12;
/// Characters of a cell a preview shows, the cut marked with `…`.
pub const PREVIEW_CELL_CHARS: usize = 40;

/// The separator of `text`: the most frequent of `,` `;` and tab in its
/// first line (outside quotes); `,` when there is none.
pub fn detect_separator(text: &str) -> u8 {
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for byte in text.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).rev().max_by_key(|&i| counts[i]).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// The records of a CSV text, one at a time. Blank lines (nothing on them,
/// not even `""`) are skipped.
pub struct Records<'a> {
    text: &'a [u8],
    at: usize,
    separator: u8,
}

/// The records of `text` separated by `separator` (a leading BOM skipped).
pub fn records(text: &str, separator: u8) -> Records<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Records {
        text: text.as_bytes(),
        at: 0,
        separator,
    }
}

/// Fields are cut at ASCII bytes only, so each is whole UTF-8.
fn field_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Iterator for Records<'_> {
    type Item = Vec<String>;

    fn next(&mut self) -> Option<Vec<String>> {
        loop {
            if self.at >= self.text.len() {
                return None;
            }
            let (mut record, mut field) = (Vec::new(), Vec::new());
            // Inside quotes; and whether the field was quoted at all.
            let (mut quoted, mut was_quoted) = (false, false);
            while let Some(&byte) = self.text.get(self.at) {
                self.at += 1;
                if quoted {
                    if byte != b'"' {
                        field.push(byte);
                    } else if self.text.get(self.at) == Some(&b'"') {
                        field.push(b'"');
                        self.at += 1;
                    } else {
                        quoted = false;
                    }
                    continue;
                }
                match byte {
                    b'"' if field.is_empty() && !was_quoted => (quoted, was_quoted) = (true, true),
                    b'\r' | b'\n' => {
                        if byte == b'\r' && self.text.get(self.at) == Some(&b'\n') {
                            self.at += 1;
                        }
                        break;
                    }
                    b if b == self.separator => {
                        record.push(field_text(std::mem::take(&mut field)));
                        was_quoted = false;
                    }
                    b => field.push(b),
                }
            }
            if record.is_empty() && field.is_empty() && !was_quoted {
                continue; // a blank line
            }
            record.push(field_text(field));
            return Some(record);
        }
    }
}

/// `cell` cut to [`PREVIEW_CELL_CHARS`] characters, the cut marked.
fn cut(cell: String) -> String {
    if cell.chars().count() <= PREVIEW_CELL_CHARS {
        return cell;
    }
    let mut short: String = cell.chars().take(PREVIEW_CELL_CHARS - 1).collect();
    short.push('…');
    short
}

fn preview_row(row: Vec<String>) -> Vec<String> {
    row.into_iter().take(PREVIEW_COLUMNS).map(cut).collect()
}

/// The preview of a CSV or TSV file (`.tsv` is tab-separated; otherwise the
/// separator is detected): its header, first rows and size. `None` if it is
/// not UTF-8 or holds no record.
pub fn preview(bytes: &[u8], name: &str) -> Option<TablePreview> {
    let text = std::str::from_utf8(bytes).ok()?;
    let separator = if name.to_ascii_lowercase().ends_with(".tsv") {
        b'\t'
    } else {
        detect_separator(text.strip_prefix('\u{feff}').unwrap_or(text))
    };
    let mut all = records(text, separator);
    let header = all.next()?;
    let mut table = TablePreview {
        columns: header.len(),
        rows: 0,
        header: preview_row(header),
        head: Vec::new(),
    };
    for row in all {
        table.columns = table.columns.max(row.len());
        table.rows += 1;
        if table.head.len() < PREVIEW_ROWS {
            table.head.push(preview_row(row));
        }
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        records(text, detect_separator(text)).collect()
    }

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn quotes_hold_separators_newlines_and_quotes() {
        let text = "name,quote,n\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\",3\r\nplain,,\n";
        assert_eq!(
            parse(text),
            rows(&[
                &["name", "quote", "n"],
                &["Smith, J", "said \"hi\"\nthen left", "3"],
                &["plain", "", ""],
            ])
        );
    }

    #[test]
    fn line_ends_boms_and_blank_lines() {
        let text = "\u{feff}a;b\rc;d\r\n\ne;f\n\n\n";
        assert_eq!(detect_separator(text), b';');
        assert_eq!(
            records(text, b';').collect::<Vec<_>>(),
            rows(&[&["a", "b"], &["c", "d"], &["e", "f"]])
        );
        assert_eq!(
            parse("x\n\"\"\n"),
            rows(&[&["x"], &[""]]),
            "a quoted empty row is a row"
        );
        assert_eq!(parse("a\tb\n1\t2"), rows(&[&["a", "b"], &["1", "2"]]));
        assert_eq!(parse(""), Vec::<Vec<String>>::new());
        assert_eq!(
            detect_separator("\"a;b;c\",d\n"),
            b',',
            "separators inside quotes do not count"
        );
    }

    #[test]
    fn a_stray_quote_inside_a_field_is_text() {
        assert_eq!(parse("5\" screen,x\n"), rows(&[&["5\" screen", "x"]]));
    }

    #[test]
    fn a_preview_counts_everything_and_shows_a_little() {
        let mut text = String::from("\u{feff}");
        let header: Vec<String> = (0..15).map(|i| format!("col{i}")).collect();
        text.push_str(&header.join(","));
        text.push_str("\r\n");
        for row in 0..8 {
            let cells: Vec<String> = (0..15)
                .map(|c| {
                    if c == 0 {
                        "x".repeat(50)
                    } else {
                        format!("{row}.{c}")
                    }
                })
                .collect();
            text.push_str(&cells.join(","));
            text.push_str("\r\n");
        }
        text.push_str("\r\n\r\n");
        let table = preview(text.as_bytes(), "data.csv").unwrap();
        assert_eq!((table.columns, table.rows), (15, 8));
        assert_eq!(table.header.len(), PREVIEW_COLUMNS);
        assert_eq!(table.header[0], "col0", "the BOM is not in the first cell");
        assert_eq!(table.head.len(), PREVIEW_ROWS);
        assert_eq!(table.head[0].len(), PREVIEW_COLUMNS);
        assert_eq!(table.head[0][0].chars().count(), PREVIEW_CELL_CHARS);
        assert!(table.head[0][0].ends_with('…'));
        assert_eq!(table.head[4][1], "4.1");
        let tsv = preview(b"a,b\tc\n1,2\t3\n", "x.tsv").unwrap();
        assert_eq!(tsv.header, ["a,b", "c"], ".tsv means tab");
        assert_eq!(preview(b"\xff\xfe", "x.csv"), None);
        assert_eq!(preview(b"\n\n", "x.csv"), None);
    }

    /// A table written the way spreadsheets write it: a field quoted when it
    /// holds a separator, a quote or a line break, or is a lone empty field.
    fn write(table: &[Vec<String>], separator: char) -> String {
        let mut out = String::new();
        for row in table {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| {
                    let needs = cell.contains([separator, '"', '\n', '\r'])
                        || (row.len() == 1 && cell.is_empty());
                    if needs {
                        format!("\"{}\"", cell.replace('"', "\"\""))
                    } else {
                        cell.clone()
                    }
                })
                .collect();
            out.push_str(&cells.join(&separator.to_string()));
            out.push_str("\r\n");
        }
        out
    }

    proptest! {
        #[test]
        fn a_written_table_parses_back_to_itself(
            table in prop::collection::vec(
                prop::collection::vec("[a-z\"\n\r,;\t é]{0,6}", 1..5), 1..6),
            separator in prop::sample::select(vec![',', ';', '\t']),
        ) {
            let text = write(&table, separator);
            let back: Vec<Vec<String>> = records(&text, separator as u8).collect();
            prop_assert_eq!(back, table);
        }
    }
}
