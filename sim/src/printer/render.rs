//! Renders a virtual printer job to a 1-bit-looking grayscale PNG at the printer's dot width,
//! with Debian's WenQuanYi Micro Hei for CJK text and real QR modules.

use std::path::Path;
use std::sync::OnceLock;

use super::model::{Element, Style};

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];
/// Font A is 12×24 dots; CJK glyphs 24×24.
const LINE: usize = 24;

fn font() -> Option<&'static fontdue::Font> {
    static FONT: OnceLock<Option<fontdue::Font>> = OnceLock::new();
    FONT.get_or_init(|| {
        FONT_PATHS.iter().find_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let settings = fontdue::FontSettings {
                collection_index: 0,
                scale: 24.0,
                ..Default::default()
            };
            fontdue::Font::from_bytes(bytes, settings).ok()
        })
    })
    .as_ref()
}

/// Why a job could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Writing the file failed.
    #[error("writing PNG: {0}")]
    Io(#[from] std::io::Error),
    /// Encoding failed.
    #[error("encoding PNG: {0}")]
    Png(#[from] png::EncodingError),
}

struct Canvas {
    width: usize,
    rows: Vec<Vec<u8>>,
}

impl Canvas {
    fn grow(&mut self, height: usize) -> usize {
        let top = self.rows.len();
        self.rows
            .extend((0..height).map(|_| vec![255u8; self.width]));
        top
    }
    fn dot(&mut self, x: usize, y: usize) {
        if let Some(p) = self.rows.get_mut(y).and_then(|r| r.get_mut(x)) {
            *p = 0;
        }
    }
}

/// Font A cells: 12 dots for ASCII, 24 for CJK and full-width forms (what the printer does).
fn cell(ch: char) -> usize {
    if (ch as u32) >= 0x2E80 { 24 } else { 12 }
}

/// Splits text into printer lines of at most `width` dots (the printer wraps, it never cuts).
fn wrap(text: &str, width: usize, w: usize) -> Vec<Vec<char>> {
    let mut lines = vec![Vec::new()];
    let mut used = 0;
    for ch in text.chars() {
        let cw = cell(ch) * w;
        if used + cw > width && used > 0 {
            lines.push(Vec::new());
            used = 0;
        }
        if let Some(line) = lines.last_mut() {
            line.push(ch);
        }
        used += cw;
    }
    lines
}

fn text_line(c: &mut Canvas, text: &str, style: Style) {
    let (w, h) = (
        usize::from(style.width.max(1)),
        usize::from(style.height.max(1)),
    );
    for chars in wrap(text, c.width, w) {
        glyph_row(c, &chars, style, w, h);
    }
}

fn glyph_row(c: &mut Canvas, chars: &[char], style: Style, w: usize, h: usize) {
    let total: usize = chars.iter().map(|ch| cell(*ch) * w).sum();
    let left = match style.align {
        1 => c.width.saturating_sub(total) / 2,
        2 => c.width.saturating_sub(total),
        _ => 0,
    };
    let top = c.grow(LINE * h + 6);
    let Some(font) = font() else {
        // No font installed: mark the line so that it is visibly not blank.
        for x in left..(left + total).min(c.width) {
            c.dot(x, top + LINE * h / 2);
        }
        return;
    };
    let px = 22.0 * h as f32;
    let baseline = top + (LINE * h) * 5 / 6;
    let mut x = left;
    for ch in chars {
        let cell_w = cell(*ch) * w;
        let (m, bitmap) = font.rasterize(*ch, px);
        // Centre the glyph in its cell, stretched horizontally for double width.
        let glyph_w = m.width * w / h;
        let x0 = x + cell_w.saturating_sub(glyph_w) / 2;
        for gy in 0..m.height {
            for gx in 0..m.width {
                if bitmap[gy * m.width + gx] <= 100 {
                    continue;
                }
                let py = baseline as i64 - m.height as i64 - i64::from(m.ymin) + gy as i64;
                if py < 0 {
                    continue;
                }
                let stretch = (w / h).max(1);
                for dx in 0..stretch {
                    let px_x = x0 + gx * w / h + dx;
                    c.dot(px_x, py as usize);
                    if style.bold {
                        c.dot(px_x + 1, py as usize);
                    }
                }
            }
        }
        x += cell_w;
    }
}

fn qr(c: &mut Canvas, data: &str, module: u8) {
    let Ok(code) = qrcodegen::QrCode::encode_text(data, qrcodegen::QrCodeEcc::Medium) else {
        text_line(c, &format!("[QR {data}]"), Style::default());
        return;
    };
    let m = usize::from(module.max(1)) * 2;
    let size = code.size() as usize;
    let left = c.width.saturating_sub(size * m) / 2;
    let top = c.grow(size * m + 16) + 8;
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x as i32, y as i32) {
                for dy in 0..m {
                    for dx in 0..m {
                        c.dot(left + x * m + dx, top + y * m + dy);
                    }
                }
            }
        }
    }
}

fn barcode(c: &mut Canvas, data: &str) {
    // Bars derived from the data bytes (a visual stand-in, not a scannable symbol), then HRI.
    let bars: Vec<bool> = data
        .bytes()
        .flat_map(|b| (0..8).map(move |i| b >> (7 - i) & 1 == 1))
        .collect();
    let width = bars.len() * 2;
    let left = c.width.saturating_sub(width) / 2;
    let top = c.grow(60);
    for (i, bar) in bars.iter().enumerate() {
        if *bar {
            for y in top + 4..top + 56 {
                c.dot(left + 2 * i, y);
                c.dot(left + 2 * i + 1, y);
            }
        }
    }
    text_line(
        c,
        data,
        Style {
            align: 1,
            ..Style::default()
        },
    );
}

/// Renders `elements` into a PNG of `width_dots` at `path`.
pub fn render_png(elements: &[Element], width_dots: u32, path: &Path) -> Result<(), RenderError> {
    let mut c = Canvas {
        width: width_dots as usize,
        rows: Vec::new(),
    };
    c.grow(16);
    for e in elements {
        match e {
            Element::Text(t, style) => text_line(&mut c, t, *style),
            Element::Qr(data, module) => qr(&mut c, data, *module),
            Element::Barcode(_, data) => barcode(&mut c, data),
            Element::Feed(n) => {
                c.grow(LINE * usize::from(*n));
            }
        }
    }
    c.grow(16);
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, width_dots, c.rows.len() as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    let data: Vec<u8> = c.rows.concat();
    writer.write_image_data(&data)?;
    Ok(())
}

/// Rows of a rendered PNG that contain ink, and its size (for tests and tools).
pub fn ink_rows(path: &Path) -> Result<(u32, u32, usize), RenderError> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path)?));
    let mut reader = decoder
        .read_info()
        .map_err(|e| RenderError::Io(std::io::Error::other(e)))?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| RenderError::Io(std::io::Error::other(e)))?;
    let w = info.width as usize;
    let inked = buf[..info.buffer_size()]
        .chunks(w.max(1))
        .filter(|row| row.iter().any(|p| *p < 128))
        .count();
    Ok((info.width, info.height, inked))
}
