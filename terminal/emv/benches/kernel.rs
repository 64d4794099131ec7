//! Kernel CPU per contact transaction, card I/O excluded: the card's answers are recorded
//! once from the simulated card and replayed, so only the kernel's own work (TLV, DOLs,
//! certificate recovery, SHA-1, action analysis) is timed. Goals: CDA < 5 ms. The baseline in
//! the same run is parsing the same answers as TLV, nothing else.
// Amounts are written yuan_fen (2000_00 is ¥2,000.00), as the POS shows them.
#![allow(clippy::inconsistent_digit_grouping)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pos_emv::contact::ONLINE_TAGS;
use pos_emv::{CapkSet, Contact, CvmStep, HostAnswer, TerminalConfig, TransactionData, candidates};
use pos_hal::{Apdu, CardChannel, ErrorType, Rapdu};
use pos_sim::card::{Card, CardPulled};
use pos_sim::emv::{CardProfile, EmvCard, TEST_CAPK_TOML};

/// Records every answer of a card.
struct Recorder {
    card: EmvCard,
    answers: Vec<Vec<u8>>,
}

impl ErrorType for Recorder {
    type Error = CardPulled;
}

impl CardChannel for Recorder {
    fn transmit<'r>(&mut self, c: &Apdu<'_>, out: &'r mut [u8]) -> Result<Rapdu<'r>, CardPulled> {
        let mut raw = vec![0; c.encoded_len()];
        let n = c.encode_into(&mut raw).map_err(|_| CardPulled)?;
        let answer = self.card.transmit(&raw[..n]);
        let dst = out.get_mut(..answer.len()).ok_or(CardPulled)?;
        dst.copy_from_slice(&answer);
        self.answers.push(answer);
        Rapdu::parse(dst).map_err(|_| CardPulled)
    }
}

/// Plays recorded answers back in order.
struct Replay<'a> {
    answers: &'a [Vec<u8>],
    next: usize,
}

impl ErrorType for Replay<'_> {
    type Error = CardPulled;
}

impl CardChannel for Replay<'_> {
    fn transmit<'r>(&mut self, _: &Apdu<'_>, out: &'r mut [u8]) -> Result<Rapdu<'r>, CardPulled> {
        let answer = self.answers.get(self.next).ok_or(CardPulled)?;
        self.next += 1;
        let dst = out.get_mut(..answer.len()).ok_or(CardPulled)?;
        dst.copy_from_slice(answer);
        Rapdu::parse(dst).map_err(|_| CardPulled)
    }
}

fn txn() -> TransactionData {
    TransactionData {
        amount: 1234,
        other_amount: 0,
        kind: 0,
        date: [0x26, 0x12, 0x01],
        time: [0x12, 0x00, 0x00],
        unpredictable: [1, 2, 3, 4],
        sequence: 1,
        force_online: false,
        electronic_cash: false,
    }
}

fn transaction<C: CardChannel>(card: &mut C, terminal: &TerminalConfig, capks: &CapkSet) -> bool {
    let Ok((list, _)) = candidates(card, terminal) else {
        return false;
    };
    let Ok(mut k) = Contact::start(card, terminal, capks, &list[0], &txn()) else {
        return false;
    };
    if k.cardholder_verification(card) != Ok(CvmStep::OnlinePin) {
        return false;
    }
    if k.online_pin_entered(card, true).is_err() || k.first_generate_ac(card).is_err() {
        return false;
    }
    black_box(k.icc_data(ONLINE_TAGS));
    let approved = HostAnswer::Answered {
        arc: *b"00",
        issuer_authentication: None,
        scripts: Vec::new(),
    };
    k.complete(card, &approved).is_ok_and(|c| c.approved)
}

fn kernel(c: &mut Criterion) {
    let terminal = TerminalConfig::china_pos();
    let Ok(capks) = CapkSet::from_toml(TEST_CAPK_TOML) else {
        return;
    };
    for profile in ["unionpay-cda", "unionpay-debit"] {
        let Some(p) = CardProfile::builtin(profile) else {
            return;
        };
        let mut recorder = Recorder {
            card: EmvCard::new(p),
            answers: Vec::new(),
        };
        recorder.card.reset();
        assert!(
            transaction(&mut recorder, &terminal, &capks),
            "{profile} completes"
        );
        let answers = recorder.answers;
        let mut group = c.benchmark_group(format!("emv_contact_{profile}"));
        group.sample_size(30);
        group.bench_function("baseline_tlv_parse_of_the_answers", |b| {
            b.iter(|| {
                for a in &answers {
                    black_box(pos_hal::tlv::validate(&a[..a.len().saturating_sub(2)]).is_ok());
                }
            })
        });
        group.bench_function("kernel_transaction", |b| {
            b.iter(|| {
                let mut replay = Replay {
                    answers: &answers,
                    next: 0,
                };
                assert!(transaction(&mut replay, &terminal, &capks));
            })
        });
        group.finish();
    }
}

/// Lights nobody sees.
struct Dark;

impl ErrorType for Dark {
    type Error = std::convert::Infallible;
}

impl pos_hal::Indicators for Dark {
    fn beep(&mut self, _: pos_hal::BeepKind) -> Result<(), Self::Error> {
        Ok(())
    }
    fn set_contactless_leds(&mut self, _: pos_hal::ContactlessLeds) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn qpboc_tap<C: CardChannel>(card: &mut C, terminal: &TerminalConfig, capks: &CapkSet) -> bool {
    let limits = pos_emv::ContactlessLimits {
        floor_limit: 500_00,
        ..Default::default()
    };
    pos_emv::tap(card, &mut Dark, terminal, &limits, capks, &txn())
        .is_ok_and(|t| matches!(t.outcome(), pos_emv::TapOutcome::ApprovedOffline { .. }))
}

/// Goal: < 1 ms of kernel CPU per qPBOC tap, here the heaviest kind: offline with fDDA.
fn contactless(c: &mut Criterion) {
    let terminal = TerminalConfig::china_pos();
    let (Ok(capks), Some(profile)) = (
        CapkSet::from_toml(TEST_CAPK_TOML),
        CardProfile::builtin("unionpay-qpboc-offline"),
    ) else {
        return;
    };
    let mut recorder = Recorder {
        card: EmvCard::new(profile),
        answers: Vec::new(),
    };
    recorder.card.reset();
    assert!(
        qpboc_tap(&mut recorder, &terminal, &capks),
        "the tap approves offline"
    );
    let answers = recorder.answers;
    let mut group = c.benchmark_group("emv_qpboc_offline_fdda");
    group.sample_size(30);
    group.bench_function("baseline_tlv_parse_of_the_answers", |b| {
        b.iter(|| {
            for a in &answers {
                black_box(pos_hal::tlv::validate(&a[..a.len().saturating_sub(2)]).is_ok());
            }
        })
    });
    group.bench_function("kernel_tap", |b| {
        b.iter(|| {
            let mut replay = Replay {
                answers: &answers,
                next: 0,
            };
            assert!(qpboc_tap(&mut replay, &terminal, &capks));
        })
    });
    group.finish();
}

criterion_group!(benches, kernel, contactless);
criterion_main!(benches);
