//! One CSV row built in a reused buffer, numbers formatted by hand: the per-event files take
//! millions of rows, and a row must cost no allocation. The bytes are those the `csv` crate
//! writes by default (fields quoted only when they hold a comma, a quote or a line break).

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use super::meter::{CHUNK, Meter, Metered};
use crate::scenario::Compression;
use crate::tcp::{ConnId, Flags};

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
        // The point and nine digits in one write: every time column takes one.
        let mut frac = ns % 1_000_000_000;
        let mut s = [b'.'; 10];
        for k in (0..4).rev() {
            let d = (frac % 100) as usize * 2;
            frac /= 100;
            s[2 + 2 * k..4 + 2 * k].copy_from_slice(&DIGITS[d..d + 2]);
        }
        s[1] = b'0' + frac as u8;
        self.buf.extend_from_slice(&s);
    }

    /// Nanoseconds as [`Row::nanos`] writes them, or an empty field.
    pub fn opt_nanos(&mut self, ns: Option<u64>) {
        match ns {
            Some(ns) => self.nanos(ns),
            None => self.empty(),
        }
    }

    /// A dotted-quad address.
    pub fn ip(&mut self, a: Ipv4Addr) {
        self.sep();
        push_ip(&mut self.buf, a);
    }

    /// An address and port, `10.0.0.1:80`, as `SocketAddrV4` displays it.
    pub fn socket(&mut self, a: SocketAddrV4) {
        self.sep();
        push_ip(&mut self.buf, *a.ip());
        self.buf.push(b':');
        push_uint(&mut self.buf, u64::from(a.port()));
    }

    /// TCP flags as their `Display` writes them (tcpdump-like: "S.", "P.", "none").
    pub fn flags(&mut self, f: Flags) {
        self.sep();
        let start = self.buf.len();
        for (flag, c) in [
            (Flags::SYN, b'S'),
            (Flags::FIN, b'F'),
            (Flags::RST, b'R'),
            (Flags::PSH, b'P'),
        ] {
            if f.contains(flag) {
                self.buf.push(c);
            }
        }
        if f.ack() {
            self.buf.push(b'.');
        }
        if self.buf.len() == start {
            self.buf.extend_from_slice(b"none");
        }
    }

    /// A connection incarnation as the output files name it (`client#2`, see
    /// [`conn_name`](super::conn_name)), its host named from `hosts` by id; empty for the
    /// number 0.
    pub fn conn(&mut self, hosts: &[String], c: ConnId) {
        let host = host_name(hosts, c.host);
        let n = c.n;
        if n == 0 {
            return self.empty();
        }
        if needs_quotes(host.as_bytes()) {
            return self.text(&format!("{host}#{n}"));
        }
        self.sep();
        self.buf.extend_from_slice(host.as_bytes());
        self.buf.push(b'#');
        push_uint(&mut self.buf, u64::from(n));
    }

    /// A field `write` appends straight to the row: for text made of fixed words and numbers,
    /// which never needs quoting.
    pub fn plain(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.sep();
        let start = self.buf.len();
        write(&mut self.buf);
        debug_assert!(!needs_quotes(&self.buf[start..]));
    }

    /// A node's name, from the nodes' names by id.
    pub fn host(&mut self, hosts: &[String], id: u32) {
        self.text(host_name(hosts, id));
    }

    /// Text, quoted if it needs to be.
    pub fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Text given as bytes, quoted if it needs to be.
    pub fn bytes(&mut self, b: &[u8]) {
        self.sep();
        if needs_quotes(b) {
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

    /// Ends the row and writes it to `out`.
    #[cfg(test)]
    pub fn end(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.line();
        let r = out.write_all(&self.buf);
        self.buf.clear();
        r
    }

    /// Ends the row; the next field starts a new one in the same buffer.
    fn line(&mut self) {
        self.buf.push(b'\n');
        self.fields = 0;
    }
}

/// A CSV file written row by row. Rows are built in place in the buffer that goes to the
/// file's writer thread, so a row's bytes are never copied on this thread.
pub(crate) struct CsvFile {
    out: Metered,
    /// The rows gathered so far, the last one being built.
    pub row: Row,
}

impl CsvFile {
    /// Creates `path` (counted by `meter`, stored as `compress` says) and writes the header
    /// row.
    pub fn create_compressed(
        path: &Path,
        header: &[&str],
        meter: &Meter,
        compress: Compression,
    ) -> io::Result<CsvFile> {
        let mut f = CsvFile {
            out: meter.create_compressed(path, compress)?,
            row: Row {
                buf: Vec::with_capacity(CHUNK),
                fields: 0,
            },
        };
        for c in header {
            f.row.text(c);
        }
        f.end()?;
        Ok(f)
    }

    /// Ends the row being built; hands the rows to the writer thread once they fill a chunk.
    pub fn end(&mut self) -> io::Result<()> {
        self.row.line();
        if self.row.buf.len() >= CHUNK {
            let full = std::mem::take(&mut self.row.buf);
            self.row.buf = self.out.send_chunk(full)?;
        }
        Ok(())
    }

    /// Flushes everything to disk.
    pub fn flush(&mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.row.buf);
        self.row.buf = self.out.send_chunk(rest)?;
        self.out.flush()
    }
}

/// Node `id`'s name in `hosts` ("?" past the end: a record cannot name a node the run lacks).
fn host_name(hosts: &[String], id: u32) -> &str {
    hosts.get(id as usize).map_or("?", String::as_str)
}

/// Whether the `csv` crate would quote this field.
fn needs_quotes(b: &[u8]) -> bool {
    b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
}

/// Two decimal digits of every number below 100.
const DIGITS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `n` in decimal.
pub(crate) fn push_uint(buf: &mut Vec<u8>, mut n: u64) {
    // Most numbers written are counts and small ids.
    if n < 10 {
        buf.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGITS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGITS[d..d + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends a dotted-quad address, built on the stack and written at once (two per row of
/// states.csv).
fn push_ip(buf: &mut Vec<u8>, a: Ipv4Addr) {
    let mut s = [0u8; 15];
    let mut len = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            s[len] = b'.';
            len += 1;
        }
        if o >= 100 {
            s[len] = b'0' + o / 100;
            len += 1;
        }
        if o >= 10 {
            s[len] = b'0' + o / 10 % 10;
            len += 1;
        }
        s[len] = b'0' + o % 10;
        len += 1;
    }
    buf.extend_from_slice(&s[..len]);
}

/// Appends a duration of `ns` nanoseconds as `sim::Duration` displays it: the largest unit
/// that keeps the value readable, trailing zeros of the fraction dropped ("120us", "1.5ms").
pub(crate) fn push_duration(buf: &mut Vec<u8>, ns: u64) {
    let (unit, width, name): (u64, usize, &[u8]) = if ns >= 1_000_000_000 {
        (1_000_000_000, 9, b"s")
    } else if ns >= 1_000_000 {
        (1_000_000, 6, b"ms")
    } else if ns >= 1_000 {
        (1_000, 3, b"us")
    } else {
        push_uint(buf, ns);
        buf.extend_from_slice(b"ns");
        return;
    };
    push_uint(buf, ns / unit);
    let mut frac = ns % unit;
    if frac != 0 {
        let mut digits = [b'0'; 9];
        for d in digits[..width].iter_mut().rev() {
            *d = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        let mut len = width;
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        buf.push(b'.');
        buf.extend_from_slice(&digits[..len]);
    }
    buf.extend_from_slice(name);
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
        row.end(&mut out).unwrap();
        let want = csv_bytes(&[
            "12.000000345",
            "0",
            &u64::MAX.to_string(),
            "10.0.255.1",
            "",
            "plain",
            "a, \"quoted\"\nline",
        ]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn every_octet_and_every_fraction_digit_as_display_writes_them() {
        let mut buf = Vec::new();
        for o in 0..=255u8 {
            let a = Ipv4Addr::new(o, 255 - o, o / 3, o.wrapping_mul(7));
            buf.clear();
            push_ip(&mut buf, a);
            assert_eq!(buf, a.to_string().as_bytes());
        }
        // Each of the nine decimals on its own, then all of them at once.
        let mut cases = vec![0, 999_999_999, 1_000_000_000, 123_456_789_012];
        let mut d = 1;
        for _ in 0..9 {
            cases.extend([d, 7 * d, 1_000_000_000 + 9 * d]);
            d *= 10;
        }
        for ns in cases {
            let mut row = Row::default();
            row.nanos(ns);
            let want = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
            assert_eq!(String::from_utf8_lossy(&row.buf), want, "{ns} ns");
        }
    }

    #[test]
    fn numbers_flags_and_addresses_as_display_writes_them() {
        let mut buf = Vec::new();
        let mut n = 1u64;
        let mut cases = vec![0, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        while n < u64::MAX / 7 {
            cases.extend([n, n - 1, n + 1]);
            n *= 7;
        }
        for n in cases {
            buf.clear();
            push_uint(&mut buf, n);
            assert_eq!(buf, n.to_string().as_bytes());
            buf.clear();
            push_duration(&mut buf, n);
            let want = crate::sim::Duration::from_nanos(n).to_string();
            assert_eq!(String::from_utf8_lossy(&buf), want, "{n} ns");
        }
        for bits in 0..=255u8 {
            let mut row = Row::default();
            row.flags(Flags(bits));
            row.buf.push(b'\n');
            assert_eq!(row.buf, format!("{}\n", Flags(bits)).into_bytes());
        }
        let mut row = Row::default();
        let a: SocketAddrV4 = "10.0.255.1:65535".parse().unwrap();
        row.socket(a);
        row.opt_nanos(None);
        row.opt_nanos(Some(5));
        let mut out = Vec::new();
        row.end(&mut out).unwrap();
        assert_eq!(out, csv_bytes(&[&a.to_string(), "", "0.000000005"]));
    }
}
