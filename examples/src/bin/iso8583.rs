//! `iso8583`: decode, encode and MAC CUP POS ISO 8583 messages — the integrator's debugger.
//!
//! ```text
//! echo 003C6000030000603100310000080000200000... | iso8583 decode [--reveal]
//! echo '{"tpdu":"6000030000","header":"603100310000","mti":"0800","fields":{"11":"000001"}}' | iso8583 encode
//! echo 0051600003... | iso8583 mac --key-file mak.hex      # or ISO8583_MAK=…, or --key HEX
//! ```
//! Input is hex (spaces and newlines ignored), with or without the 2-byte length prefix.
//! Card-holder data (PAN, expiry, tracks, PIN block, ICC data, batch upload data, keys) is
//! masked unless `--reveal`; control characters in text fields are printed escaped.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pos_hal::Pan;
use pos_terminal::crypto::{SecretKey, cup_mac};
use pos_terminal::iso8583::spec::{Dialect, Encoding, Length, field, field_in};
use pos_terminal::iso8583::{Frame, Message, Mti};

#[derive(Parser, Debug)]
#[command(version, about = "Decode, encode and MAC CUP POS ISO 8583 messages")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print every field of a framed message read as hex from stdin.
    Decode {
        /// Show card-holder data in clear.
        #[arg(long)]
        reveal: bool,
    },
    /// Build a framed message from JSON on stdin and print it as hex.
    Encode,
    /// Print the CUP MAC of a framed message read as hex from stdin. The MAK comes from
    /// `--key-file`, else the `ISO8583_MAK` environment variable, else `--key` (meant for
    /// published test vectors: a key on the command line shows in `ps` and shell history).
    Mac {
        /// MAK in hex (8 bytes: DES, 16: TDES).
        #[arg(long, conflicts_with = "key_file")]
        key: Option<String>,
        /// A file holding the MAK in hex.
        #[arg(long)]
        key_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("reading stdin: {0}")]
    Stdin(#[from] std::io::Error),
    #[error("input is not hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error("{0}")]
    Codec(#[from] pos_terminal::iso8583::CodecError),
    #[error("{0}")]
    Crypto(#[from] pos_terminal::crypto::CryptoError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("JSON: {0}")]
    Shape(String),
    #[error("no MAK: give --key-file FILE, set ISO8583_MAK, or --key HEX")]
    NoKey,
    #[error("cannot read the key file {0}: {1}")]
    KeyFile(String, std::io::Error),
}

/// Text for a terminal: control characters (ESC sequences, BEL, CR) are shown escaped, never
/// written raw.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn stdin_text() -> Result<String, ToolError> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(text)
}

fn stdin_hex() -> Result<Vec<u8>, ToolError> {
    let compact: String = stdin_text()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(hex::decode(compact)?)
}

/// The payload (TPDU onwards): strips the length prefix when it matches.
fn payload(bytes: &[u8]) -> &[u8] {
    match bytes.get(..2) {
        Some(p) if usize::from(u16::from_be_bytes([p[0], p[1]])) == bytes.len() - 2 => &bytes[2..],
        _ => bytes,
    }
}

fn shown(n: u8, text: &[u8], reveal: bool) -> String {
    let clear = String::from_utf8_lossy(text).into_owned();
    let spec = field(n);
    if reveal || !spec.is_some_and(|s| s.sensitive) {
        return match spec.map(|s| s.encoding) {
            Some(Encoding::Binary) => hex::encode_upper(text),
            _ => clear,
        };
    }
    match n {
        2 => Pan::parse_bytes(text)
            .map(|p| p.to_string())
            .unwrap_or_else(|_| format!("<{} digits>", text.len())),
        35 | 36 => format!("<track, {} chars>", text.len()),
        14 => "****".into(),
        _ => format!("<{} bytes>", text.len()),
    }
}

fn decode(reveal: bool) -> Result<(), ToolError> {
    let bytes = stdin_hex()?;
    // A request of an SM4 terminal carries a 16-byte PIN block (the SM dialect).
    let (frame, msg) = Frame::decode_payload(payload(&bytes))
        .or_else(|e| Frame::decode_payload_in(payload(&bytes), Dialect::CupSm4).map_err(|_| e))?;
    println!("TPDU    {}", hex::encode_upper(frame.tpdu));
    if msg.dialect() == Dialect::CupSm4 {
        println!("dialect SM4 (16-byte PIN block)");
    }
    println!(
        "header  {}  (host request: {:?})",
        hex::encode_upper(frame.header),
        frame.host_request()
    );
    println!("MTI     {}", msg.mti());
    println!("bitmap  {}", hex::encode_upper(msg.bitmap()));
    for n in msg.numbers().collect::<Vec<_>>() {
        let Some(spec) = field_in(n, msg.dialect()) else {
            continue;
        };
        let text = msg.text(n)?.unwrap_or_default();
        let len = match spec.length {
            Length::Fixed(_) => String::new(),
            Length::Ll(_) => format!("LL{:02} ", text.len()),
            Length::Lll(_) => format!("LLL{:03} ", text.len()),
        };
        println!(
            "{n:>3} {:<22} {len}{}",
            spec.name,
            printable(&shown(n, &text, reveal))
        );
    }
    Ok(())
}

fn encode() -> Result<(), ToolError> {
    let json: serde_json::Value = serde_json::from_str(&stdin_text()?)?;
    let get = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .ok_or_else(|| ToolError::Shape(format!("\"{k}\" (string) missing")))
    };
    let tpdu: [u8; 5] = hex::decode(get("tpdu")?)?
        .try_into()
        .map_err(|_| ToolError::Shape("tpdu must be 5 bytes".into()))?;
    let header: [u8; 6] = hex::decode(get("header")?)?
        .try_into()
        .map_err(|_| ToolError::Shape("header must be 6 bytes".into()))?;
    let mut msg = Message::new(Mti::parse(get("mti")?)?);
    let fields = json
        .get("fields")
        .and_then(|f| f.as_object())
        .ok_or_else(|| ToolError::Shape("\"fields\" (object) missing".into()))?;
    for (key, value) in fields {
        let n: u8 = key
            .parse()
            .map_err(|_| ToolError::Shape(format!("field key {key:?} is not a number")))?;
        let text = value
            .as_str()
            .ok_or_else(|| ToolError::Shape(format!("field {n} must be a string")))?;
        match field(n).map(|s| s.encoding) {
            Some(Encoding::Binary) => msg.set_bytes(n, hex::decode(text)?)?,
            _ => msg.set_text(n, text.to_string())?,
        };
    }
    println!(
        "{}",
        hex::encode_upper(Frame::new(tpdu, header).encode(&msg)?)
    );
    Ok(())
}

/// The MAK as hex text, from the file, the environment or the command line (in that order).
fn mak_hex(
    key: Option<String>,
    key_file: Option<std::path::PathBuf>,
) -> Result<pos_hal::Secret<String>, ToolError> {
    if let Some(path) = key_file {
        return std::fs::read_to_string(&path)
            .map(|t| pos_hal::Secret::new(t.trim().to_string()))
            .map_err(|e| ToolError::KeyFile(path.display().to_string(), e));
    }
    if let Ok(env) = std::env::var("ISO8583_MAK") {
        return Ok(pos_hal::Secret::new(env.trim().to_string()));
    }
    key.map(pos_hal::Secret::new).ok_or(ToolError::NoKey)
}

fn mac(key: Option<String>, key_file: Option<std::path::PathBuf>) -> Result<(), ToolError> {
    let key = mak_hex(key, key_file)?;
    let bytes = pos_hal::Secret::new(hex::decode(key.expose_secret())?);
    let mak = SecretKey::tdes(bytes.expose_secret())?;
    let bytes = stdin_hex()?;
    let payload = payload(&bytes);
    let (_, msg) = Frame::decode_payload(payload)?;
    let body = &payload[11..];
    if msg.has(64) {
        let (mab, received) = body.split_at(body.len() - 8);
        let computed = cup_mac(&mak, mab)?;
        let verdict = if computed[..] == *received {
            "matches"
        } else {
            "DOES NOT match"
        };
        println!(
            "MAC {} ({verdict} field 64)",
            String::from_utf8_lossy(&computed)
        );
    } else {
        // Without 64 the MAB still needs bit 64 set in the bitmap.
        let mut with_bit = body.to_vec();
        with_bit[9] |= 0x01;
        println!(
            "MAC {} (over MTI..63 with bit 64 set)",
            String::from_utf8_lossy(&cup_mac(&mak, &with_bit)?)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    let result = match args.command {
        Command::Decode { reveal } => decode(reveal),
        Command::Encode => encode(),
        Command::Mac { key, key_file } => mac(key, key_file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iso8583: {e}");
            ExitCode::FAILURE
        }
    }
}
