//! A device-neutral receipt: what to print, not how. Drivers encode it (ESC/POS, GB18030…).

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Align {
    /// Left (default).
    #[default]
    Left,
    /// Centred.
    Center,
    /// Right.
    Right,
}

/// Character magnification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TextSize {
    /// Normal size.
    #[default]
    Normal,
    /// Double width.
    DoubleWidth,
    /// Double height.
    DoubleHeight,
    /// Double width and height.
    Double,
}

impl TextSize {
    /// How many columns one character cell takes.
    pub const fn width_factor(self) -> usize {
        match self {
            TextSize::DoubleWidth | TextSize::Double => 2,
            _ => 1,
        }
    }
}

/// How a text line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TextStyle {
    /// Alignment.
    pub align: Align,
    /// Bold (emphasised).
    pub bold: bool,
    /// Underlined.
    pub underline: bool,
    /// Size.
    pub size: TextSize,
}

impl TextStyle {
    /// Normal, left aligned.
    pub const NORMAL: Self = Self {
        align: Align::Left,
        bold: false,
        underline: false,
        size: TextSize::Normal,
    };
    /// With the alignment given.
    pub const fn aligned(self, align: Align) -> Self {
        Self { align, ..self }
    }
    /// Centred.
    pub const fn centered(self) -> Self {
        Self {
            align: Align::Center,
            ..self
        }
    }
    /// Bold.
    pub const fn bold(self) -> Self {
        Self { bold: true, ..self }
    }
    /// Another size.
    pub const fn sized(self, size: TextSize) -> Self {
        Self { size, ..self }
    }
}

/// Barcode symbologies receipts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BarcodeKind {
    /// Code 128.
    Code128,
    /// Code 39.
    Code39,
    /// EAN-13.
    Ean13,
}

/// Paper cut at the end of a slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CutKind {
    /// Full cut.
    Full,
    /// Partial cut (one point left uncut).
    Partial,
}

/// One element of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiptLine<'a> {
    /// A line of UTF-8 text (may contain CJK characters).
    Text {
        /// The text.
        text: &'a str,
        /// How it looks.
        style: TextStyle,
    },
    /// `label ........ value` across the full width.
    Columns {
        /// Left part.
        left: &'a str,
        /// Right part, right-aligned.
        right: &'a str,
        /// How it looks.
        style: TextStyle,
    },
    /// A full-width line of one character (`-`, `=`, `*`).
    Separator(char),
    /// A QR code.
    Qr {
        /// Content.
        data: &'a str,
        /// Module size in dots (1..=16).
        module_size: u8,
    },
    /// A barcode.
    Barcode {
        /// Symbology.
        kind: BarcodeKind,
        /// Content.
        data: &'a str,
    },
    /// Blank lines.
    Feed(u8),
    /// Cut the paper.
    Cut(CutKind),
}

impl<'a> ReceiptLine<'a> {
    /// Plain text, left-aligned, normal size.
    pub const fn text(text: &'a str) -> Self {
        ReceiptLine::Text {
            text,
            style: TextStyle::NORMAL,
        }
    }
    /// `left ..... right` in the normal style.
    pub const fn columns(left: &'a str, right: &'a str) -> Self {
        ReceiptLine::Columns {
            left,
            right,
            style: TextStyle::NORMAL,
        }
    }
}

/// A receipt: lines in order, borrowed (no heap).
///
/// ```
/// use pos_hal::{Receipt, ReceiptLine, TextStyle, CutKind};
/// let lines = [
///     ReceiptLine::Text { text: "银联 POS 签购单", style: TextStyle::NORMAL.centered().bold() },
///     ReceiptLine::Columns { left: "金额 AMOUNT", right: "RMB 50.00", style: TextStyle::NORMAL },
///     ReceiptLine::Cut(CutKind::Partial),
/// ];
/// let receipt = Receipt::new(&lines);
/// assert_eq!(receipt.lines().len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt<'a> {
    lines: &'a [ReceiptLine<'a>],
}

impl<'a> Receipt<'a> {
    /// A receipt of these lines.
    pub const fn new(lines: &'a [ReceiptLine<'a>]) -> Self {
        Self { lines }
    }
    /// The lines.
    pub const fn lines(&self) -> &'a [ReceiptLine<'a>] {
        self.lines
    }
}

#[cfg(feature = "alloc")]
impl Receipt<'_> {
    /// The receipt's text, one line per element: what a person would read on the paper, with
    /// codes shown as `[QR …]`/`[BARCODE …]` and cuts as `[CUT]` (for fakes, logs of test runs
    /// and screens; never for card data, which a receipt only holds masked).
    ///
    /// ```
    /// use pos_hal::{Receipt, ReceiptLine};
    /// let lines = [ReceiptLine::text("商户存根"), ReceiptLine::Separator('-')];
    /// let text = Receipt::new(&lines).plain_text();
    /// assert!(text.starts_with("商户存根\n----"));
    /// ```
    pub fn plain_text(&self) -> alloc::string::String {
        use alloc::string::String;
        use core::fmt::Write;
        let mut out = String::new();
        for line in self.lines() {
            match line {
                ReceiptLine::Text { text, .. } => out.push_str(text),
                ReceiptLine::Columns { left, right, .. } => {
                    out.push_str(left);
                    out.push(' ');
                    out.push_str(right);
                }
                ReceiptLine::Separator(c) => out.extend(core::iter::repeat_n(*c, 32)),
                ReceiptLine::Qr { data, .. } => {
                    let _ = write!(out, "[QR {data}]");
                }
                ReceiptLine::Barcode { data, .. } => {
                    let _ = write!(out, "[BARCODE {data}]");
                }
                ReceiptLine::Feed(_) => {}
                ReceiptLine::Cut(_) => out.push_str("[CUT]"),
            }
            out.push('\n');
        }
        out
    }
}
