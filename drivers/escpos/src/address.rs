//! Where a printer is: the part of a selector after `escpos:`, parsed once into a type.

use std::fmt;
use std::str::FromStr;

use crate::EscposError;

/// A printer's address: `tcp:HOST:PORT`, `serial:PATH[:BAUD[:rtscts]]`,
/// `usb:[VID:PID[:SERIAL]]` or `file:PATH`.
///
/// `Display` prints the canonical form, which parses back to the same value.
///
/// ```
/// use pos_escpos::PrinterAddress;
/// let a: PrinterAddress = "serial:/dev/ttyUSB0:19200:rtscts".parse()?;
/// assert_eq!(a, PrinterAddress::Serial { path: "/dev/ttyUSB0".into(), baud: 19200, rtscts: true });
/// assert_eq!(a.to_string(), "serial:/dev/ttyUSB0:19200:rtscts");
/// let usb: PrinterAddress = "usb:04b8:0202".parse()?;
/// assert_eq!(usb.to_string(), "usb:04b8:0202");
/// assert!("tcp:nohost".parse::<PrinterAddress>().is_err());
/// # Ok::<(), pos_escpos::EscposError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrinterAddress {
    /// A network printer (raw TCP, usually port 9100).
    Tcp {
        /// Host name or address (IPv6 in brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A serial printer.
    Serial {
        /// Device path.
        path: String,
        /// Baud rate (default 9600).
        baud: u32,
        /// RTS/CTS hardware flow control.
        rtscts: bool,
    },
    /// A USB printer: by ids (and serial number), or the first printer-class device.
    Usb {
        /// Vendor and product id.
        ids: Option<(u16, u16)>,
        /// iSerialNumber, to pick one of several identical printers.
        serial: Option<String>,
    },
    /// A device file (`/dev/usb/lp0`) or a plain file (capture).
    File {
        /// Path.
        path: String,
    },
}

/// Default baud rate of ESC/POS serial printers.
pub const DEFAULT_BAUD: u32 = 9600;

fn hex16(s: &str) -> Option<u16> {
    if s.len() != 4 {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

impl FromStr for PrinterAddress {
    type Err = EscposError;

    fn from_str(text: &str) -> Result<Self, EscposError> {
        let bad = || EscposError::Selector(text.to_string());
        let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
        match scheme {
            "tcp" => {
                let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
                let port = port.parse().map_err(|_| bad())?;
                if host.is_empty() {
                    return Err(bad());
                }
                Ok(PrinterAddress::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "serial" => {
                let mut parts: Vec<&str> = rest.split(':').collect();
                let rtscts = parts.last() == Some(&"rtscts");
                if rtscts {
                    parts.pop();
                }
                let baud = match parts.last() {
                    Some(b) if parts.len() > 1 && b.chars().all(|c| c.is_ascii_digit()) => {
                        let baud = b.parse().map_err(|_| bad())?;
                        parts.pop();
                        baud
                    }
                    _ if rtscts => return Err(bad()),
                    _ => DEFAULT_BAUD,
                };
                let path = parts.join(":");
                if path.is_empty() || baud == 0 {
                    return Err(bad());
                }
                Ok(PrinterAddress::Serial { path, baud, rtscts })
            }
            "usb" if rest.is_empty() => Ok(PrinterAddress::Usb {
                ids: None,
                serial: None,
            }),
            "usb" => {
                let mut parts = rest.splitn(3, ':');
                let vid = parts.next().and_then(hex16).ok_or_else(bad)?;
                let pid = parts.next().and_then(hex16).ok_or_else(bad)?;
                let serial = match parts.next() {
                    Some("") => return Err(bad()),
                    other => other.map(str::to_string),
                };
                Ok(PrinterAddress::Usb {
                    ids: Some((vid, pid)),
                    serial,
                })
            }
            "file" if !rest.is_empty() => Ok(PrinterAddress::File {
                path: rest.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for PrinterAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterAddress::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            PrinterAddress::Serial { path, baud, rtscts } => {
                write!(f, "serial:{path}:{baud}")?;
                if *rtscts {
                    f.write_str(":rtscts")?;
                }
                Ok(())
            }
            PrinterAddress::Usb { ids: None, .. } => f.write_str("usb:"),
            PrinterAddress::Usb {
                ids: Some((vid, pid)),
                serial,
            } => {
                write!(f, "usb:{vid:04x}:{pid:04x}")?;
                if let Some(s) = serial {
                    write!(f, ":{s}")?;
                }
                Ok(())
            }
            PrinterAddress::File { path } => write!(f, "file:{path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn address() -> impl Strategy<Value = PrinterAddress> {
        prop_oneof![
            ("[a-z0-9.-]{1,20}", any::<u16>())
                .prop_map(|(host, port)| PrinterAddress::Tcp { host, port }),
            ("/dev/tty[A-Za-z0-9]{1,8}", 1u32..1_000_000, any::<bool>())
                .prop_map(|(path, baud, rtscts)| PrinterAddress::Serial { path, baud, rtscts }),
            (
                any::<(u16, u16)>(),
                proptest::option::of("[A-Za-z0-9]{1,12}")
            )
                .prop_map(|(ids, serial)| PrinterAddress::Usb {
                    ids: Some(ids),
                    serial
                }),
            Just(PrinterAddress::Usb {
                ids: None,
                serial: None
            }),
            "/[a-z0-9/]{1,20}".prop_map(|path| PrinterAddress::File { path }),
        ]
    }

    proptest! {
        #[test]
        fn every_printed_address_parses_back_to_itself(a in address()) {
            let text = a.to_string();
            prop_assert_eq!(text.parse::<PrinterAddress>().ok(), Some(a));
        }

        #[test]
        fn any_text_is_an_address_or_a_selector_error(text in ".{0,40}") {
            if let Err(e) = text.parse::<PrinterAddress>() {
                prop_assert!(matches!(e, EscposError::Selector(_)));
            }
        }
    }

    #[test]
    fn old_command_lines_still_parse() {
        assert_eq!(
            "serial:/dev/pts/3".parse::<PrinterAddress>().ok(),
            Some(PrinterAddress::Serial {
                path: "/dev/pts/3".into(),
                baud: DEFAULT_BAUD,
                rtscts: false
            })
        );
        assert!("tcp:[::1]:9100".parse::<PrinterAddress>().is_ok());
        assert!("usb:04b8".parse::<PrinterAddress>().is_err());
        assert!("lpt:1".parse::<PrinterAddress>().is_err());
    }
}
