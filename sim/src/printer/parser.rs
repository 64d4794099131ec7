//! The ESC/POS stream parser: commands in, elements, jobs and status answers out.

use std::sync::Mutex;

use super::lock;
use super::model::{Element, Faults, Job, Paper, State, Style};

/// What the connection loop must do after feeding bytes.
pub(crate) enum Verdict {
    Continue,
    Drop,
}

/// Parser state of one connection.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    pending: Vec<u8>,
    style: Style,
    chinese: bool,
    line: Vec<u8>,
    elements: Vec<Element>,
    lines_in_job: usize,
    interrupted: bool,
    qr_data: String,
    qr_size: u8,
    job_bytes: usize,
}

/// Bytes a command needs beyond the bytes available, or its length.
enum Need {
    More,
    Len(usize),
}

impl Parser {
    fn log(&self, state: &Mutex<State>, text: String) {
        lock(state).log.push(text);
    }

    fn flush_line(&mut self, state: &Mutex<State>) {
        let text = if self.chinese {
            encoding_rs::GB18030
                .decode_without_bom_handling(&self.line)
                .0
                .into_owned()
        } else {
            String::from_utf8_lossy(&self.line).into_owned()
        };
        self.line.clear();
        self.push(Element::Text(text, self.style), state);
    }

    fn push(&mut self, element: Element, state: &Mutex<State>) {
        if self.interrupted {
            return;
        }
        let mut s = lock(state);
        if s.faults.paper_out_after_jobs == Some(0) {
            // The roll ended with the last job: this one finds no paper.
            s.faults.paper = Paper::Out;
            s.faults.paper_out_after_jobs = None;
        }
        let blocked = s.faults.paper == Paper::Out || s.faults.cover_open || s.faults.offline;
        if blocked {
            self.interrupted = true;
            return;
        }
        self.elements.push(element);
        self.lines_in_job += 1;
        if let Some(n) = s.faults.paper_out_after_lines
            && self.lines_in_job >= n
        {
            s.faults.paper = Paper::Out;
            s.faults.paper_out_after_lines = None;
        }
    }

    fn end_job(&mut self, state: &Mutex<State>) {
        if !self.line.is_empty() {
            self.flush_line(state);
        }
        let elements = std::mem::take(&mut self.elements);
        let complete = !self.interrupted;
        self.interrupted = false;
        self.lines_in_job = 0;
        self.job_bytes = 0;
        let (width, out_dir, index) = {
            let s = lock(state);
            (s.width_dots, s.out_dir.clone(), s.jobs.len() + 1)
        };
        let png = out_dir.and_then(|dir| {
            let path = dir.join(format!("job-{index:03}.png"));
            super::render::render_png(&elements, width, &path)
                .ok()
                .map(|_| path)
        });
        let mut s = lock(state);
        s.jobs.push(Job {
            elements,
            complete,
            png,
        });
        if complete && let Some(n) = s.faults.paper_out_after_jobs {
            s.faults.paper_out_after_jobs = Some(n.saturating_sub(1));
        }
    }

    /// A connection closed mid-job: what was received is not a printed job.
    pub(crate) fn abandon(&mut self, state: &Mutex<State>) {
        if !self.elements.is_empty() || !self.line.is_empty() {
            self.log(state, "connection closed mid-job; job discarded".into());
        }
    }

    fn status_byte(n: u8, f: &Faults) -> Option<u8> {
        let stopped = f.offline || f.cover_open || f.paper == Paper::Out;
        Some(match n {
            1 => {
                if stopped {
                    0x1E
                } else {
                    0x16
                }
            }
            2 => {
                0x12 | if f.cover_open { 0x04 } else { 0 }
                    | if f.paper == Paper::Out { 0x20 } else { 0 }
            }
            3 => 0x12,
            4 => match f.paper {
                Paper::Ok => 0x12,
                Paper::NearEnd => 0x1E,
                Paper::Out => 0x7E,
            },
            _ => return None,
        })
    }

    /// Length of the command at the start of `b`.
    fn command_len(b: &[u8]) -> Need {
        let need = |n: usize| {
            if b.len() >= n {
                Need::Len(n)
            } else {
                Need::More
            }
        };
        match b {
            [0x1B] | [0x1D] | [0x1C] | [0x10] => Need::More,
            [0x1B, c, ..] => match c {
                b'@' | b'<' | b'2' | b'=' | b'J' => {
                    need(if *c == b'J' || *c == b'=' { 3 } else { 2 })
                }
                b'p' => need(5),
                b'!' | b'a' | b'E' | b'-' | b'G' | b'M' | b'd' | b'3' | b't' | b'R' | b'V'
                | b'{' | b'c' | b'r' => need(3),
                _ => Need::Len(2),
            },
            [0x1D, c, ..] => match c {
                b'V' => match b.get(2) {
                    None => Need::More,
                    Some(65 | 66) => need(4),
                    Some(_) => need(3),
                },
                b'k' => match b.get(2) {
                    None => Need::More,
                    Some(m) if *m <= 6 => match b[3..].iter().position(|x| *x == 0) {
                        Some(p) => Need::Len(3 + p + 1),
                        None => Need::More,
                    },
                    Some(_) => match b.get(3) {
                        None => Need::More,
                        Some(n) => need(4 + usize::from(*n)),
                    },
                },
                b'(' => match (b.get(3), b.get(4)) {
                    (Some(l), Some(h)) => need(5 + usize::from(*l) + 256 * usize::from(*h)),
                    _ => Need::More,
                },
                b'L' | b'W' | b'P' => need(4),
                b'!' | b'H' | b'w' | b'h' | b'f' | b'B' | b'b' | b'r' | b'a' | b'I' => need(3),
                _ => Need::Len(2),
            },
            [0x1C, c, ..] => match c {
                b'&' | b'.' => need(2),
                b'C' | b'!' => need(3),
                _ => Need::Len(2),
            },
            [0x10, 0x04, ..] => need(3),
            [0x10, 0x14, ..] => need(5),
            [0x10, 0x05, ..] => need(3),
            [0x10, ..] => Need::Len(1),
            _ => Need::Len(1),
        }
    }

    pub(crate) fn feed(
        &mut self,
        data: &[u8],
        state: &Mutex<State>,
        replies: &mut Vec<u8>,
    ) -> Verdict {
        self.pending.extend_from_slice(data);
        self.job_bytes += data.len();
        let drop_now = {
            let mut s = lock(state);
            s.bytes_received += data.len();
            s.faults
                .drop_after_bytes
                .is_some_and(|n| self.job_bytes >= n)
        };
        if drop_now {
            lock(state).faults.drop_after_bytes = None;
            self.pending.clear();
            self.elements.clear();
            self.line.clear();
            self.log(state, "fault: connection dropped mid-job".into());
            return Verdict::Drop;
        }
        let mut at = 0;
        while at < self.pending.len() {
            let rest = &self.pending[at..];
            let first = rest[0];
            if first >= 0x20 || (self.chinese && first >= 0x80) {
                self.line.push(first);
                at += 1;
                continue;
            }
            if first == 0x0A {
                self.flush_line(state);
                at += 1;
                continue;
            }
            if first == 0x0D || first == 0x00 {
                at += 1;
                continue;
            }
            let Need::Len(n) = Self::command_len(rest) else {
                break;
            };
            let cmd = rest[..n].to_vec();
            at += n;
            self.command(&cmd, state, replies);
        }
        self.pending.drain(..at);
        let faults = lock(state).faults.clone();
        if faults.noise {
            replies.extend_from_slice(&Self::asb(&faults));
            replies.push(0x00);
        }
        Verdict::Continue
    }

    /// An Automatic Status Back block: `0xx1xx00` then three `0xx0xxxx` bytes (drawer, offline
    /// and cover in the first; paper near end / end in the third).
    fn asb(f: &Faults) -> [u8; 4] {
        let first = 0x10 | if f.offline { 0x08 } else { 0 } | if f.cover_open { 0x20 } else { 0 };
        let paper = match f.paper {
            Paper::Ok => 0x00,
            Paper::NearEnd => 0x03,
            Paper::Out => 0x0F,
        };
        [first, 0x00, paper, 0x00]
    }

    fn command(&mut self, cmd: &[u8], state: &Mutex<State>, replies: &mut Vec<u8>) {
        let arg = |i: usize| cmd.get(i).copied().unwrap_or(0);
        // Style changes end the current text run.
        let had_text = !self.line.is_empty();
        let ends_text = matches!(cmd.first(), Some(0x1B | 0x1D))
            && had_text
            && !matches!(cmd, [0x1B, b'p', ..]);
        if ends_text {
            self.flush_line(state);
        }
        match cmd {
            [0x10, 0x04, n] => {
                if let Some(b) = Self::status_byte(*n, &lock(state).faults) {
                    replies.push(b);
                }
            }
            [0x1B, b'@'] => self.style = Style::default(),
            [0x1B, b'a', ..] => self.style.align = arg(2) % 48 % 3,
            [0x1B, b'E', ..] => self.style.bold = arg(2) & 1 == 1,
            // ESC d n prints the line buffer and feeds n lines: the first feed ends the text line.
            [0x1B, b'd', ..] => {
                let extra = if had_text {
                    arg(2).saturating_sub(1)
                } else {
                    arg(2)
                };
                if extra > 0 {
                    self.push(Element::Feed(extra), state);
                }
            }
            [0x1B, b'p', ..] => lock(state).drawer_pulses.push(cmd.to_vec()),
            [0x1D, b'!', ..] => {
                self.style.width = (arg(2) >> 4) + 1;
                self.style.height = (arg(2) & 0x0F) + 1;
            }
            [0x1D, b'V', ..] => self.end_job(state),
            [0x1D, b'r', ..] => {
                // Buffered: answered only when reached, and not while stopped.
                let f = lock(state).faults.clone();
                if f.paper != Paper::Out && !f.cover_open && !f.offline {
                    replies.push(if f.paper == Paper::NearEnd {
                        0x03
                    } else {
                        0x00
                    });
                }
            }
            [0x1D, b'k', m, ..] => {
                let data = if *m <= 6 {
                    &cmd[3..cmd.len() - 1]
                } else {
                    &cmd[4..]
                };
                let text =
                    String::from_utf8_lossy(data.strip_prefix(b"{B").unwrap_or(data)).into_owned();
                self.push(Element::Barcode(*m, text), state);
            }
            [0x1D, b'(', b'k', _, _, 49, 67, size] => self.qr_size = *size,
            [0x1D, b'(', b'k', _, _, 49, 80, 48, data @ ..] => {
                self.qr_data = String::from_utf8_lossy(data).into_owned()
            }
            [0x1D, b'(', b'k', _, _, 49, 81, ..] => {
                let data = std::mem::take(&mut self.qr_data);
                self.push(Element::Qr(data, self.qr_size.max(1)), state);
            }
            [0x1D, b'(', b'k', ..] => {}
            [0x1C, b'&'] => self.chinese = true,
            [0x1C, b'.'] => self.chinese = false,
            [
                0x1B,
                b'-' | b'G' | b'M' | b'3' | b't' | b'R' | b'2' | b'V' | b'{',
                ..,
            ]
            | [
                0x1D,
                b'H' | b'w' | b'h' | b'f' | b'B' | b'b' | b'L' | b'W' | b'P' | b'a',
                ..,
            ]
            | [0x1C, b'C' | b'!', ..] => {}
            other => {
                let shown: Vec<String> = other.iter().map(|b| format!("{b:02x}")).collect();
                self.log(state, format!("unknown command {}", shown.join(" ")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::VirtualPrinter;
    use std::sync::Arc;

    fn parse(bytes: &[u8]) -> (Arc<Mutex<State>>, Vec<u8>) {
        let state = VirtualPrinter::new_state(384, None);
        let mut p = Parser::default();
        let mut replies = Vec::new();
        // One byte at a time: commands split across reads must still parse.
        for b in bytes {
            let _ = p.feed(&[*b], &state, &mut replies);
        }
        (state, replies)
    }

    #[test]
    fn parses_text_styles_qr_and_cut_split_at_every_byte() {
        let mut job = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01];
        job.extend_from_slice(&[0xC7, 0xA9, 0xB9, 0xBA, 0xB5, 0xA5, 0x0A]); // 签购单
        job.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x04]);
        job.extend_from_slice(&[
            0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, b'R', b'R', b'N', b'1',
        ]);
        job.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        job.extend_from_slice(&[0x10, 0x04, 0x01, 0x1D, 0x56, 0x41, 0x01]);
        let (state, replies) = parse(&job);
        assert_eq!(replies, vec![0x16]);
        let s = lock(&state);
        assert_eq!(s.jobs.len(), 1);
        assert_eq!(s.jobs[0].transcript(), "签购单\n[QR RRN1]\n");
        assert!(s.jobs[0].complete);
        assert!(s.log.is_empty(), "{:?}", s.log);
    }

    #[test]
    fn unknown_commands_are_logged_not_fatal() {
        let (state, _) = parse(&[0x1B, 0x7F, b'o', b'k', 0x0A, 0x1D, 0x56, 0x00]);
        let s = lock(&state);
        assert_eq!(s.jobs[0].transcript(), "ok\n");
        assert_eq!(s.log.len(), 1);
    }
}
