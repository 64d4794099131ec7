//! The headless POS (`pos`) through the real host link, journal and printer transport, driven by
//! the scripts in `examples/scripts/`.

mod common;

use std::path::Path;

use common::{Stage, pos_command, script};
use pos_sim::acquirer::{HostConfig, HostSim};
use pos_sim::emv::{CardProfile, EmvCard};
use pos_sim::printer::VirtualPrinter;
use pos_sim::vpcd::Faults;
use pos_sim::{require_stack, slots};

/// Runs `pos` with `script`; returns (exit code, stdout, stderr).
fn pos(
    host: &HostSim,
    printer: &VirtualPrinter,
    journal: &Path,
    script: &Path,
    reader: Option<&str>,
) -> (i32, String, String) {
    pos_flow("sale", host, printer, journal, script, reader)
}

fn pos_flow(
    flow: &str,
    host: &HostSim,
    printer: &VirtualPrinter,
    journal: &Path,
    script: &Path,
    reader: Option<&str>,
) -> (i32, String, String) {
    let mut cmd = pos_command(flow, host, printer, journal, script);
    if let Some(r) = reader {
        cmd.arg("--reader").arg(r);
    }
    let out = cmd.output().expect("pos runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `pos` (sale) with `script` and a card of `profile` in the contact reader (pcscd slot
/// 0); the card is taken out before the caller looks at the outcome.
fn with_chip(
    host: &HostSim,
    printer: &VirtualPrinter,
    journal: &Path,
    script: &Path,
    profile: CardProfile,
) -> (i32, String, String) {
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    let out = pos(
        host,
        printer,
        journal,
        script,
        Some("pcsc:Virtual PCD 00 00"),
    );
    slots::remove(card, 0).expect("remove");
    out
}

#[test]
fn a_swiped_sale_is_approved_and_both_slips_print() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "swipe");
    let (code, out, err) = pos(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-swipe.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("交易成功 APPROVED"), "{out}");
    assert!(
        !out.contains("6212345678901232"),
        "the PAN is only shown masked"
    );
    let jobs = printer.jobs();
    assert_eq!(jobs.len(), 2, "merchant and cardholder copies");
    assert!(
        jobs[0].transcript().contains("商户存根"),
        "{}",
        jobs[0].transcript()
    );
    assert!(
        jobs[1].transcript().contains("持卡人存根"),
        "{}",
        jobs[1].transcript()
    );
}

#[test]
fn scripts_check_what_they_expect_declines_and_chip_cards_swiped() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "declined");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &script("sale-declined.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("DECLINED (51)"), "{out}");
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &script("sale-chip-swiped.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(printer.jobs().is_empty());
    // A script whose expectation does not hold fails the run.
    let wrong = d.0.join("wrong.txt");
    std::fs::write(&wrong, "keys 100\nexpect contains 99.99\ncancel\n").expect("write");
    let (code, out, _) = pos(&host, &printer, &journal, &wrong, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL expect contains 99.99"), "{out}");
}

#[test]
fn a_balance_inquiry_shows_the_ledger_balance_and_prints_nothing() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "balance");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    // After the RMB 50.00 sale the scripted RMB 10000.00 is wrong: the check must fail.
    let (code, out, err) = pos_flow(
        "balance",
        &host,
        &printer,
        &journal,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("RMB 9950.00"), "{out}");
    let fresh = d.0.join("fresh.sqlite");
    let other = HostSim::start(HostConfig::demo(d.0.join("ledger2.sqlite"))).expect("host");
    let (code, out, err) = pos_flow(
        "balance",
        &other,
        &printer,
        &fresh,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(printer.jobs().len(), 2, "only the sale's two slips");
}

#[test]
fn a_void_gives_the_money_back_once_and_prints_its_slips() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "void");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = pos_flow("void", &host, &printer, &journal, &script("void.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let jobs = printer.jobs();
    assert_eq!(jobs.len(), 4, "two slips of the sale, two of the void");
    assert!(
        jobs[2].transcript().contains("VOID"),
        "{}",
        jobs[2].transcript()
    );
    // The balance is whole again.
    let (code, out, err) = pos_flow(
        "balance",
        &host,
        &printer,
        &journal,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // The same voucher again: the terminal knows it is voided and does not go online.
    let (code, out, _) = pos_flow("void", &host, &printer, &journal, &script("void.txt"), None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("voided already"), "{out}");
    let (code, out, _) = pos_flow(
        "balance",
        &host,
        &printer,
        &journal,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 0, "a second void must not pay out again: {out}");
}

#[test]
fn a_refund_gives_back_part_of_a_sale_and_never_more_than_it() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "refund");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = pos_flow(
        "refund",
        &host,
        &printer,
        &journal,
        &script("refund.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let jobs = printer.jobs();
    assert_eq!(jobs.len(), 4);
    assert!(
        jobs[2].transcript().contains("REFUND"),
        "{}",
        jobs[2].transcript()
    );
    // RMB 30.00 is left of the sale: RMB 40.00 more is refused by the host (61), nothing printed.
    let too_much = d.0.join("too-much.txt");
    let text = std::fs::read_to_string(script("refund.txt"))
        .expect("script")
        .replace("keys 2000", "keys 4000")
        .replace(
            "expect screen TearReceipt",
            "expect screen Declined\nexpect contains 61",
        )
        .replace(
            "expect printed 1\nenter\nexpect printed 2",
            "enter\nexpect printed 0",
        );
    std::fs::write(&too_much, text).expect("write");
    let (code, out, err) = pos_flow("refund", &host, &printer, &journal, &too_much, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(printer.jobs().len(), 4);
}

#[test]
fn paper_out_between_the_copies_keeps_the_sale_and_the_slip_is_reprinted_after_loading_paper() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "paper-out-between");
    let journal = d.0.join("journal.sqlite");
    let balance = || d.balance("6212345678901232");
    let before = balance();
    printer.paper_out_after_jobs(Some(1));
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &script("sale-paper-out-cardholder.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let whole = |p: &VirtualPrinter| p.jobs().into_iter().filter(|j| j.complete).count();
    assert_eq!(whole(&printer), 1, "only the merchant copy");
    printer.set_paper(pos_sim::printer::Paper::Ok);
    // The reprint is the next request-free step; a balance inquiry after it would send any
    // queued reversal first — there must be none: the sale stands.
    let (code, out, err) = pos_flow(
        "reprint",
        &host,
        &printer,
        &journal,
        &script("reprint-last.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(whole(&printer), 2);
    let jobs = printer.jobs();
    assert!(
        jobs.last()
            .expect("reprint")
            .transcript()
            .contains("重打印 REPRINT")
    );
    // Any reversal queued would go out before the next request: a sale of RMB 0.01 is one.
    let next = d.0.join("next.txt");
    std::fs::write(
        &next,
        "keys 1\nenter\nswipe ;6212345678901232=30121011234567890?\nenter\nenter\nexpect screen Done\n",
    )
    .expect("script");
    let (code, out, err) = pos(&host, &printer, &journal, &next, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(balance(), before - 5000 - 1, "charged once, not reversed");
}

#[test]
fn paper_out_on_the_merchant_copy_and_given_up_reverses_the_sale_before_the_next() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "paper-out");
    let journal = d.0.join("journal.sqlite");
    printer.set_paper(pos_sim::printer::Paper::Out);
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &script("sale-paper-out.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    printer.set_paper(pos_sim::printer::Paper::Ok);
    // The balance inquiry is the next request: the reversal goes first, so the RMB 50.00 is back.
    let (code, out, err) = pos_flow(
        "balance",
        &host,
        &printer,
        &journal,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_chip_that_checks_an_enciphered_offline_pin_is_sold_without_a_pin_block() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-offline-pin");
    let profile = CardProfile::builtin("unionpay-enciphered-pin").expect("profile");
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip-offline-pin.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!out.contains("9999") && !out.contains("1234\n"), "{out}");
    let balance = d.balance("6212345678901232");
    assert_eq!(balance, 1_000_000 - 1234, "charged once");
    // The card verified the PIN: the request carried chip data saying so (9F34 = 44 03 02)
    // and no PIN block for the host.
    let journal = rusqlite::Connection::open(d.0.join("journal.sqlite")).expect("journal");
    let request: Vec<u8> = journal
        .query_row("SELECT request FROM records ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .expect("the sale");
    let sale = pos_terminal::iso8583::Message::unpack(&request).expect("unpacks");
    assert_eq!(
        sale.string(22).ok().flatten().as_deref(),
        Some("052"),
        "chip, no PIN entered for the host"
    );
}

#[test]
fn a_card_with_two_applications_pays_from_the_one_the_cardholder_chose() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-choose-app");
    let profile = CardProfile::builtin("unionpay-dual").expect("profile");
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip-choose-app.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let balance = |pan: &str| d.balance(pan);
    assert_eq!(
        balance("6225880123456783"),
        2_000_000 - 1234,
        "the credit account"
    );
    assert_eq!(balance("6212345678901232"), 1_000_000, "not the debit one");
}

#[test]
fn a_blocked_application_chosen_is_taken_off_the_list_and_the_other_offered() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-blocked-choice");
    let mut profile = CardProfile::builtin("unionpay-dual").expect("profile");
    profile.applications[0].blocked = true;
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    let choose = d.0.join("choose.txt");
    std::fs::write(
        &choose,
        "keys 1234\nenter\ninsert\nexpect screen SelectApplication\nenter\n\
         expect screen SelectApplication\nexpect contains 1 UnionPay Credit\n\
         expect lacks UnionPay Debit\nkey 1\nexpect screen ConfirmCard\n\
         expect contains 622588******6783\nenter\nexpect screen TearReceipt\nenter\n\
         expect screen Done\n",
    )
    .expect("script");
    let (code, out, err) = pos(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &choose,
        Some("pcsc:Virtual PCD 00 00"),
    );
    slots::remove(card, 0).expect("remove");
    assert_eq!(code, 0, "{out}\n{err}");
}

/// A card whose offline PIN is blocked: the first sale goes by online PIN and the host's
/// answer carries a PIN UNBLOCK script, which the card runs after the second GENERATE AC;
/// the terminal reports it (0620) and the host never sends it again. The next sale on the
/// same card is verified offline by the card.
#[test]
fn the_issuers_pin_unblock_script_reaches_the_card_and_is_reported_once() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::with_host("runner", "chip-script", |c| {
        c.scripts.push(pos_sim::acquirer::IssuerScript {
            pan: "6212345678901232".into(),
            command: pos_sim::acquirer::ScriptCommand::PinUnblock,
        });
    });
    let profile = CardProfile::builtin("unionpay-pin-blocked").expect("profile");
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    let journal = d.0.join("journal.sqlite");
    let online_pin = d.0.join("online-pin.txt");
    std::fs::write(
        &online_pin,
        "keys 1234\nenter\ninsert\nexpect screen ConfirmCard\nenter\nexpect screen EnterPin\n\
         pin 123456\nexpect screen TearReceipt\nenter\nexpect screen Done\n",
    )
    .expect("script");
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &online_pin,
        Some("pcsc:Virtual PCD 00 00"),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let ledger = d.ledger();
    let script = || -> (String, i64) {
        ledger
            .query_row("SELECT state, sent FROM scripts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("the script")
    };
    assert_eq!(script(), ("done".to_string(), 1), "{err}");
    // The card's own PIN check works again: the second sale is verified offline.
    let offline_pin = d.0.join("offline-pin.txt");
    std::fs::write(
        &offline_pin,
        "keys 1000\nenter\ninsert\nexpect screen ConfirmCard\nenter\nexpect screen EnterPin\n\
         pin 1234\nexpect screen TearReceipt\nenter\nexpect screen Done\n",
    )
    .expect("script");
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &offline_pin,
        Some("pcsc:Virtual PCD 00 00"),
    );
    slots::remove(card, 0).expect("remove");
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(script(), ("done".to_string(), 1), "not sent again");
}

#[test]
fn a_wrong_pin_on_a_chip_card_gets_a_new_cryptogram_and_the_second_pin_is_approved() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-wrong-pin");
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip-wrong-pin.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // The first request was declined (55), the second approved: charged once.
    let balance = d.balance("6212345678901232");
    assert_eq!(balance, 1_000_000 - 1234, "charged once");
}

#[test]
fn electronic_cash_is_offered_approved_offline_paid_from_the_card_and_uploaded_at_settlement() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "ec");
    let journal = d.0.join("journal.sqlite");
    let profile = CardProfile::builtin("unionpay-ec").expect("profile");
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    let reader = Some("pcsc:Virtual PCD 00 00");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-ec.txt"), reader);
    let booked = |kind: &str| d.booked(kind);
    assert_eq!(code, 0, "{out}\n{err}");
    // Offline: the host has seen nothing yet.
    assert_eq!(booked("ec_sale") + booked("sale"), 0);
    let slip = printer.jobs()[0].transcript();
    assert!(slip.contains("电子现金消费 EC SALE"), "{slip}");
    // Declining the offer goes online with the PIN, as any chip sale.
    let (code, out, err) = pos(
        &host,
        &printer,
        &journal,
        &script("sale-ec-declined-offer.txt"),
        reader,
    );
    slots::remove(card, 0).expect("remove");
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(booked("sale"), 1);
    // The settlement uploads the offline sale with its TC first: the totals agree.
    let (code, out, err) = pos_flow(
        "settle",
        &host,
        &printer,
        &journal,
        &script("settle.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(booked("ec_sale"), 1, "uploaded and booked once");
    let list = printer.jobs().last().expect("list").transcript();
    assert!(
        list.contains("对账平 BALANCED") && list.contains("电子现金消费"),
        "{list}"
    );
    // The money was on the card: the account behind it paid only the online sale.
    let balance = d.balance("6212345678901232");
    assert_eq!(balance, 1_000_000 - 3000);
}

#[test]
fn the_emv_configuration_file_sets_the_electronic_cash_limit() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "emv-config");
    // RMB 10.00 at most offline: a RMB 30.00 sale is not offered electronic cash.
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("emv-terminal.toml"))
            .expect("example configuration")
            .replace("ec_terminal_limit = 100000", "ec_terminal_limit = 1000");
    let config_file = d.0.join("emv.toml");
    std::fs::write(&config_file, config).expect("config");
    let profile = CardProfile::builtin("unionpay-ec").expect("profile");
    let card = slots::insert(0, EmvCard::new(profile), Faults::default()).expect("insert");
    let mut cmd = pos_command(
        "sale",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip.txt"),
    );
    cmd.args(["--reader", "pcsc:Virtual PCD 00 00", "--emv-config"])
        .arg(&config_file);
    let out = cmd.output().expect("pos runs");
    slots::remove(card, 0).expect("remove");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("UseElectronicCash"), "{text}");
    // A file that is no configuration is a clear error.
    std::fs::write(&config_file, "capabilities = 7").expect("config");
    let mut cmd = pos_command(
        "sale",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip.txt"),
    );
    cmd.arg("--emv-config").arg(&config_file);
    let out = cmd.output().expect("pos runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--emv-config"));
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_chip_sale_through_pcscd_with_online_pin() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip");
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(printer.jobs().len(), 2);
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_chip_that_declines_the_hosts_approval_gets_it_reversed_and_the_money_back() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-declines");
    let journal = d.0.join("journal.sqlite");
    let profile = CardProfile::builtin("unionpay-card-declines").expect("profile");
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &journal,
        &script("sale-chip-card-declines.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("reversing it (06)"), "{err}");
    // The reversal went at once: the full balance is there for the next request.
    let (code, out, err) = pos_flow(
        "balance",
        &host,
        &printer,
        &journal,
        &script("balance.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_chip_whose_cryptogram_does_not_verify_is_declined_by_the_issuer() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-forged");
    let mut profile = CardProfile::builtin("unionpay-debit").expect("profile");
    profile.imk = Some(pos_sim::emv::HexBytes(vec![0x42; 16]));
    let (code, out, err) = with_chip(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-chip-forged.txt"),
        profile,
    );
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_tapped_sale_through_pcscd_goes_online_with_the_qpboc_cryptogram() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "tap");
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let card = slots::insert(1, EmvCard::new(profile), Faults::default()).expect("insert");
    let out = pos_command(
        "sale",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-tap.txt"),
    )
    .arg("--contactless-reader")
    .arg("pcsc:Virtual PCD 00 01")
    .output()
    .expect("pos runs");
    slots::remove(card, 1).expect("remove");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("lights ●●●●"), "{stderr}");
    assert_eq!(printer.jobs().len(), 2);
}

/// Under the contactless floor limit of the EMV configuration, a card with electronic cash
/// approves a tap offline: nothing reaches the host until the settlement uploads it, booked
/// once, with its TC checked.
#[test]
fn a_tap_under_the_floor_limit_is_approved_offline_and_uploaded_at_settlement() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "tap-offline");
    let config = d.0.join("emv.toml");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("emv-terminal.toml"),
    )
    .expect("the example configuration");
    let changed = text.replace(
        "floor_limit = 0                       # DF02",
        "floor_limit = 5000                    # DF02",
    );
    assert_ne!(changed, text, "the example has a contactless floor limit");
    std::fs::write(&config, changed).expect("config");
    let journal = d.0.join("journal.sqlite");
    let profile = CardProfile::builtin("unionpay-qpboc-offline").expect("profile");
    let card = slots::insert(1, EmvCard::new(profile), Faults::default()).expect("insert");
    let out = pos_command(
        "sale",
        &host,
        &printer,
        &journal,
        &script("sale-tap-offline.txt"),
    )
    .arg("--contactless-reader")
    .arg("pcsc:Virtual PCD 00 01")
    .arg("--emv-config")
    .arg(&config)
    .output()
    .expect("pos runs");
    slots::remove(card, 1).expect("remove");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let booked = |kind: &str| d.booked(kind);
    assert_eq!(
        booked("ec_sale") + booked("sale"),
        0,
        "offline: the host saw nothing"
    );
    assert!(
        printer.jobs()[0]
            .transcript()
            .contains("电子现金消费 EC SALE")
    );
    let (code, out, err) = pos_flow(
        "settle",
        &host,
        &printer,
        &journal,
        &script("settle.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(booked("ec_sale"), 1, "uploaded with its TC and booked once");
    let list = printer.jobs().last().expect("list").transcript();
    assert!(list.contains("对账平 BALANCED"), "{list}");
}

/// A terminal with SM4 keys (国密): the TMK, the working keys of the sign-in, the MAC and
/// the PIN block are SM4; the 16-byte PIN block travels in the SM dialect's field 52 and
/// host-sim checks it — a wrong PIN is refused (55), the right one approved.
#[test]
fn a_terminal_with_sm4_keys_signs_in_and_sells_with_an_sm4_pin_block() {
    const SM4_TMK: &str = "0123456789ABCDEFFEDCBA9876543210";
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::with_host("runner", "sm4", |c| {
        c.terminals.push(pos_sim::acquirer::TerminalConfig {
            tid: "87654321".into(),
            mid: "123456789012345".into(),
            tmk: hex::decode(SM4_TMK).expect("hex"),
            mac: pos_hal::MacAlgorithm::Sm4Cbc,
        });
    });
    let out = pos_command(
        "sale",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-wrong-pin.txt"),
    )
    .args([
        "--mac",
        "sm4",
        "--terminal-id",
        "87654321",
        "--tmk",
        SM4_TMK,
    ])
    .output()
    .expect("pos runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let approved: i64 = d
        .ledger()
        .query_row(
            "SELECT COUNT(*) FROM txns WHERE tid = '87654321' AND kind = 'sale' AND rc = '00'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        approved, 1,
        "the second PIN, checked by the host under the SM4 PIK"
    );
}

/// A swiped sale, then the settlement: `balanced` says whether the host's ledger is left as
/// the sale made it (true) or loses the sale first, so the totals differ (false).
fn sale_then_settle(name: &str, balanced: bool) -> String {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", name);
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    if !balanced {
        let db = rusqlite::Connection::open(d.0.join("ledger.sqlite")).expect("ledger");
        db.execute("DELETE FROM txns WHERE kind = 'sale'", [])
            .expect("delete");
    }
    let (code, out, err) = pos_flow(
        "settle",
        &host,
        &printer,
        &journal,
        &script("settle.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let jobs = printer.jobs();
    let list = jobs.last().expect("the settlement list").transcript();
    assert!(
        list.contains("结算总计单") && list.contains("RMB 50.00"),
        "{list}"
    );
    list
}

#[test]
fn settlement_with_matching_totals_prints_a_balanced_list() {
    let list = sale_then_settle("settle-balanced", true);
    assert!(list.contains("对账平 BALANCED"), "{list}");
    // The transaction list: the sale by voucher, its card masked, its amount.
    assert!(list.contains("交易明细 TRANSACTIONS"), "{list}");
    assert!(
        list.contains("000001 消费 621234******1232") && list.contains("成功 APPROVED RMB 50.00"),
        "{list}"
    );
    assert!(!list.contains("6212345678901232"), "{list}");
}

#[test]
fn settlement_with_totals_the_host_disputes_uploads_the_batch() {
    let list = sale_then_settle("settle-unbalanced", false);
    assert!(list.contains("对账不平 NOT BALANCED"), "{list}");
    let uploaded = list
        .lines()
        .find(|l| l.contains("上送笔数"))
        .expect("uploaded line");
    assert!(uploaded.trim_end().ends_with('1'), "{uploaded}");
}

#[test]
#[ignore = "needs pcscd + vpcd: run by `cargo xtask test`"]
fn a_chip_sale_is_uploaded_with_its_tc_at_a_balanced_settlement() {
    require_stack();
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "chip-settle");
    let journal = d.0.join("journal.sqlite");
    let profile = CardProfile::builtin("unionpay-debit").expect("profile");
    let (code, out, err) = with_chip(&host, &printer, &journal, &script("sale-chip.txt"), profile);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = pos_flow(
        "settle",
        &host,
        &printer,
        &journal,
        &script("settle.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let list = printer.jobs().last().expect("list").transcript();
    assert!(list.contains("对账平 BALANCED"), "{list}");
    let uploaded = list
        .lines()
        .find(|l| l.contains("上送笔数"))
        .expect("uploaded line");
    assert!(
        uploaded.trim_end().ends_with('1'),
        "the chip sale's TC went up: {uploaded}"
    );
}

#[test]
fn a_batch_left_open_from_yesterday_is_settled_before_the_next_sale() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "forced-settle");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.contains("forced settlement"),
        "today's batch is not settled: {out}"
    );
    // The sale was yesterday.
    let db = rusqlite::Connection::open(&journal).expect("journal");
    db.execute("UPDATE records SET created = datetime('now', '-1 day')", [])
        .expect("back-date");
    drop(db);
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("=== forced settlement of batch 000001: balanced, 0 uploaded"),
        "{out}"
    );
    let jobs = printer.jobs();
    assert_eq!(jobs.len(), 5, "two slips, the settlement list, two slips");
    assert!(jobs[2].transcript().contains("结算总计单"));
    // The new sale went into the next batch.
    assert!(
        jobs[3].transcript().contains("000002"),
        "{}",
        jobs[3].transcript()
    );
}

#[test]
fn cashier_01_logs_in_with_the_default_password() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "login");
    let (code, out, err) = pos_flow(
        "login",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("login.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !out.contains("0000\n"),
        "the password is never shown: {out}"
    );
}

#[test]
fn a_locked_operator_stays_locked_after_a_restart() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "login-locked");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos_flow(
        "login",
        &host,
        &printer,
        &journal,
        &script("login-locked.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    // A new process (power cycle): the right password is still refused.
    let (code, out, _) = pos_flow(
        "login",
        &host,
        &printer,
        &journal,
        &script("login.txt"),
        None,
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("locked"), "{out}");
}

/// A script line typing `digits`.
fn keys(digits: &str) -> String {
    format!("keys {digits}\n")
}

#[test]
fn a_preauthorisation_is_completed_by_its_code_and_then_cannot_be_cancelled() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "preauth");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos_flow(
        "preauth",
        &host,
        &printer,
        &journal,
        &script("preauth-swipe.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let auth = out
        .lines()
        .find_map(|l| l.strip_prefix("授权码 AUTH "))
        .expect("the approval shows its code")
        .trim()
        .to_string();
    let balance = || d.balance("6212345678901232");
    assert_eq!(balance(), 1_000_000, "a pre-authorisation moves no money");
    let today = {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let t = pos_hal::DateTime::from_unix(secs, 8 * 3600).expect("date");
        format!("{:02}{:02}", t.month(), t.day())
    };
    let completion = d.0.join("completion.txt");
    std::fs::write(
        &completion,
        format!(
            "swipe ;6212345678901232=30121011234567890?\nexpect screen OriginalAuthCode\n{}enter\n{}enter\n{}enter\nexpect screen TearReceipt\nenter\nexpect screen Done\n",
            keys(&auth),
            keys(&today),
            keys("8000")
        ),
    )
    .expect("script");
    let (code, out, err) = pos_flow("completion", &host, &printer, &journal, &completion, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        balance(),
        1_000_000 - 8_000,
        "the completion debits its amount"
    );
    let cancel = d.0.join("cancel.txt");
    std::fs::write(
        &cancel,
        format!(
            "{}enter\nswipe ;6212345678901232=30121011234567890?\n{}enter\n{}enter\n{}enter\nexpect screen Declined\nexpect contains 12\nenter\n",
            keys("123456"),
            keys(&auth),
            keys(&today),
            keys("10000")
        ),
    )
    .expect("script");
    let (code, out, err) = pos_flow("preauth-cancel", &host, &printer, &journal, &cancel, None);
    assert_eq!(
        code, 0,
        "a completed pre-authorisation is not cancelled: {out}\n{err}"
    );
    assert_eq!(balance(), 1_000_000 - 8_000);
}

#[test]
fn the_last_sale_is_reprinted_from_the_journal_and_an_unknown_voucher_is_said() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "reprint");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = pos_flow(
        "reprint",
        &host,
        &printer,
        &journal,
        &script("reprint-last.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let jobs = printer.jobs();
    let (original, reprint) = (jobs[0].transcript(), jobs[2].transcript());
    assert!(reprint.contains("重打印 REPRINT"), "{reprint}");
    let line = |t: &str, key: &str| t.lines().find(|l| l.contains(key)).map(str::to_string);
    for key in [
        "参考号",
        "凭证号",
        "授权码",
        "621234******1232",
        "RMB 50.00",
    ] {
        assert_eq!(line(&original, key), line(&reprint, key), "{key}");
    }
    let unknown = d.0.join("reprint-unknown.txt");
    std::fs::write(&unknown, "key 2\nkeys 999\nenter\nexpect screen Ended\nexpect contains no approved transaction\nenter\n")
        .expect("script");
    let (code, out, err) = pos_flow("reprint", &host, &printer, &journal, &unknown, None);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(printer.jobs().len(), 3, "nothing more printed");
}

/// A tapped sale with the card on the PN532 emulator, the contactless reader opened as
/// `selector(pty path)`; the emulator's exchange count after the run.
fn tapped_through_the_pn532(name: &str, uid: [u8; 4], selector: fn(&str) -> String) -> usize {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", name);
    let pn532 = pos_sim::pn532::Pn532Emulator::start().expect("PN532 emulator");
    let card = EmvCard::new(CardProfile::builtin("unionpay-debit").expect("profile"));
    pn532.insert(pos_sim::pn532::Presented::iso_dep_a(card, &uid));
    let out = pos_command(
        "sale",
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-tap.txt"),
    )
    .arg("--contactless-reader")
    .arg(selector(pn532.path()))
    .output()
    .expect("pos runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(printer.jobs().len(), 2);
    pn532.exchanges()
}

#[test]
fn a_tapped_sale_through_the_pn532_driver_on_a_pty() {
    let exchanges = tapped_through_the_pn532("tap-pn532", [0x04, 0xA1, 0xB2, 0xC3], |p| {
        format!("pn532:{p}")
    });
    assert!(exchanges >= 4, "the kernel ran through the PN532");
}

#[test]
fn a_tapped_sale_through_libnfc_and_the_emulated_pn532() {
    let exchanges = tapped_through_the_pn532("tap-libnfc", [0x08, 0xA1, 0xB2, 0xC3], |p| {
        format!("nfc:pn532_uart:{p}")
    });
    assert!(exchanges >= 4, "the kernel ran through libnfc");
}

#[test]
fn a_wrong_pin_is_asked_again_and_the_second_is_approved() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "wrong-pin");
    let (code, out, err) = pos(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-wrong-pin.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn an_unknown_card_is_declined_with_what_to_do() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "invalid-card");
    let (code, out, err) = pos(
        &host,
        &printer,
        &d.0.join("journal.sqlite"),
        &script("sale-invalid-card.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_host_that_cannot_be_reached_is_said_plainly() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "host-down");
    drop(host);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pos"))
        .args(["--host", &dead, "--printer"])
        .arg(format!("escpos:tcp:{}", printer.endpoint()))
        .arg("--journal")
        .arg(d.0.join("journal.sqlite"))
        .arg("--script")
        .arg(script("sale-swipe.txt"))
        .output()
        .expect("pos runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sign-in") && err.contains(&dead), "{err}");
}

#[test]
fn slips_print_the_hosts_date_and_time_and_a_reprint_prints_the_same() {
    // The host's clock is two days behind the terminal's: the slips must carry its date.
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::with_host("runner", "host-time", |c| {
        c.clock_offset_secs = -2 * 86_400;
    });
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = pos_flow(
        "reprint",
        &host,
        &printer,
        &journal,
        &script("reprint-last.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let day = |offset: i64| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            .saturating_add_signed(offset);
        let t = pos_hal::DateTime::from_unix(secs, 8 * 3600).expect("date");
        format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
    };
    let jobs = printer.jobs();
    for job in [&jobs[0], &jobs[1], &jobs[2]] {
        let text = job.transcript();
        assert!(text.contains(&day(-2 * 86_400)), "host's date: {text}");
        assert!(!text.contains(&day(0)), "not the terminal's: {text}");
    }
}

#[test]
fn the_operator_who_logged_in_is_on_the_slips_after_a_restart() {
    let Stage {
        dir: d,
        host,
        printer,
    } = Stage::new("runner", "operator-on-slips");
    let journal = d.0.join("journal.sqlite");
    let (code, out, err) = pos_flow(
        "operators",
        &host,
        &printer,
        &journal,
        &script("operators.txt"),
        None,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let login = d.0.join("login-07.txt");
    std::fs::write(
        &login,
        "keys 07\nenter\nexpect screen OperatorPassword\nkeys 2468\nenter\nexpect screen LoggedIn\n",
    )
    .expect("script");
    let (code, out, err) = pos_flow("login", &host, &printer, &journal, &login, None);
    assert_eq!(code, 0, "{out}\n{err}");
    // A new process: the login was kept in the journal.
    let (code, out, err) = pos(&host, &printer, &journal, &script("sale-swipe.txt"), None);
    assert_eq!(code, 0, "{out}\n{err}");
    let slip = printer.jobs()[0].transcript();
    let line = slip
        .lines()
        .skip_while(|l| !l.contains("OPERATOR"))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        line.contains("07"),
        "cashier 07 on the slip: {line}\n{slip}"
    );
}
