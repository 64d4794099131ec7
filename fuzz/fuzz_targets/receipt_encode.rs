//! Receipt encoding: any text, codes, sizes and cuts encode to ESC/POS or give a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pos_escpos::{Profile, encode_receipt};
use pos_hal::{Align, BarcodeKind, CutKind, Receipt, ReceiptLine, TextSize, TextStyle};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\n').collect();
    let mut lines = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let style = TextStyle::NORMAL
            .aligned(match i % 3 {
                0 => Align::Left,
                1 => Align::Center,
                _ => Align::Right,
            })
            .sized(match i % 4 {
                0 => TextSize::Normal,
                1 => TextSize::DoubleWidth,
                2 => TextSize::DoubleHeight,
                _ => TextSize::Double,
            });
        lines.push(match i % 6 {
            0 => ReceiptLine::Text { text: part, style },
            1 => ReceiptLine::Columns { left: part, right: part, style },
            2 => ReceiptLine::Qr { data: part, module_size: (i % 20) as u8 },
            3 => ReceiptLine::Barcode { kind: if i % 2 == 0 { BarcodeKind::Code128 } else { BarcodeKind::Ean13 }, data: part },
            4 => ReceiptLine::Separator(part.chars().next().unwrap_or('-')),
            _ => ReceiptLine::Feed((i % 5) as u8),
        });
    }
    lines.push(ReceiptLine::Cut(CutKind::Partial));
    for profile in [Profile::MM58, Profile::MM80] {
        let _ = encode_receipt(&Receipt::new(&lines), profile);
    }
});
