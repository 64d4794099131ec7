//! EMV dates: `YYMMDD` and `YYMM` BCD, years 50–99 in the 1900s (Book 4 §6.7.3).

fn bcd(b: u8) -> u32 {
    u32::from(b >> 4) * 10 + u32::from(b & 0x0F)
}

fn year(yy: u8) -> u32 {
    let y = bcd(yy);
    if y < 50 { 2000 + y } else { 1900 + y }
}

/// `YYMMDD` as a comparable number (`yyyymmdd`).
pub fn ymd(d: [u8; 3]) -> u32 {
    year(d[0]) * 10_000 + bcd(d[1]) * 100 + bcd(d[2])
}

/// `MMYY` (certificate expiry) as a comparable year-month (`yyyymm`).
pub fn mmyy(d: [u8; 2]) -> u32 {
    year(d[1]) * 100 + bcd(d[0])
}

/// The year-month of `YYMMDD`.
pub fn ym(d: [u8; 3]) -> u32 {
    year(d[0]) * 100 + bcd(d[1])
}

/// Whether `b` is valid BCD.
pub fn is_bcd(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9)
}
