//! One CSV row built in a reused buffer, numbers formatted by hand: the per-event files take
//! millions of rows, and a row must cost no allocation. The bytes are those the `csv` crate
//! writes by default (fields quoted only when they hold a comma, a quote or a line break).

use std::fmt::Display;
use std::io::{self, Write};
use std::net::Ipv4Addr;

/// A row being built; [`Row::end`] writes it out and starts the next.
#[derive(Default)]
pub(crate) struct Row {
    buf: Vec<u8>,
    /// Fields in the row so far.
    fields: usize,
}

impl Row {
    fn sep(&mut self) {
        if self.fields > 0 {
            self.buf.push(b',');
        }
        self.fields += 1;
    }

    /// An empty field.
    pub fn empty(&mut self) {
        self.sep();
    }

    /// A decimal integer.
    pub fn uint(&mut self, n: u64) {
        self.sep();
        push_uint(&mut self.buf, n);
    }

    /// Nanoseconds as seconds with nine decimals, as `SimTime::csv` writes them.
    pub fn nanos(&mut self, ns: u64) {
        self.sep();
        push_uint(&mut self.buf, ns / 1_000_000_000);
        self.buf.push(b'.');
        let mut frac = ns % 1_000_000_000;
        let mut digits = [b'0'; 9];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        self.buf.extend_from_slice(&digits);
    }

    /// A dotted-quad address.
    pub fn ip(&mut self, a: Ipv4Addr) {
        self.sep();
        for (i, o) in a.octets().into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b'.');
            }
            push_uint(&mut self.buf, u64::from(o));
        }
    }

    /// Text, quoted if it needs to be.
    pub fn text(&mut self, s: &str) {
        self.sep();
        let b = s.as_bytes();
        if b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
            self.buf.push(b'"');
            for &c in b {
                if c == b'"' {
                    self.buf.push(b'"');
                }
                self.buf.push(c);
            }
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(b);
        }
    }

    /// Anything else that prints itself and never needs quoting (flags, say).
    pub fn display(&mut self, d: impl Display) {
        self.sep();
        let _ = write!(self.buf, "{d}");
    }

    /// Ends the row and writes it to `out`.
    pub fn end(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.buf.push(b'\n');
        let r = out.write_all(&self.buf);
        self.buf.clear();
        self.fields = 0;
        r
    }
}

fn push_uint(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the `csv` crate writes for the same fields.
    fn csv_bytes(fields: &[&str]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(fields).unwrap();
        w.into_inner().unwrap()
    }

    #[test]
    fn writes_what_the_csv_crate_writes() {
        let mut row = Row::default();
        let mut out = Vec::new();
        row.nanos(12_000_000_345);
        row.uint(0);
        row.uint(u64::MAX);
        row.ip("10.0.255.1".parse().unwrap());
        row.empty();
        row.text("plain");
        row.text("a, \"quoted\"\nline");
        row.display(1.5);
        row.end(&mut out).unwrap();
        let want = csv_bytes(&[
            "12.000000345",
            "0",
            &u64::MAX.to_string(),
            "10.0.255.1",
            "",
            "plain",
            "a, \"quoted\"\nline",
            "1.5",
        ]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }
}
