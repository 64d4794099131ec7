//! Runs one EMV contact transaction on a card in any reader, without a host.
//!
//! emv-txn --device SELECTOR --amount CENTS [--capk FILE] [--offline-pin DIGITS]
//!
//! The kernel selects the application, authenticates the card offline, verifies the
//! cardholder, asks for a cryptogram and, when the card wants to go online, completes as if
//! the issuer approved (no issuer authentication data: there is no host). One line per
//! result, card number masked.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pos_emv::contact::ONLINE_TAGS;
use pos_emv::{
    CapkSet, Contact, Cryptogram, CvmStep, HostAnswer, OdaMethod, OdaResult, TerminalConfig,
    TransactionData,
};
use pos_hal::{CancelToken, DateTime, IccReader, InlineBytes, PiccReader, Secret};

#[derive(Parser, Debug)]
#[command(version, about = "Run one EMV transaction on a card (no host needed)")]
struct Args {
    /// Reader selector, as `devices` lists it (`pcsc:Virtual PCD 00 00`, `pcsc:~ACR`).
    #[arg(long)]
    device: String,
    /// Amount in cents.
    #[arg(long)]
    amount: u64,
    /// CA public keys (`[[capk]]` TOML); default: the simulators' test CA.
    #[arg(long)]
    capk: Option<std::path::PathBuf>,
    /// Terminal and AID configuration (TOML: capabilities, `[[aid]]` with TACs and limits);
    /// default: a Chinese attended POS accepting UnionPay (see examples/emv-terminal.toml).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// The PIN to give the card when it asks for an offline PIN (else it is bypassed).
    #[arg(long)]
    offline_pin: Option<String>,
    /// Run the qPBOC contactless kernel (PPSE, cryptogram in GPO, fDDA) instead of contact.
    #[arg(long)]
    contactless: bool,
    /// Contactless floor limit in cents (above it the card must go online).
    #[arg(long, default_value_t = 0)]
    floor_limit: u64,
    /// Seconds to wait for a card.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

fn bcd(v: u32) -> u8 {
    (((v / 10 % 10) as u8) << 4) | (v % 10) as u8
}

fn cvm_name(results: [u8; 3]) -> String {
    let method = match results[0] & 0x3F {
        0x3F => return "none performed".into(),
        0x00 => "fail CVM",
        0x01 => "offline plaintext PIN",
        0x02 => "online PIN",
        0x03 => "offline plaintext PIN and signature",
        0x04 => "offline enciphered PIN",
        0x05 => "offline enciphered PIN and signature",
        0x1E => "signature",
        0x1F => "no CVM required",
        _ => "unknown",
    };
    let result = match results[2] {
        0x01 => "failed",
        0x02 => "successful",
        _ => "result unknown",
    };
    format!("{method} ({result})")
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let text = match &args.capk {
        Some(path) => std::fs::read_to_string(path)?,
        None => include_str!("../../../sim/fixtures/emv-ca/capk.toml").to_string(),
    };
    let capks = CapkSet::from_toml(&text)?;
    let mut terminal = match &args.config {
        Some(path) => TerminalConfig::from_toml(&std::fs::read_to_string(path)?)?,
        None => TerminalConfig::china_pos(),
    };
    if args.offline_pin.is_none() {
        terminal.capabilities[1] &= !0x80;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let now = DateTime::from_unix(secs, 8 * 3600)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let txn = TransactionData {
        amount: args.amount,
        other_amount: 0,
        kind: 0x00,
        date: [
            bcd(u32::from(now.year() % 100)),
            bcd(u32::from(now.month())),
            bcd(u32::from(now.day())),
        ],
        time: [
            bcd(u32::from(now.hour())),
            bcd(u32::from(now.minute())),
            bcd(u32::from(now.second())),
        ],
        unpredictable: nanos.to_be_bytes(),
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    };
    if args.contactless {
        // Any contactless reader: PC/SC, a PN532 (`pn532:`), libnfc (`nfc:`).
        let mut picc = pos_devices::open_picc(&args.device)?;
        let timeout = Duration::from_secs(args.timeout);
        match picc.poll(pos_hal::TargetTypes::AB, timeout, &CancelToken::new())? {
            pos_hal::PollOutcome::Card(target) => {
                println!("Card: UID {}", hex::encode_upper(target.uid.as_bytes()))
            }
            pos_hal::PollOutcome::Collision => {
                return Err("more than one card in the field: present one card only".into());
            }
            _ => return Err("no card was tapped in time".into()),
        }
        let done = tap(picc.as_mut(), &terminal, &capks, &txn, args.floor_limit);
        let _ = picc.deactivate();
        return done;
    }
    let mut reader = pos_devices::open_icc(&args.device)?;
    reader.wait_for_card(Duration::from_secs(args.timeout), &CancelToken::new())?;
    reader.power_on()?;
    let card = reader.as_mut();
    let (candidates, _) = pos_emv::candidates(card, &terminal)?;
    let mut kernel = None;
    let mut last_error = None;
    for candidate in &candidates {
        match Contact::start(card, &terminal, &capks, candidate, &txn) {
            Ok(k) => {
                kernel = Some(k);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let Some(mut k) = kernel else {
        return Err(last_error
            .map_or("no application could be started".into(), |e| e.to_string())
            .into());
    };
    println!("AID: {} {}", hex::encode_upper(k.aid()), k.label());
    if let Some(pan) = k.pan() {
        println!("PAN: {pan}");
    }
    let mut step = k.cardholder_verification(card)?;
    loop {
        step = match step {
            CvmStep::Done => break,
            CvmStep::OnlinePin => k.online_pin_entered(card, true)?,
            CvmStep::OfflinePin { .. } => {
                let pin = args
                    .offline_pin
                    .as_deref()
                    .map(|p| InlineBytes::new(p.as_bytes()).map(Secret::new))
                    .transpose()?;
                let random: [u8; 32] = pos_platform::random()?;
                let next = k.verify_offline_pin(card, pin.as_ref(), &random)?;
                if matches!(next, CvmStep::OfflinePin { .. }) {
                    // A wrong PIN: give up on this method rather than retry the same digits.
                    k.verify_offline_pin(card, None, &random)?
                } else {
                    next
                }
            }
        };
    }
    let mut cryptogram = k.first_generate_ac(card)?;
    let field55 = k.icc_data(ONLINE_TAGS);
    if cryptogram == Cryptogram::Arqc {
        let approved = HostAnswer::Answered {
            arc: *b"00",
            issuer_authentication: None,
            scripts: Vec::new(),
        };
        cryptogram = k.complete(card, &approved)?.cryptogram;
    }
    let (method, result) = k.oda();
    let method = match method {
        OdaMethod::None => "none",
        OdaMethod::Sda => "SDA",
        OdaMethod::Dda => "DDA",
        OdaMethod::Cda => "CDA",
    };
    let result = match result {
        OdaResult::Passed => "ok".to_string(),
        OdaResult::NotPerformed => "not performed".to_string(),
        OdaResult::Failed(why) => format!("failed ({why})"),
    };
    println!("ODA: {method} {result}");
    println!("CVM: {}", cvm_name(k.cvm_results()));
    println!("TVR: {}", k.tvr());
    println!("TSI: {}", k.tsi());
    let value = k
        .cryptogram()
        .map(|(_, v)| hex::encode_upper(v))
        .unwrap_or_default();
    println!("Cryptogram: {} {value}", cryptogram.name());
    println!("Field 55: {}", hex::encode_upper(&field55));
    reader.power_off()?;
    Ok(())
}

/// The lights of a reader without lights: each change is printed.
struct PrintedLights;

impl pos_hal::ErrorType for PrintedLights {
    type Error = std::convert::Infallible;
}

impl pos_hal::Indicators for PrintedLights {
    fn beep(&mut self, kind: pos_hal::BeepKind) -> Result<(), Self::Error> {
        println!("Beep: {kind:?}");
        Ok(())
    }
    fn set_contactless_leds(&mut self, leds: pos_hal::ContactlessLeds) -> Result<(), Self::Error> {
        let lit = [leds.ready, leds.reading, leds.read, leds.done];
        println!(
            "Lights: {}",
            lit.iter()
                .map(|on| if *on { '●' } else { '○' })
                .collect::<String>()
        );
        Ok(())
    }
}

fn tap(
    card: &mut dyn pos_hal::CardChannel<Error = pos_devices::DynError>,
    terminal: &TerminalConfig,
    capks: &CapkSet,
    txn: &TransactionData,
    floor_limit: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let limits = pos_emv::ContactlessLimits {
        floor_limit,
        ..Default::default()
    };
    let tap = pos_emv::tap(card, &mut PrintedLights, terminal, &limits, capks, txn)?;
    if tap.outcome() == &pos_emv::TapOutcome::UseContact {
        return Err(
            "the card asks to be inserted (amount over the contactless limit, or not qPBOC)".into(),
        );
    }
    println!("AID: {} {}", hex::encode_upper(tap.aid()), tap.label());
    if let Some(pan) = tap.pan() {
        println!("PAN: {pan}");
    }
    let oda = match tap.fdda() {
        None => "fDDA not performed".to_string(),
        Some(Ok(())) => "fDDA ok".to_string(),
        Some(Err(why)) => format!("fDDA failed ({why})"),
    };
    println!("ODA: {oda}");
    let (cvm, field55) = match tap.outcome() {
        pos_emv::TapOutcome::Online { cvm, icc_data } => (format!("{cvm:?}"), icc_data.clone()),
        pos_emv::TapOutcome::ApprovedOffline { icc_data } => ("None".into(), icc_data.clone()),
        _ => ("None".into(), Vec::new()),
    };
    println!("CVM: {cvm}");
    println!("TVR: {}", tap.tvr());
    println!("TSI: {}", tap.tsi());
    let (kind, value) = tap
        .cryptogram()
        .map(|(k, v)| (k.name(), hex::encode_upper(v)))
        .unwrap_or(("none", String::new()));
    println!("Cryptogram: {kind} {value}");
    println!("Field 55: {}", hex::encode_upper(&field55));
    Ok(())
}

fn main() -> ExitCode {
    pos_examples::init_tracing();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emv-txn: {e}");
            ExitCode::FAILURE
        }
    }
}
