//! The device-neutral [`Receipt`] as ESC/POS bytes.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption, UnderlineMode,
};
use pos_hal::{Align, BarcodeKind, CutKind, Receipt, ReceiptLine, TextSize, TextStyle};
use unicode_width::UnicodeWidthStr;

use crate::EscposError;

/// The cash drawer pulse, pin 2, 50 ms on / 500 ms off: all five bytes (the `escpos` crate
/// sends only three and the printer eats the next two bytes of the stream).
pub const DRAWER_PULSE: [u8; 5] = [0x1B, 0x70, 0x00, 0x19, 0xFA];
/// `FS &`: Chinese (double-byte) character mode; resent after every `ESC @`.
pub const CHINESE_MODE: [u8; 2] = [0x1C, 0x26];

/// Paper width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Printable dots per line.
    pub width_dots: u16,
    /// Characters per line in font A (a CJK character takes two).
    pub columns: u8,
}

impl Profile {
    /// 58 mm paper: 384 dots, 32 columns.
    pub const MM58: Self = Self {
        width_dots: 384,
        columns: 32,
    };
    /// 80 mm paper: 576 dots, 48 columns.
    pub const MM80: Self = Self {
        width_dots: 576,
        columns: 48,
    };
}

/// Collects what the `escpos` crate writes.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Display width in font-A columns (CJK characters count 2).
pub fn display_width(text: &str) -> usize {
    text.width()
}

/// `¥` (U+00A5) is a 4-byte sequence in GB18030 that GBK printer fonts print as junk; the
/// full-width `￥` (U+FFE5, `A3 A4`) prints everywhere.
fn printable(text: &str) -> String {
    text.replace('\u{00A5}', "\u{FFE5}")
}

/// Left and right on one line with spaces between, or on two lines when they do not fit.
pub fn columns(left: &str, right: &str, width: usize) -> Vec<String> {
    let (wl, wr) = (display_width(left), display_width(right));
    if wl + wr < width {
        vec![format!("{left}{}{right}", " ".repeat(width - wl - wr))]
    } else {
        vec![
            left.to_string(),
            format!("{}{right}", " ".repeat(width.saturating_sub(wr))),
        ]
    }
}

fn fail(line: usize, what: &'static str) -> impl Fn(escpos::errors::PrinterError) -> EscposError {
    move |_| EscposError::Encode { line, what }
}

/// Encodes a receipt for a printer of `profile`.
///
/// ```
/// use pos_escpos::{Profile, encode_receipt};
/// use pos_hal::{Receipt, ReceiptLine, TextStyle};
/// let lines = [ReceiptLine::Text { text: "签购单", style: TextStyle::NORMAL }];
/// let bytes = encode_receipt(&Receipt::new(&lines), Profile::MM58)?;
/// assert!(bytes.starts_with(&[0x1B, 0x40, 0x1C, 0x26])); // ESC @, FS &
/// assert!(bytes.windows(6).any(|w| w == [0xC7, 0xA9, 0xB9, 0xBA, 0xB5, 0xA5])); // GB18030
/// # Ok::<(), pos_escpos::EscposError>(())
/// ```
pub fn encode_receipt(receipt: &Receipt<'_>, profile: Profile) -> Result<Vec<u8>, EscposError> {
    let capture = Capture::default();
    let options = PrinterOptions::new(None, None, profile.columns);
    let mut p = Printer::new(
        capture.clone(),
        Protocol::new(Encoder::new(encoding_rs::GB18030)),
        Some(options),
    );
    p.init()
        .and_then(|p| p.custom(&CHINESE_MODE))
        .map_err(fail(0, "init"))?;
    for (i, line) in receipt.lines().iter().enumerate() {
        let line_no = i + 1;
        match line {
            ReceiptLine::Text { text, style } => {
                apply(&mut p, style, line_no)?;
                p.writeln(&printable(text)).map_err(fail(line_no, "text"))?;
                reset(&mut p, line_no)?;
            }
            ReceiptLine::Columns { left, right, style } => {
                apply(&mut p, &style.aligned(Align::Left), line_no)?;
                let width = usize::from(profile.columns) / style.size.width_factor();
                for row in columns(&printable(left), &printable(right), width) {
                    p.writeln(&row).map_err(fail(line_no, "text"))?;
                }
                reset(&mut p, line_no)?;
            }
            ReceiptLine::Separator(c) => {
                let w = display_width(c.encode_utf8(&mut [0; 4])).max(1);
                let rule: String =
                    std::iter::repeat_n(*c, usize::from(profile.columns) / w).collect();
                p.writeln(&rule).map_err(fail(line_no, "separator"))?;
            }
            ReceiptLine::Qr { data, module_size } => {
                let option = QRCodeOption::new(
                    QRCodeModel::Model2,
                    (*module_size).clamp(1, 16),
                    QRCodeCorrectionLevel::M,
                );
                p.justify(JustifyMode::CENTER)
                    .and_then(|p| p.qrcode_option(data, option))
                    .and_then(|p| p.justify(JustifyMode::LEFT))
                    .map_err(fail(line_no, "QR code"))?;
            }
            ReceiptLine::Barcode { kind, data } => {
                p.justify(JustifyMode::CENTER)
                    .map_err(fail(line_no, "barcode"))?;
                match kind {
                    BarcodeKind::Code39 => p.code39(data).map(|_| ()),
                    BarcodeKind::Ean13 => p.ean13(data).map(|_| ()),
                    BarcodeKind::Code128 => {
                        // GS k 73 (CODE128) is missing from the crate: HRI below, code set B.
                        if data.len() > 250 || !data.bytes().all(|b| (0x20..0x7F).contains(&b)) {
                            return Err(EscposError::Encode {
                                line: line_no,
                                what: "CODE128 data",
                            });
                        }
                        let mut cmd = vec![
                            0x1D,
                            0x48,
                            0x02,
                            0x1D,
                            0x6B,
                            0x49,
                            data.len() as u8 + 2,
                            0x7B,
                            0x42,
                        ];
                        cmd.extend_from_slice(data.as_bytes());
                        cmd.push(0x0A);
                        p.custom(&cmd).map(|_| ())
                    }
                    _ => {
                        return Err(EscposError::Encode {
                            line: line_no,
                            what: "barcode kind",
                        });
                    }
                }
                .map_err(fail(line_no, "barcode"))?;
                p.justify(JustifyMode::LEFT)
                    .map_err(fail(line_no, "barcode"))?;
            }
            ReceiptLine::Feed(n) => {
                p.feeds(*n).map_err(fail(line_no, "feed"))?;
            }
            ReceiptLine::Cut(kind) => {
                match kind {
                    CutKind::Full => p.cut(),
                    CutKind::Partial => p.partial_cut(),
                    _ => {
                        return Err(EscposError::Encode {
                            line: line_no,
                            what: "cut kind",
                        });
                    }
                }
                .map_err(fail(line_no, "cut"))?;
            }
            _ => {
                return Err(EscposError::Encode {
                    line: line_no,
                    what: "line kind",
                });
            }
        }
    }
    p.print().map_err(fail(0, "flush"))?;
    drop(p);
    Ok(capture.0.take())
}

type P = Printer<Capture>;

fn apply(p: &mut P, style: &TextStyle, line: usize) -> Result<(), EscposError> {
    let justify = match style.align {
        Align::Left => JustifyMode::LEFT,
        Align::Center => JustifyMode::CENTER,
        Align::Right => JustifyMode::RIGHT,
        // An alignment added to the HAL later prints left-aligned until encoded here.
        _ => JustifyMode::LEFT,
    };
    let (w, h) = match style.size {
        TextSize::Normal => (1, 1),
        TextSize::DoubleWidth => (2, 1),
        TextSize::DoubleHeight => (1, 2),
        TextSize::Double => (2, 2),
        _ => (1, 1),
    };
    p.justify(justify)
        .and_then(|p| p.bold(style.bold))
        .and_then(|p| {
            p.underline(if style.underline {
                UnderlineMode::Single
            } else {
                UnderlineMode::None
            })
        })
        .and_then(|p| p.size(w, h))
        .map(|_| ())
        .map_err(fail(line, "style"))
}

fn reset(p: &mut P, line: usize) -> Result<(), EscposError> {
    p.justify(JustifyMode::LEFT)
        .and_then(|p| p.bold(false))
        .and_then(|p| p.underline(UnderlineMode::None))
        .and_then(|p| p.reset_size())
        .map(|_| ())
        .map_err(fail(line, "style"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_cjk_as_two() {
        assert_eq!(
            columns("金额", "RMB 50.00", 32),
            vec![format!("金额{}RMB 50.00", " ".repeat(32 - 4 - 9))]
        );
        let long = columns("商户名称 MERCHANT NAME", "拉卡拉测试商户有限公司", 32);
        assert_eq!(long.len(), 2);
        assert_eq!(display_width(&long[1]), 32);
    }

    #[test]
    fn yen_becomes_full_width() {
        let lines = [ReceiptLine::Text {
            text: "¥12.34",
            style: TextStyle::NORMAL,
        }];
        let bytes = encode_receipt(&Receipt::new(&lines), Profile::MM58).expect("encodes");
        assert!(bytes.windows(2).any(|w| w == [0xA3, 0xA4]));
        assert!(!bytes.windows(4).any(|w| w == [0x81, 0x30, 0x84, 0x36]));
    }

    #[test]
    fn bad_barcode_is_a_typed_error() {
        let lines = [ReceiptLine::Barcode {
            kind: BarcodeKind::Code128,
            data: "中文",
        }];
        let err = encode_receipt(&Receipt::new(&lines), Profile::MM58).expect_err("not CODE128");
        assert!(matches!(err, EscposError::Encode { line: 1, .. }));
    }
}
