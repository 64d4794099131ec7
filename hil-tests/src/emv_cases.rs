//! The EMV kernel's scenario suite, written once and run over every transport: in process,
//! through pcscd and vpcd (the contact and the contactless reader) and through the PN532
//! emulator (contactless). Each case is named as a certification case is — an id by area
//! (`SEL` selection, `ODA`, `CVM`, `TAA` action analysis, `ISS` issuer authentication, `SCR`
//! scripts, `QP` qPBOC) — and says what it checks.
//!
//! A case takes the card through a [`Channel`] — any transport's card channel seen through
//! its error kinds — so the same code checks the kernel over each stack. Amounts are in fen,
//! written yuan_fen (`2000_00` is ¥2,000.00) as the POS shows them.
#![allow(clippy::inconsistent_digit_grouping)]

use pos_emv::contact::ONLINE_TAGS;
use pos_emv::tvr::bit;
use pos_emv::{
    CapkSet, Contact, ContactlessCvm, ContactlessLimits, Cryptogram, CvmStep, HostAnswer,
    OdaMethod, OdaResult, SelectionMethod, TapOutcome, TerminalConfig, TransactionData,
};
use pos_hal::{
    Apdu, BeepKind, CardChannel, ContactlessLeds, ErrorKind, ErrorType, Indicators, InlineBytes,
    Rapdu, Secret,
};
use pos_sim::emv::{CardProfile, TEST_CAPK_TOML, TEST_IMK, TEST_IMK_SMI, test_purchase};

/// A card channel of any transport, its errors reduced to their kinds.
pub type Channel<'a> = dyn CardChannel<Error = ErrorKind> + 'a;

/// Presents a transport's card channel as a [`Channel`].
#[derive(Debug)]
pub struct Erased<'a, C: CardChannel + ?Sized>(pub &'a mut C);

impl<C: CardChannel + ?Sized> ErrorType for Erased<'_, C> {
    type Error = ErrorKind;
}

impl<C: CardChannel + ?Sized> CardChannel for Erased<'_, C> {
    fn transmit<'r>(
        &mut self,
        command: &Apdu<'_>,
        response: &'r mut [u8],
    ) -> Result<Rapdu<'r>, ErrorKind> {
        self.0
            .transmit(command, response)
            .map_err(|e| pos_hal::Error::kind(&e))
    }
}

/// Which interface a case needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// The contact reader.
    Contact,
    /// The contactless reader (qPBOC).
    Contactless,
}

/// One case of the suite.
#[derive(Debug, Clone, Copy)]
pub struct EmvCase {
    /// Its id, e.g. `EMV.CVM.003`.
    pub id: &'static str,
    /// What it checks.
    pub checks: &'static str,
    /// The interface it runs on.
    pub interface: Interface,
    /// The card it needs.
    pub card: fn() -> CardProfile,
    /// The check, on the card presented through any transport.
    pub run: fn(&mut Channel<'_>) -> Result<(), String>,
}

impl EmvCase {
    /// The case with this id.
    pub fn find(id: &str) -> Option<&'static EmvCase> {
        CASES.iter().find(|c| c.id == id)
    }
}

fn builtin(name: &str) -> CardProfile {
    CardProfile::builtin(name).unwrap_or_else(|| panic!("built-in profile {name}"))
}

fn capks() -> CapkSet {
    CapkSet::from_toml(TEST_CAPK_TOML).unwrap_or_else(|e| panic!("test CAPKs: {e}"))
}

/// `Err` with `what` unless `holds`.
fn check(holds: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(what()) }
}

fn start<'k>(
    card: &mut Channel<'_>,
    terminal: &'k TerminalConfig,
    keys: &'k CapkSet,
    data: &TransactionData,
) -> Result<Contact<'k>, String> {
    let (list, _) = pos_emv::candidates(card, terminal).map_err(|e| e.to_string())?;
    Contact::start(card, terminal, keys, &list[0], data).map_err(|e| e.to_string())
}

/// What the issuer knows the card by: its PAN and PAN sequence number (as the kernel read
/// them; field 55 carries neither).
struct CardId {
    pan: Option<pos_hal::Pan>,
    psn: Option<u8>,
}

impl CardId {
    fn of(k: &Contact<'_>) -> Self {
        Self {
            pan: k.pan(),
            psn: k.pan_sequence(),
        }
    }
}

/// The issuer's answer: the ARQC of `field55` checked with the test issuer key, an ARPC for
/// `arc` (`forge` breaks it), and `scripts`.
fn issuer_answer(
    card: &CardId,
    field55: &[u8],
    arc: [u8; 2],
    forge: bool,
    scripts: Vec<u8>,
) -> Result<HostAnswer, String> {
    let get = |tag| {
        pos_hal::tlv::find(field55, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
    };
    let pan = card.pan.as_ref().ok_or("the card gave no PAN")?;
    let digits: Vec<u8> = pan.reveal().bytes().map(|b| b - b'0').collect();
    let psn = card.psn.map_or(0, |b| (b >> 4) * 10 + (b & 0x0F));
    let mk = pos_emv::issuer::card_master_key(&TEST_IMK, &digits, psn);
    let atc: [u8; 2] = get(0x9F36)
        .and_then(|v| v.try_into().ok())
        .ok_or("no ATC")?;
    let arqc = pos_emv::issuer::cryptogram(
        &mk,
        atc,
        &pos_emv::issuer::ac_input(get).ok_or("no AC data")?,
    );
    check(get(0x9F26).as_deref() == Some(&arqc[..]), || {
        "the ARQC does not verify with the issuer key".into()
    })?;
    let mut data = pos_emv::issuer::arpc(&mk, atc, arqc, arc).to_vec();
    if forge {
        data[0] ^= 0xFF;
    }
    data.extend_from_slice(&arc);
    Ok(HostAnswer::Answered {
        arc,
        issuer_authentication: Some(data),
        scripts,
    })
}

/// The issuer answers `k`'s ARQC with `arc` (`forge` breaks the ARPC) and the scripts
/// `scripts` makes from field 55; the card completes the transaction.
fn complete_with(
    card: &mut Channel<'_>,
    k: &mut Contact<'_>,
    arc: [u8; 2],
    forge: bool,
    scripts: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<pos_emv::Completion, String> {
    let field55 = k.icc_data(ONLINE_TAGS);
    let answer = issuer_answer(&CardId::of(k), &field55, arc, forge, scripts(&field55)?)?;
    k.complete(card, &answer).map_err(|e| e.to_string())
}

/// An issuer answer without scripts.
fn no_scripts(_: &[u8]) -> Result<Vec<u8>, String> {
    Ok(Vec::new())
}

/// An online contact sale up to the ARQC: start, every CVM step answered (online PIN entered,
/// offline PIN `pin`), first GENERATE AC.
fn online_sale<'k>(
    card: &mut Channel<'_>,
    terminal: &'k TerminalConfig,
    keys: &'k CapkSet,
    pin: &str,
) -> Result<Contact<'k>, String> {
    let mut k = start(card, terminal, keys, &test_purchase(1234))?;
    verify_cardholder(card, &mut k, pin)?;
    let got = k.first_generate_ac(card).map_err(|e| e.to_string())?;
    check(got == Cryptogram::Arqc, || {
        format!("first GENERATE AC gave {got:?}, not an ARQC")
    })?;
    Ok(k)
}

fn verify_cardholder(card: &mut Channel<'_>, k: &mut Contact<'_>, pin: &str) -> Result<(), String> {
    let digits: pos_hal::PinDigits =
        Secret::new(InlineBytes::new(pin.as_bytes()).map_err(|e| e.to_string())?);
    let mut step = k.cardholder_verification(card).map_err(|e| e.to_string())?;
    for _ in 0..4 {
        step = match step {
            CvmStep::Done => return Ok(()),
            CvmStep::OnlinePin => k.online_pin_entered(card, true),
            CvmStep::OfflinePin { .. } => k.verify_offline_pin(card, Some(&digits), &[0x3C; 32]),
        }
        .map_err(|e| e.to_string())?;
    }
    Err(format!("cardholder verification did not end: {step:?}"))
}

// ------------------------------------------------------------------------------ selection

fn sel_001(card: &mut Channel<'_>) -> Result<(), String> {
    let (list, method) =
        pos_emv::candidates(card, &TerminalConfig::china_pos()).map_err(|e| e.to_string())?;
    let labels: Vec<&str> = list.iter().map(|c| c.label.as_str()).collect();
    check(method == SelectionMethod::Pse, || {
        format!("found by {method:?}")
    })?;
    check(labels == ["UnionPay Debit", "UnionPay Credit"], || {
        format!("candidates {labels:?}")
    })
}

fn sel_002(card: &mut Channel<'_>) -> Result<(), String> {
    let (list, method) =
        pos_emv::candidates(card, &TerminalConfig::china_pos()).map_err(|e| e.to_string())?;
    check(method == SelectionMethod::AidList, || {
        format!("found by {method:?}")
    })?;
    check(
        list.first().map(|c| c.aid.as_slice())
            == Some(&[0xA0, 0, 0, 0x03, 0x33, 0x01, 0x01, 0x02][..]),
        || format!("{list:?}"),
    )
}

fn sel_003(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    match start(card, &terminal, &keys, &test_purchase(100)) {
        Err(e) if e.contains("SELECT") => Ok(()),
        Err(e) => Err(format!("refused for another reason: {e}")),
        Ok(_) => Err("a blocked application was selected".into()),
    }
}

// ------------------------------------------------------------------------------------ ODA

fn oda_case(
    card: &mut Channel<'_>,
    keys: &CapkSet,
    method: OdaMethod,
    passes: bool,
    failed_bit: pos_emv::tvr::TvrBit,
) -> Result<(), String> {
    let terminal = TerminalConfig::china_pos();
    let k = online_sale(card, &terminal, keys, "1234")?;
    let (got, result) = k.oda();
    check(got == method, || format!("ODA method {got:?}"))?;
    check((result == OdaResult::Passed) == passes, || {
        format!("ODA {result:?}")
    })?;
    check(k.tvr().has(failed_bit) != passes, || {
        format!("TVR {:02X?}", k.tvr().0)
    })
}

fn oda_001(card: &mut Channel<'_>) -> Result<(), String> {
    oda_case(card, &capks(), OdaMethod::Sda, true, bit::SDA_FAILED)
}

fn oda_002(card: &mut Channel<'_>) -> Result<(), String> {
    oda_case(card, &capks(), OdaMethod::Sda, false, bit::SDA_FAILED)
}

fn oda_003(card: &mut Channel<'_>) -> Result<(), String> {
    oda_case(card, &capks(), OdaMethod::Dda, true, bit::DDA_FAILED)
}

fn oda_004(card: &mut Channel<'_>) -> Result<(), String> {
    let none = CapkSet::from_toml("").map_err(|e| e.to_string())?;
    oda_case(card, &none, OdaMethod::Dda, false, bit::DDA_FAILED)
}

fn oda_005(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = online_sale(card, &terminal, &keys, "1234")?;
    let done = complete_with(card, &mut k, *b"00", false, no_scripts)?;
    check(done.approved, || format!("{done:?}"))?;
    check(k.oda() == (OdaMethod::Cda, OdaResult::Passed), || {
        format!("ODA {:?}", k.oda())
    })?;
    check(!k.tvr().has(bit::CDA_FAILED), || {
        format!("TVR {:02X?}", k.tvr().0)
    })
}

// ------------------------------------------------------------------------------------ CVM

fn cvm_case(card: &mut Channel<'_>, pin: &str, results: [u8; 3]) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let k = online_sale(card, &terminal, &keys, pin)?;
    check(k.cvm_results() == results, || {
        format!("CVM results {:02X?}", k.cvm_results())
    })?;
    check(!k.tvr().has(bit::CVM_FAILED), || {
        format!("TVR {:02X?}", k.tvr().0)
    })
}

fn cvm_001(card: &mut Channel<'_>) -> Result<(), String> {
    cvm_case(card, "1234", [0x42, 0x03, 0x00])
}

fn cvm_002(card: &mut Channel<'_>) -> Result<(), String> {
    cvm_case(card, "1234", [0x41, 0x03, 0x02])
}

fn cvm_003(card: &mut Channel<'_>) -> Result<(), String> {
    cvm_case(card, "1234", [0x44, 0x03, 0x02])
}

fn cvm_004(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let k = online_sale(card, &terminal, &keys, "1234")?;
    check(k.signature_required(), || {
        format!("CVM results {:02X?}", k.cvm_results())
    })
}

fn cvm_005(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = start(card, &terminal, &keys, &test_purchase(1234))?;
    let step = k.cardholder_verification(card).map_err(|e| e.to_string())?;
    check(step == CvmStep::OnlinePin, || format!("{step:?}"))?;
    check(k.tvr().has(bit::PIN_TRY_LIMIT_EXCEEDED), || {
        format!("TVR {:02X?}", k.tvr().0)
    })
}

fn cvm_006(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = start(card, &terminal, &keys, &test_purchase(1234))?;
    k.cardholder_verification(card).map_err(|e| e.to_string())?;
    let wrong: pos_hal::PinDigits =
        Secret::new(InlineBytes::new(b"9999").map_err(|e| e.to_string())?);
    let step = k
        .verify_offline_pin(card, Some(&wrong), &[0x3C; 32])
        .map_err(|e| e.to_string())?;
    check(
        step == CvmStep::OfflinePin {
            tries_left: Some(2),
        },
        || format!("{step:?}"),
    )
}

// ------------------------------------------------------------------------ action analysis

fn taa_001(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    online_sale(card, &terminal, &keys, "1234").map(drop)
}

fn taa_002(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let data = TransactionData {
        electronic_cash: true,
        ..test_purchase(3000)
    };
    let mut k = start(card, &terminal, &keys, &data)?;
    check(k.electronic_cash(), || {
        "the card did not take electronic cash".into()
    })?;
    verify_cardholder(card, &mut k, "1234")?;
    let got = k.first_generate_ac(card).map_err(|e| e.to_string())?;
    check(got == Cryptogram::Tc, || format!("{got:?}, not a TC"))
}

fn taa_003(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = start(card, &terminal, &keys, &test_purchase(1234))?;
    check(k.tvr().has(bit::EXPIRED), || {
        format!("TVR {:02X?}", k.tvr().0)
    })?;
    verify_cardholder(card, &mut k, "1234")?;
    let got = k.first_generate_ac(card).map_err(|e| e.to_string())?;
    check(got != Cryptogram::Tc, || {
        "an expired card approved offline".into()
    })
}

fn taa_004(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = online_sale(card, &terminal, &keys, "1234")?;
    let done = complete_with(card, &mut k, *b"00", false, no_scripts)?;
    check(
        !done.approved && done.reverse && done.cryptogram == Cryptogram::Aac,
        || format!("{done:?}"),
    )
}

fn taa_005(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = online_sale(card, &terminal, &keys, "1234")?;
    let done = complete_with(card, &mut k, *b"51", false, no_scripts)?;
    check(
        !done.approved && !done.reverse && done.cryptogram == Cryptogram::Aac,
        || format!("{done:?}"),
    )
}

// ------------------------------------------------------------- issuer authentication, scripts

fn iss_001(card: &mut Channel<'_>) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = online_sale(card, &terminal, &keys, "1234")?;
    let done = complete_with(card, &mut k, *b"00", true, no_scripts)?;
    check(k.tvr().has(bit::ISSUER_AUTH_FAILED), || {
        format!("TVR {:02X?}", k.tvr().0)
    })?;
    check(!done.approved && done.reverse, || format!("{done:?}"))
}

fn pin_unblock(field55: &[u8], imk_smi: &[u8; 16]) -> Result<Vec<u8>, String> {
    let get = |tag| {
        pos_hal::tlv::find(field55, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
    };
    let atc: [u8; 2] = get(0x9F36)
        .and_then(|v| v.try_into().ok())
        .ok_or("no ATC")?;
    let arqc: [u8; 8] = get(0x9F26)
        .and_then(|v| v.try_into().ok())
        .ok_or("no ARQC")?;
    let digits: Vec<u8> = b"6212345678901232".iter().map(|b| b - b'0').collect();
    let mk_smi = pos_emv::issuer::card_master_key(imk_smi, &digits, 1);
    let command =
        pos_emv::issuer::script_command(&mk_smi, atc, arqc, [0x84, 0x24, 0x00, 0x00], &[])
            .ok_or("script too long")?;
    let mut body = pos_sim::tlv::tlv(0x9F18, &[0, 0, 0, 1]);
    body.extend_from_slice(&pos_sim::tlv::tlv(0x86, &command));
    Ok(pos_sim::tlv::tlv(0x72, &body))
}

fn script_case(card: &mut Channel<'_>, imk_smi: &[u8; 16], result: u8) -> Result<(), String> {
    let (terminal, keys) = (TerminalConfig::china_pos(), capks());
    let mut k = online_sale(card, &terminal, &keys, "1234")?;
    let done = complete_with(card, &mut k, *b"00", false, |field55| {
        pin_unblock(field55, imk_smi)
    })?;
    check(done.approved, || format!("{done:?}"))?;
    check(done.script_results == [result, 0, 0, 0, 1], || {
        format!("DF31 {:02X?}", done.script_results)
    })?;
    check(
        k.tvr().has(bit::SCRIPT_FAILED_AFTER) == (result >> 4 == 1),
        || format!("TVR {:02X?}", k.tvr().0),
    )
}

fn scr_001(card: &mut Channel<'_>) -> Result<(), String> {
    script_case(card, &TEST_IMK_SMI, 0x20)
}

fn scr_002(card: &mut Channel<'_>) -> Result<(), String> {
    script_case(card, &[0x42; 16], 0x11)
}

// ---------------------------------------------------------------------------------- qPBOC

/// Lights and beeps, kept.
#[derive(Debug, Default)]
struct Lights {
    leds: Vec<ContactlessLeds>,
    beeps: Vec<BeepKind>,
}

impl ErrorType for Lights {
    type Error = core::convert::Infallible;
}

impl Indicators for Lights {
    fn beep(&mut self, kind: BeepKind) -> Result<(), Self::Error> {
        self.beeps.push(kind);
        Ok(())
    }
    fn set_contactless_leds(&mut self, leds: ContactlessLeds) -> Result<(), Self::Error> {
        self.leds.push(leds);
        Ok(())
    }
}

fn tap(
    card: &mut Channel<'_>,
    limits: &ContactlessLimits,
    amount: u64,
) -> Result<(pos_emv::Tap, Lights), String> {
    let mut lights = Lights::default();
    let tap = pos_emv::tap(
        card,
        &mut lights,
        &TerminalConfig::china_pos(),
        limits,
        &capks(),
        &test_purchase(amount),
    )
    .map_err(|e| e.to_string())?;
    Ok((tap, lights))
}

fn qp_001(card: &mut Channel<'_>) -> Result<(), String> {
    let (t, lights) = tap(card, &ContactlessLimits::default(), 1234)?;
    match t.outcome() {
        TapOutcome::Online { cvm, icc_data } => {
            check(*cvm == ContactlessCvm::None, || format!("CVM {cvm:?}"))?;
            let id = CardId {
                pan: t.pan(),
                psn: t.pan_sequence(),
            };
            issuer_answer(&id, icc_data, *b"00", false, Vec::new()).map(drop)?;
        }
        other => return Err(format!("{other:?}")),
    }
    check(
        lights.leds.last() == Some(&ContactlessLeds::lit(4)) && lights.beeps == [BeepKind::Success],
        || format!("{lights:?}"),
    )
}

fn qp_002(card: &mut Channel<'_>) -> Result<(), String> {
    let (t, _) = tap(card, &ContactlessLimits::default(), 2000_00)?;
    check(
        matches!(
            t.outcome(),
            TapOutcome::Online {
                cvm: ContactlessCvm::OnlinePin,
                ..
            }
        ),
        || format!("{:?}", t.outcome()),
    )
}

/// A ¥12.34 tap under a ¥500 floor limit: a card with electronic cash may approve it offline.
fn tap_under_the_floor_limit(card: &mut Channel<'_>) -> Result<pos_emv::Tap, String> {
    let limits = ContactlessLimits {
        floor_limit: 500_00,
        ..ContactlessLimits::default()
    };
    tap(card, &limits, 12_34).map(|(t, _)| t)
}

fn qp_003(card: &mut Channel<'_>) -> Result<(), String> {
    let t = tap_under_the_floor_limit(card)?;
    check(
        matches!(t.outcome(), TapOutcome::ApprovedOffline { .. }),
        || format!("{:?}", t.outcome()),
    )?;
    check(t.fdda() == Some(Ok(())), || format!("fDDA {:?}", t.fdda()))
}

fn qp_004(card: &mut Channel<'_>) -> Result<(), String> {
    let limits = ContactlessLimits {
        transaction_limit: 100_00,
        ..ContactlessLimits::default()
    };
    let (t, _) = tap(card, &limits, 100_01)?;
    check(t.outcome() == &TapOutcome::UseContact, || {
        format!("{:?}", t.outcome())
    })
}

fn qp_005(card: &mut Channel<'_>) -> Result<(), String> {
    let (t, _) = tap(card, &ContactlessLimits::default(), 2000_00)?;
    check(
        matches!(
            t.outcome(),
            TapOutcome::Online {
                cvm: ContactlessCvm::Signature,
                ..
            }
        ),
        || format!("{:?}", t.outcome()),
    )
}

fn qp_006(card: &mut Channel<'_>) -> Result<(), String> {
    let t = tap_under_the_floor_limit(card)?;
    check(t.outcome() == &TapOutcome::Declined, || {
        format!("{:?}", t.outcome())
    })?;
    check(t.tvr().has(bit::DDA_FAILED), || {
        format!("TVR {:02X?}", t.tvr().0)
    })
}

fn credit_without_pse() -> CardProfile {
    let mut p = builtin("unionpay-credit");
    p.pse = false;
    p
}

/// A card whose qualifiers (9F6C = 40 00) ask for a signature when a CVM is required.
fn signature_on_tap() -> CardProfile {
    let mut p = builtin("unionpay-debit");
    if let Some(app) = p.applications.first_mut() {
        app.ctq = Some(pos_sim::emv::HexBytes(vec![0x40, 0x00]));
    }
    p
}

fn qpboc_offline_forged() -> CardProfile {
    let mut p = builtin("unionpay-qpboc-offline");
    if let Some(app) = p.applications.first_mut() {
        app.corrupt_oda = true;
    }
    p
}

macro_rules! case {
    ($id:literal, $iface:ident, $card:expr, $run:ident, $checks:literal) => {
        EmvCase {
            id: $id,
            checks: $checks,
            interface: Interface::$iface,
            card: $card,
            run: $run,
        }
    };
}

/// Every case, in run order.
pub const CASES: &[EmvCase] = &[
    case!(
        "EMV.SEL.001",
        Contact,
        || builtin("unionpay-dual"),
        sel_001,
        "the PSE lists every mutually supported application, highest priority first"
    ),
    case!(
        "EMV.SEL.002",
        Contact,
        credit_without_pse,
        sel_002,
        "without a PSE the terminal's AID list finds the application by partial match"
    ),
    case!(
        "EMV.SEL.003",
        Contact,
        || builtin("unionpay-blocked"),
        sel_003,
        "a blocked application (6283) is refused at final selection"
    ),
    case!(
        "EMV.ODA.001",
        Contact,
        || builtin("unionpay-credit"),
        oda_001,
        "SDA passes on a card whose signed static data verify"
    ),
    case!(
        "EMV.ODA.002",
        Contact,
        || builtin("unionpay-sda-failure"),
        oda_002,
        "SDA fails and sets its TVR bit when the static data were altered"
    ),
    case!(
        "EMV.ODA.003",
        Contact,
        || builtin("unionpay-debit"),
        oda_003,
        "DDA passes: certificates recovered, INTERNAL AUTHENTICATE signature verified"
    ),
    case!(
        "EMV.ODA.004",
        Contact,
        || builtin("unionpay-debit"),
        oda_004,
        "DDA fails and sets its TVR bit when the CA key is not loaded"
    ),
    case!(
        "EMV.ODA.005",
        Contact,
        || builtin("unionpay-cda"),
        oda_005,
        "CDA: the signature over the cryptogram verifies at both GENERATE ACs"
    ),
    case!(
        "EMV.CVM.001",
        Contact,
        || builtin("unionpay-debit"),
        cvm_001,
        "online PIN: CVM results 42 03 00"
    ),
    case!(
        "EMV.CVM.002",
        Contact,
        || builtin("unionpay-offline-pin"),
        cvm_002,
        "offline plaintext PIN verified by the card: 41 03 02"
    ),
    case!(
        "EMV.CVM.003",
        Contact,
        || builtin("unionpay-enciphered-pin"),
        cvm_003,
        "offline enciphered PIN verified by the card: 44 03 02"
    ),
    case!(
        "EMV.CVM.004",
        Contact,
        || builtin("unionpay-credit"),
        cvm_004,
        "signature: the slip needs the cardholder's signature"
    ),
    case!(
        "EMV.CVM.005",
        Contact,
        || builtin("unionpay-pin-blocked"),
        cvm_005,
        "PIN try limit exceeded: its TVR bit set and the next CVM applies"
    ),
    case!(
        "EMV.CVM.006",
        Contact,
        || builtin("unionpay-offline-pin"),
        cvm_006,
        "a wrong offline PIN is counted by the card and may be retried"
    ),
    case!(
        "EMV.TAA.001",
        Contact,
        || builtin("unionpay-debit"),
        taa_001,
        "an online-only card goes online: ARQC that the issuer key verifies"
    ),
    case!(
        "EMV.TAA.002",
        Contact,
        || builtin("unionpay-ec"),
        taa_002,
        "electronic cash within balance and limit is approved offline: TC"
    ),
    case!(
        "EMV.TAA.003",
        Contact,
        || builtin("unionpay-expired"),
        taa_003,
        "an expired card sets its TVR bit and is never approved offline"
    ),
    case!(
        "EMV.TAA.004",
        Contact,
        || builtin("unionpay-card-declines"),
        taa_004,
        "a card that declines the host's approval gives an AAC and asks for a reversal"
    ),
    case!(
        "EMV.TAA.005",
        Contact,
        || builtin("unionpay-debit"),
        taa_005,
        "a host decline (51) ends with an AAC, nothing to reverse"
    ),
    case!(
        "EMV.ISS.001",
        Contact,
        || builtin("unionpay-debit"),
        iss_001,
        "a forged ARPC fails issuer authentication; the card declines and the approval is reversed"
    ),
    case!(
        "EMV.SCR.001",
        Contact,
        || builtin("unionpay-pin-blocked"),
        scr_001,
        "an issuer script after the second GENERATE AC runs and is reported successful in DF31"
    ),
    case!(
        "EMV.SCR.002",
        Contact,
        || builtin("unionpay-pin-blocked"),
        scr_002,
        "a script command whose MAC fails is refused by the card and reported failed"
    ),
    case!(
        "EMV.QP.001",
        Contactless,
        || builtin("unionpay-debit"),
        qp_001,
        "a tap under the CVM limit goes online without CVM, its ARQC verifies, four lights and a beep"
    ),
    case!(
        "EMV.QP.002",
        Contactless,
        || builtin("unionpay-debit"),
        qp_002,
        "above the CVM limit the card's qualifiers ask for an online PIN"
    ),
    case!(
        "EMV.QP.003",
        Contactless,
        || builtin("unionpay-qpboc-offline"),
        qp_003,
        "under the floor limit a card with electronic cash approves offline with a valid fDDA"
    ),
    case!(
        "EMV.QP.004",
        Contactless,
        || builtin("unionpay-debit"),
        qp_004,
        "above the transaction limit the card is told to use the contact interface"
    ),
    case!(
        "EMV.QP.005",
        Contactless,
        signature_on_tap,
        qp_005,
        "a signature card above the CVM limit signs"
    ),
    case!(
        "EMV.QP.006",
        Contactless,
        qpboc_offline_forged,
        qp_006,
        "an offline approval whose fDDA does not verify is declined"
    ),
];
