//! The printer's state: paper, faults, and the jobs it printed.

use std::path::PathBuf;

/// The paper sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// Plenty.
    #[default]
    Ok,
    /// Near end.
    NearEnd,
    /// Out: printing stops, the rest of the job is lost (reported as not printed).
    Out,
}

/// Faults, set through [`VirtualPrinter`]; the default is a healthy printer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    pub(crate) paper: Paper,
    pub(crate) cover_open: bool,
    pub(crate) offline: bool,
    pub(crate) stall: bool,
    pub(crate) noise: bool,
    pub(crate) babble: bool,
    pub(crate) drop_after_bytes: Option<usize>,
    pub(crate) paper_out_after_lines: Option<usize>,
    pub(crate) paper_out_after_jobs: Option<usize>,
}

/// How a line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// 0 left, 1 centre, 2 right.
    pub align: u8,
    /// Bold.
    pub bold: bool,
    /// Width multiplier.
    pub width: u8,
    /// Height multiplier.
    pub height: u8,
}

/// One printed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A line of text.
    Text(String, Style),
    /// A QR code with its data and module size.
    Qr(String, u8),
    /// A barcode (symbology code, data).
    Barcode(u8, String),
    /// Blank lines.
    Feed(u8),
}

/// A finished job.
#[derive(Debug, Clone)]
pub struct Job {
    /// What was printed.
    pub elements: Vec<Element>,
    /// False when paper ran out or the cover opened before the cut.
    pub complete: bool,
    /// The rendered image (when an output directory is set).
    pub png: Option<PathBuf>,
}

impl Job {
    /// The text lines (QR and barcodes as `[QR data]` / `[BARCODE data]`).
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for e in &self.elements {
            match e {
                Element::Text(t, _) => out.push_str(t),
                Element::Qr(d, _) => out.push_str(&format!("[QR {d}]")),
                Element::Barcode(_, d) => out.push_str(&format!("[BARCODE {d}]")),
                Element::Feed(_) => {}
            }
            out.push('\n');
        }
        out
    }
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) faults: Faults,
    pub(crate) width_dots: u32,
    pub(crate) out_dir: Option<PathBuf>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) log: Vec<String>,
    pub(crate) drawer_pulses: Vec<Vec<u8>>,
    pub(crate) bytes_received: usize,
}
