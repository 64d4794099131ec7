//! The tag dictionary: names and formats for DOL building and logs, and which tags are
//! cardholder data that never reaches a log in clear.

use core::fmt;

/// How a data element is encoded (EMV Book 3 §4.3), which decides how a DOL pads or cuts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Numeric BCD, right-aligned: padded with leading zeros, cut from the left.
    Numeric,
    /// Compressed numeric, left-aligned: padded with trailing `F`s.
    CompressedNumeric,
    /// Binary or anything else: padded with trailing zeros, cut from the right.
    Binary,
    /// Alphanumeric text: like binary.
    Text,
}

/// What the dictionary knows about a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagInfo {
    /// The tag.
    pub tag: u32,
    /// Its EMV name.
    pub name: &'static str,
    /// Its format.
    pub format: Format,
    /// Cardholder data (PAN, track equivalents, name, certificates tied to the PAN): a log
    /// shows it masked.
    pub sensitive: bool,
}

const fn info(tag: u32, name: &'static str, format: Format, sensitive: bool) -> TagInfo {
    TagInfo {
        tag,
        name,
        format,
        sensitive,
    }
}

use Format::{Binary as B, CompressedNumeric as Cn, Numeric as N, Text as T};

/// Sorted by tag value (one-byte tags first) so lookup is a binary search.
static DICTIONARY: &[TagInfo] = &[
    info(0x42, "Issuer Identification Number", N, false),
    info(0x4F, "Application Identifier (card)", B, false),
    info(0x50, "Application Label", T, false),
    info(0x56, "Track 1 Data", B, true),
    info(0x57, "Track 2 Equivalent Data", B, true),
    info(0x5A, "Application PAN", Cn, true),
    info(0x61, "Application Template", B, false),
    info(0x6F, "FCI Template", B, false),
    info(0x70, "Record Template", B, false),
    info(0x71, "Issuer Script Template 1", B, false),
    info(0x72, "Issuer Script Template 2", B, false),
    info(0x77, "Response Message Template Format 2", B, false),
    info(0x80, "Response Message Template Format 1", B, false),
    info(0x82, "Application Interchange Profile", B, false),
    info(0x84, "Dedicated File Name", B, false),
    info(0x86, "Issuer Script Command", B, false),
    info(0x87, "Application Priority Indicator", B, false),
    info(0x88, "Short File Identifier", B, false),
    info(0x8A, "Authorisation Response Code", T, false),
    info(0x8C, "CDOL1", B, false),
    info(0x8D, "CDOL2", B, false),
    info(0x8E, "CVM List", B, false),
    info(0x8F, "CA Public Key Index (card)", B, false),
    info(0x90, "Issuer Public Key Certificate", B, false),
    info(0x91, "Issuer Authentication Data", B, false),
    info(0x92, "Issuer Public Key Remainder", B, false),
    info(0x93, "Signed Static Application Data", B, false),
    info(0x94, "Application File Locator", B, false),
    info(0x95, "Terminal Verification Results", B, false),
    info(0x97, "TDOL", B, false),
    info(0x98, "TC Hash Value", B, false),
    info(0x99, "Transaction PIN Data", B, true),
    info(0x9A, "Transaction Date", N, false),
    info(0x9B, "Transaction Status Information", B, false),
    info(0x9C, "Transaction Type", N, false),
    info(0x9D, "DDF Name", B, false),
    info(0xA5, "FCI Proprietary Template", B, false),
    info(0x5F20, "Cardholder Name", T, true),
    info(0x5F24, "Application Expiration Date", N, false),
    info(0x5F25, "Application Effective Date", N, false),
    info(0x5F28, "Issuer Country Code", N, false),
    info(0x5F2A, "Transaction Currency Code", N, false),
    info(0x5F2D, "Language Preference", T, false),
    info(0x5F30, "Service Code", N, false),
    info(0x5F34, "PAN Sequence Number", N, false),
    info(0x5F36, "Transaction Currency Exponent", N, false),
    info(0x9F01, "Acquirer Identifier", N, false),
    info(0x9F02, "Amount, Authorised", N, false),
    info(0x9F03, "Amount, Other", N, false),
    info(0x9F06, "Application Identifier (terminal)", B, false),
    info(0x9F07, "Application Usage Control", B, false),
    info(0x9F08, "Application Version Number (card)", B, false),
    info(0x9F09, "Application Version Number (terminal)", B, false),
    info(0x9F0D, "IAC - Default", B, false),
    info(0x9F0E, "IAC - Denial", B, false),
    info(0x9F0F, "IAC - Online", B, false),
    info(0x9F10, "Issuer Application Data", B, false),
    info(0x9F11, "Issuer Code Table Index", N, false),
    info(0x9F12, "Application Preferred Name", T, false),
    info(0x9F13, "Last Online ATC Register", B, false),
    info(0x9F14, "Lower Consecutive Offline Limit", B, false),
    info(0x9F15, "Merchant Category Code", N, false),
    info(0x9F16, "Merchant Identifier", T, false),
    info(0x9F17, "PIN Try Counter", B, false),
    info(0x9F18, "Issuer Script Identifier", B, false),
    info(0x9F1A, "Terminal Country Code", N, false),
    info(0x9F1B, "Terminal Floor Limit", B, false),
    info(0x9F1C, "Terminal Identification", T, false),
    info(0x9F1E, "Interface Device Serial Number", T, false),
    info(0x9F1F, "Track 1 Discretionary Data", T, true),
    info(0x9F20, "Track 2 Discretionary Data", Cn, true),
    info(0x9F21, "Transaction Time", N, false),
    info(0x9F23, "Upper Consecutive Offline Limit", B, false),
    info(0x9F26, "Application Cryptogram", B, false),
    info(0x9F27, "Cryptogram Information Data", B, false),
    info(0x9F32, "Issuer Public Key Exponent", B, false),
    info(0x9F33, "Terminal Capabilities", B, false),
    info(0x9F34, "CVM Results", B, false),
    info(0x9F35, "Terminal Type", N, false),
    info(0x9F36, "Application Transaction Counter", B, false),
    info(0x9F37, "Unpredictable Number", B, false),
    info(0x9F38, "PDOL", B, false),
    info(0x9F39, "POS Entry Mode", N, false),
    info(0x9F40, "Additional Terminal Capabilities", B, false),
    info(0x9F41, "Transaction Sequence Counter", N, false),
    info(0x9F42, "Application Currency Code", N, false),
    info(0x9F44, "Application Currency Exponent", N, false),
    info(0x9F45, "Data Authentication Code", B, false),
    info(0x9F46, "ICC Public Key Certificate", B, false),
    info(0x9F47, "ICC Public Key Exponent", B, false),
    info(0x9F48, "ICC Public Key Remainder", B, false),
    info(0x9F49, "DDOL", B, false),
    info(0x9F4A, "Static Data Authentication Tag List", B, false),
    info(0x9F4B, "Signed Dynamic Application Data", B, false),
    info(0x9F4C, "ICC Dynamic Number", B, false),
    info(0x9F4E, "Merchant Name and Location", T, false),
    info(0x9F51, "Application Currency Code (PBOC)", N, false),
    info(0x9F5D, "Available Offline Spending Amount", N, false),
    info(0x9F63, "Card Product Identification", B, false),
    info(0x9F66, "Terminal Transaction Qualifiers", B, false),
    info(0x9F69, "Card Authentication Related Data", B, false),
    info(0x9F6C, "Card Transaction Qualifiers", B, false),
    info(0x9F74, "EC Issuer Authorisation Code", T, false),
    info(0x9F79, "EC Balance", N, false),
    info(0xBF0C, "FCI Issuer Discretionary Data", B, false),
    info(0xDF31, "Issuer Script Results (CUP)", B, false),
];

/// What the dictionary knows about `tag`, if anything.
pub fn lookup(tag: u32) -> Option<&'static TagInfo> {
    DICTIONARY
        .binary_search_by_key(&tag, |i| i.tag)
        .ok()
        .map(|i| &DICTIONARY[i])
}

/// The format of `tag`; unknown tags are binary.
pub fn format_of(tag: u32) -> Format {
    lookup(tag).map_or(Format::Binary, |i| i.format)
}

/// Whether `tag` holds cardholder data. Unknown tags in the issuer-private range are not.
pub fn is_sensitive(tag: u32) -> bool {
    lookup(tag).is_some_and(|i| i.sensitive)
}

/// A data element shown for a log: name and hex value, with cardholder data masked (a PAN
/// keeps its first 6 and last 4 digits, a track or name shows only its length).
#[derive(Clone, Copy)]
pub struct Shown<'a> {
    tag: u32,
    value: &'a [u8],
}

/// Shows `value` of `tag` safely for a log.
pub fn shown(tag: u32, value: &[u8]) -> Shown<'_> {
    Shown { tag, value }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = lookup(self.tag).map_or("unknown", |i| i.name);
        write!(f, "{:X} {name}: ", self.tag)?;
        if self.tag == 0x5A {
            return match pos_hal::Pan::from_bcd(self.value) {
                Ok(pan) => write!(f, "{pan}"),
                Err(_) => write!(f, "<{} bytes, masked>", self.value.len()),
            };
        }
        if is_sensitive(self.tag) {
            return write!(f, "<{} bytes, masked>", self.value.len());
        }
        for b in self.value {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_dictionary_is_sorted_so_every_tag_is_found() {
        assert!(DICTIONARY.windows(2).all(|w| w[0].tag < w[1].tag));
        for i in DICTIONARY {
            assert_eq!(lookup(i.tag).map(|x| x.tag), Some(i.tag));
        }
    }

    #[test]
    fn cardholder_data_is_masked_in_logs() {
        let pan = [0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x32];
        let text = shown(0x5A, &pan).to_string();
        assert!(text.ends_with("621234******1232"), "{text}");
        let track = [0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x32, 0xD3, 0x01];
        let text = shown(0x57, &track).to_string();
        assert!(!text.contains("6212") && text.contains("masked"), "{text}");
        assert_eq!(
            shown(0x9F36, &[0, 1]).to_string(),
            "9F36 Application Transaction Counter: 0001"
        );
    }
}
