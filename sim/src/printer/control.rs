//! The control protocol of `sim-printer --control ADDR`: one typed command set, used by the
//! binary (server side, also for commands typed on stdin) and by [`PrinterControl`] (client).

use std::fmt;
use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::str::FromStr;
use std::time::Duration;

use super::VirtualPrinter;
use super::model::Paper;

/// One control command: a fault switch, a query or an action.
///
/// `Display` prints the line the protocol carries; `FromStr` parses it back.
///
/// ```
/// use pos_sim::printer::{ControlCommand, Paper};
/// let cmd: ControlCommand = "paper out".parse()?;
/// assert_eq!(cmd, ControlCommand::Paper(Paper::Out));
/// assert_eq!(ControlCommand::PaperOutAfterLines(Some(6)).to_string(), "lines 6");
/// assert!("paper wet".parse::<ControlCommand>().is_err());
/// # Ok::<(), pos_sim::printer::UnknownCommand>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlCommand {
    /// `paper ok|near|out`.
    Paper(Paper),
    /// `cover open|closed`.
    CoverOpen(bool),
    /// `offline` / `online`.
    Offline(bool),
    /// `stall` (stop reading) / `resume`.
    Stall(bool),
    /// `noise on|off`: ASB blocks and stray bytes while printing.
    Noise(bool),
    /// `drop N`: close the connection after N bytes of a job; `drop off`.
    DropAfterBytes(Option<usize>),
    /// `lines N`: paper runs out after N printed lines; `lines off`.
    PaperOutAfterLines(Option<usize>),
    /// `jobs-left N`: paper runs out once N more jobs are printed; `jobs-left off`.
    PaperOutAfterJobs(Option<usize>),
    /// `clear`: a healthy printer again.
    Clear,
    /// `jobs`: list the jobs printed so far.
    Jobs,
    /// `replug`: unplug and plug the USB gadget back in.
    Replug,
}

/// A control line that is no command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown control command {0:?}")]
pub struct UnknownCommand(pub String);

fn count(word: &str) -> Option<Option<usize>> {
    match word {
        "off" => Some(None),
        n => n.parse().ok().map(Some),
    }
}

impl FromStr for ControlCommand {
    type Err = UnknownCommand;

    fn from_str(line: &str) -> Result<Self, UnknownCommand> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let cmd = match words.as_slice() {
            ["paper", "out"] => ControlCommand::Paper(Paper::Out),
            ["paper", "near"] => ControlCommand::Paper(Paper::NearEnd),
            ["paper", "ok"] => ControlCommand::Paper(Paper::Ok),
            ["cover", "open"] => ControlCommand::CoverOpen(true),
            ["cover", "closed"] => ControlCommand::CoverOpen(false),
            ["offline"] => ControlCommand::Offline(true),
            ["online"] => ControlCommand::Offline(false),
            ["stall"] => ControlCommand::Stall(true),
            ["resume"] => ControlCommand::Stall(false),
            ["noise", "on"] => ControlCommand::Noise(true),
            ["noise", "off"] => ControlCommand::Noise(false),
            ["drop", n] => ControlCommand::DropAfterBytes(
                count(n).ok_or_else(|| UnknownCommand(line.to_string()))?,
            ),
            ["lines", n] => ControlCommand::PaperOutAfterLines(
                count(n).ok_or_else(|| UnknownCommand(line.to_string()))?,
            ),
            ["jobs-left", n] => ControlCommand::PaperOutAfterJobs(
                count(n).ok_or_else(|| UnknownCommand(line.to_string()))?,
            ),
            ["clear"] => ControlCommand::Clear,
            ["jobs"] => ControlCommand::Jobs,
            ["replug"] => ControlCommand::Replug,
            _ => return Err(UnknownCommand(line.to_string())),
        };
        Ok(cmd)
    }
}

impl fmt::Display for ControlCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |v: &Option<usize>| v.map_or("off".to_string(), |n| n.to_string());
        match self {
            ControlCommand::Paper(Paper::Out) => f.write_str("paper out"),
            ControlCommand::Paper(Paper::NearEnd) => f.write_str("paper near"),
            ControlCommand::Paper(Paper::Ok) => f.write_str("paper ok"),
            ControlCommand::CoverOpen(true) => f.write_str("cover open"),
            ControlCommand::CoverOpen(false) => f.write_str("cover closed"),
            ControlCommand::Offline(true) => f.write_str("offline"),
            ControlCommand::Offline(false) => f.write_str("online"),
            ControlCommand::Stall(true) => f.write_str("stall"),
            ControlCommand::Stall(false) => f.write_str("resume"),
            ControlCommand::Noise(true) => f.write_str("noise on"),
            ControlCommand::Noise(false) => f.write_str("noise off"),
            ControlCommand::DropAfterBytes(b) => write!(f, "drop {}", n(b)),
            ControlCommand::PaperOutAfterLines(l) => write!(f, "lines {}", n(l)),
            ControlCommand::PaperOutAfterJobs(j) => write!(f, "jobs-left {}", n(j)),
            ControlCommand::Clear => f.write_str("clear"),
            ControlCommand::Jobs => f.write_str("jobs"),
            ControlCommand::Replug => f.write_str("replug"),
        }
    }
}

impl ControlCommand {
    /// Applies a fault switch to `vp`; `false` for queries and actions (jobs, replug), which
    /// the server answers itself.
    pub fn apply(&self, vp: &VirtualPrinter) -> bool {
        match *self {
            ControlCommand::Paper(p) => vp.set_paper(p),
            ControlCommand::CoverOpen(open) => vp.set_cover_open(open),
            ControlCommand::Offline(off) => vp.set_offline(off),
            ControlCommand::Stall(stall) => vp.set_stall(stall),
            ControlCommand::Noise(noise) => vp.set_noise(noise),
            ControlCommand::DropAfterBytes(b) => vp.drop_after_bytes(b),
            ControlCommand::PaperOutAfterLines(l) => vp.paper_out_after_lines(l),
            ControlCommand::PaperOutAfterJobs(j) => vp.paper_out_after_jobs(j),
            ControlCommand::Clear => vp.clear_faults(),
            ControlCommand::Jobs | ControlCommand::Replug => return false,
        }
        true
    }
}

/// Serves one control connection: a command per line; each answer ends with a line `OK` or
/// `ERR …`. `replug` is what the `replug` command does (unplug/plug the gadget).
pub fn serve_control(
    vp: &VirtualPrinter,
    stream: TcpStream,
    replug: &dyn Fn() -> std::io::Result<()>,
) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in std::io::BufReader::new(stream)
        .lines()
        .map_while(Result::ok)
    {
        let reply = match line.parse::<ControlCommand>() {
            Ok(ControlCommand::Jobs) => {
                let mut text = String::new();
                for job in vp.jobs() {
                    text.push_str(if job.complete {
                        "JOB complete\n"
                    } else {
                        "JOB interrupted\n"
                    });
                    text.push_str(&job.transcript());
                    text.push_str("END\n");
                }
                text + "OK\n"
            }
            Ok(ControlCommand::Replug) => match replug() {
                Ok(()) => "OK\n".to_string(),
                Err(e) => format!("ERR {e}\n"),
            },
            Ok(cmd) => {
                cmd.apply(vp);
                "OK\n".to_string()
            }
            Err(e) => format!("ERR {e}\n"),
        };
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Drives a `sim-printer --control ADDR` running in another process (the USB rig's printer
/// gadget helper).
#[derive(Debug)]
pub struct PrinterControl {
    reader: std::io::BufReader<TcpStream>,
    writer: TcpStream,
}

/// A job as the control port reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteJob {
    /// Printed to the end.
    pub complete: bool,
    /// Its transcript.
    pub transcript: String,
}

impl PrinterControl {
    /// Connects, retrying for up to `wait` while the helper starts.
    pub fn connect(addr: &str, wait: Duration) -> std::io::Result<Self> {
        let start = std::time::Instant::now();
        loop {
            match TcpStream::connect(addr) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    return Ok(Self {
                        reader: std::io::BufReader::new(s.try_clone()?),
                        writer: s,
                    });
                }
                Err(e) if start.elapsed() > wait => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Sends one command; returns the answer's lines before `OK`.
    pub fn command(&mut self, cmd: ControlCommand) -> std::io::Result<Vec<String>> {
        self.writer.write_all(format!("{cmd}\n").as_bytes())?;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            let line = line.trim_end_matches('\n').to_string();
            if line == "OK" {
                return Ok(lines);
            }
            if let Some(err) = line.strip_prefix("ERR") {
                return Err(std::io::Error::other(err.trim().to_string()));
            }
            lines.push(line);
        }
    }

    /// The jobs printed so far.
    pub fn jobs(&mut self) -> std::io::Result<Vec<RemoteJob>> {
        let mut jobs = Vec::new();
        let mut current: Option<RemoteJob> = None;
        for line in self.command(ControlCommand::Jobs)? {
            if let Some(state) = line.strip_prefix("JOB ") {
                current = Some(RemoteJob {
                    complete: state == "complete",
                    transcript: String::new(),
                });
            } else if line == "END" {
                jobs.extend(current.take());
            } else if let Some(job) = current.as_mut() {
                job.transcript.push_str(&line);
                job.transcript.push('\n');
            }
        }
        Ok(jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_prints_as_a_line_that_parses_back() {
        let all = [
            ControlCommand::Paper(Paper::Out),
            ControlCommand::Paper(Paper::NearEnd),
            ControlCommand::Paper(Paper::Ok),
            ControlCommand::CoverOpen(true),
            ControlCommand::CoverOpen(false),
            ControlCommand::Offline(true),
            ControlCommand::Offline(false),
            ControlCommand::Stall(true),
            ControlCommand::Stall(false),
            ControlCommand::Noise(true),
            ControlCommand::Noise(false),
            ControlCommand::DropAfterBytes(Some(200)),
            ControlCommand::DropAfterBytes(None),
            ControlCommand::PaperOutAfterLines(Some(6)),
            ControlCommand::PaperOutAfterLines(None),
            ControlCommand::Clear,
            ControlCommand::Jobs,
            ControlCommand::Replug,
        ];
        for cmd in all {
            assert_eq!(cmd.to_string().parse::<ControlCommand>(), Ok(cmd));
        }
        assert!("drop lots".parse::<ControlCommand>().is_err());
    }
}
