//! Results as JUnit XML (one test case per scenario on this bench) and an HTML summary.

use std::fmt::Write as _;
use std::time::Duration;

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It proved its claim; what it saw.
    Passed(String),
    /// It did not; why.
    Failed(String),
    /// This bench cannot run it; why.
    Skipped(String),
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioResult {
    /// Scenario name (`contact/emv-online`).
    pub name: String,
    /// What it proves.
    pub proves: String,
    /// Outcome.
    pub outcome: Outcome,
    /// How long it took.
    pub time: Duration,
    /// The receipts the (virtual) printer rendered while it ran, as PNG files.
    pub receipts: Vec<std::path::PathBuf>,
}

/// The run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The bench name.
    pub bench: String,
    /// The devices, role by role.
    pub devices: Vec<(&'static str, String)>,
    /// Every scenario.
    pub results: Vec<ScenarioResult>,
}

fn xml(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

impl Report {
    /// Scenarios that failed.
    pub fn failures(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }

    /// Scenarios skipped.
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
            .count()
    }

    /// JUnit XML.
    pub fn junit(&self) -> String {
        let total: f64 = self.results.iter().map(|r| r.time.as_secs_f64()).sum();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites><testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{total:.3}\">",
            xml(&self.bench),
            self.results.len(),
            self.failures(),
            self.skipped()
        );
        for r in &self.results {
            let _ = write!(
                out,
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                xml(&self.bench),
                xml(&r.name),
                r.time.as_secs_f64()
            );
            match &r.outcome {
                Outcome::Passed(detail) => {
                    let _ = write!(out, "<system-out>{}</system-out>", xml(detail));
                }
                Outcome::Failed(why) => {
                    let _ = write!(out, "<failure message=\"{}\"/>", xml(why));
                }
                Outcome::Skipped(why) => {
                    let _ = write!(out, "<skipped message=\"{}\"/>", xml(why));
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite></testsuites>\n");
        out
    }

    /// The HTML summary, receipt images linked by absolute path.
    pub fn html(&self) -> String {
        self.html_in(std::path::Path::new("/"))
    }

    /// The HTML summary as written into `dir`: receipt images under it are linked relative
    /// to it, so the report and its images can be moved (or served) together.
    pub fn html_in(&self, dir: &std::path::Path) -> String {
        let mut out = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>{0}</title><h1>Bench {0}</h1>\n<p>{1} scenarios: {2} passed, {3} failed, {4} skipped</p>\n<h2>Devices</h2><table border=1>",
            xml(&self.bench),
            self.results.len(),
            self.results.len() - self.failures() - self.skipped(),
            self.failures(),
            self.skipped()
        );
        for (role, what) in &self.devices {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", xml(role), xml(what));
        }
        out.push_str("</table>\n<h2>Scenarios</h2><table border=1><tr><th>scenario</th><th>proves</th><th>result</th><th>time</th><th>detail</th><th>receipts</th></tr>\n");
        for r in &self.results {
            let (verdict, detail) = match &r.outcome {
                Outcome::Passed(d) => ("passed", d),
                Outcome::Failed(d) => ("FAILED", d),
                Outcome::Skipped(d) => ("skipped", d),
            };
            let mut images = String::new();
            for png in &r.receipts {
                let link = png.strip_prefix(dir).unwrap_or(png);
                let _ = write!(
                    images,
                    "<a href=\"{0}\"><img src=\"{0}\" width=\"96\" alt=\"receipt\"></a>",
                    xml(&link.to_string_lossy())
                );
            }
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{verdict}</td><td>{:.2} s</td><td>{}</td><td>{images}</td></tr>",
                xml(&r.name),
                xml(&r.proves),
                r.time.as_secs_f64(),
                xml(detail)
            );
        }
        out.push_str("</table>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_counts_and_escapes() {
        let report = Report {
            bench: "b<1>".into(),
            devices: vec![("host", "sim".into())],
            results: vec![
                ScenarioResult {
                    name: "a".into(),
                    proves: "x".into(),
                    outcome: Outcome::Passed("ok & fine".into()),
                    time: Duration::from_millis(10),
                    receipts: vec!["/out/scratch/receipts/job-001.png".into()],
                },
                ScenarioResult {
                    name: "b".into(),
                    proves: "y".into(),
                    outcome: Outcome::Failed("\"bad\"".into()),
                    time: Duration::ZERO,
                    receipts: Vec::new(),
                },
                ScenarioResult {
                    name: "c".into(),
                    proves: "z".into(),
                    outcome: Outcome::Skipped("no reader".into()),
                    time: Duration::ZERO,
                    receipts: Vec::new(),
                },
            ],
        };
        let x = report.junit();
        assert!(
            x.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{x}"
        );
        assert!(
            x.contains("b&lt;1&gt;")
                && x.contains("ok &amp; fine")
                && x.contains("&quot;bad&quot;")
        );
        assert!(report.html().contains("1 failed"));
        let html = report.html_in(std::path::Path::new("/out"));
        assert!(
            html.contains("<img src=\"scratch/receipts/job-001.png\""),
            "{html}"
        );
    }
}
