//! The one place where text from outside is made safe to show: every byte the binary writes to
//! stdout goes through [`SafeWriter`], and strings bound for stderr or a progress bar through
//! [`terminal_safe`]. Feed titles, authors, server error messages and URLs are hostile: a C0 or
//! C1 control character in them could write to the clipboard (OSC 52), disguise a link (OSC 8),
//! move the cursor to hide or overwrite columns, or change the terminal's state.
//!
//! Kept: newline and tab, and carriage return only as part of CR LF (CSV line ends). Removed:
//! every other C0 control (ESC included), DEL and the C1 controls (U+0080 to U+009F, which some
//! terminals obey as 8-bit escapes). JSON is unaffected in meaning (serde_json escapes C0
//! controls itself; a removed C1 character leaves valid JSON), as is CSV.
//!
//! CSV cells that a spreadsheet would run as a formula are defused by [`csv_cell`].

use std::borrow::Cow;
use std::io::{self, Write};

/// Whether `c` is a control character that must not reach a terminal.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
}

/// `text` without the control characters a terminal would obey (CR included).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_unsafe) {
        Cow::Owned(text.chars().filter(|c| !is_unsafe(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// A writer that drops control characters on their way out (see the module docs). Works on
/// bytes, across `write` calls: UTF-8 text passes untouched except for the characters removed.
pub struct SafeWriter<W: Write> {
    inner: W,
    /// A byte held back until the next one says what it starts: `0xC2` (a C1 control's first
    /// byte, or of U+00A0 to U+00BF) or `\r` (kept only before `\n`).
    pending: Option<u8>,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, pending: None }
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        for &byte in bytes {
            match self.pending.take() {
                Some(0xC2) if (0x80..=0x9F).contains(&byte) => continue,
                Some(b'\r') if byte == b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    continue;
                }
                Some(0xC2) => out.push(0xC2),
                _ => {}
            }
            match byte {
                0xC2 | b'\r' => self.pending = Some(byte),
                b'\n' | b'\t' => out.push(byte),
                0x00..=0x1F | 0x7F => {}
                _ => out.push(byte),
            }
        }
        self.inner.write_all(&out)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A lone 0xC2 at the end is not a control: let it through (a lone CR is dropped).
        if self.pending.take() == Some(0xC2) {
            self.inner.write_all(&[0xC2])?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard output, through [`SafeWriter`]: what every command writes to.
pub fn stdout() -> SafeWriter<io::StdoutLock<'static>> {
    SafeWriter::new(io::stdout().lock())
}

/// A CSV cell a spreadsheet will show as text: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (a formula, or the start of one) gets a leading `'`, as OWASP advises. The
/// rule lives in core, where the export and campaign writers use it too.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    infodemic_core::text::csv_cell(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through_writer(chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut writer = SafeWriter::new(&mut out);
            for chunk in chunks {
                writer.write_all(chunk).unwrap();
            }
            writer.flush().unwrap();
        }
        out
    }

    #[test]
    fn escapes_and_c1_controls_are_removed_across_writes() {
        let osc52 = b"title \x1b]52;c;ZXZpbA==\x07 end\n";
        assert_eq!(through_writer(&[osc52]), b"title ]52;c;ZXZpbA== end\n");
        // U+009B (CSI as a C1 control) split between two writes, then U+00A0 (a space) kept.
        assert_eq!(through_writer(&[b"a\xc2", b"\x9b31mb\xc2\xa0c"]), "a31mb\u{a0}c".as_bytes());
        assert_eq!(through_writer(&[b"x\ry\r\nz\x7f"]), b"xy\r\nz");
        assert_eq!(through_writer(&["Brøndby ✓\ttab\n".as_bytes()]), "Brøndby ✓\ttab\n".as_bytes());
    }

    #[test]
    fn strings_lose_the_same_characters() {
        assert_eq!(terminal_safe("ok \u{1b}[2J\u{9d}8;;https://evil\u{7}x\r"), "ok [2J8;;https://evilx");
        assert!(matches!(terminal_safe("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn formulas_are_defused_in_csv_cells() {
        for cell in ["=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(cell).starts_with('\''), "{cell}");
        }
        assert_eq!(csv_cell("Vaccines work"), "Vaccines work");
    }
}
