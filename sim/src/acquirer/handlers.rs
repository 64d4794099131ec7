//! One handler per message type: sign-in, financial requests, settlement and batch upload.

#[allow(clippy::wildcard_imports)]
use super::*;
use pos_terminal::iso8583::spec::Dialect;

/// Decodes a request in the dialect of the terminal that sent it: the dialects differ in the
/// PIN block only (8 bytes, or 16 for an SM4 terminal), so a request without one reads the
/// same in both; one with a PIN block is taken in the dialect its terminal (field 41) uses.
fn decode<'a>(db: &Connection, request: &'a [u8]) -> Option<(Frame, Message<'a>)> {
    for dialect in [Dialect::Cup, Dialect::CupSm4] {
        let Ok((frame, msg)) = Frame::decode_payload_in(request, dialect) else {
            continue;
        };
        if !msg.has(52) {
            return Some((frame, msg));
        }
        let tid = msg.terminal_id().ok().flatten().unwrap_or_default();
        let sm4 = load_terminal(db, &tid)
            .ok()
            .flatten()
            .is_some_and(|t| t.mac == MacAlgorithm::Sm4Cbc);
        if sm4 == (dialect == Dialect::CupSm4) {
            return Some((frame, msg));
        }
    }
    None
}

/// Builds the answer to one framed request; `None` closes the connection (unreadable input).
pub(super) fn handle(
    db: &Connection,
    config: &HostConfig,
    request: &[u8],
) -> Result<Option<Vec<u8>>, HostError> {
    let Some((frame, req)) = decode(db, request) else {
        return Ok(None);
    };
    let reply = frame.reply_frame();
    let mut rsp = Message::new(req.mti().response());
    // Echo what the terminal checks (3, 4, 11, 41, 42 must match its request).
    for n in [3u8, 4, 11, 25, 41, 42, 49, 60] {
        if let Ok(Some(v)) = req.string(n) {
            let _ = rsp.set_text(n, v);
        }
    }
    let tid = req.terminal_id()?.unwrap_or_default();
    let Some(term) = load_terminal(db, &tid)? else {
        rsp.set_text(39, "97")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    };
    let now = Now::get(config.clock_offset_secs);
    rsp.set_text(12, now.hhmmss.clone())?
        .set_text(13, now.mmdd.clone())?;
    let mti = req.mti();
    // Management messages carry no MAC.
    if mti == Mti::NETWORK_REQUEST {
        return sign_in(db, config, &term, &req, rsp, reply).map(Some);
    }
    if mti == Mti::NETWORK_ADVICE {
        rsp.set_text(39, "00")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    if mti == Mti::SETTLEMENT {
        return settle(db, &term, &req, rsp, reply, &now).map(Some);
    }
    if mti == Mti::SCRIPT_ADVICE {
        script_results(db, &req)?;
        rsp.set_text(39, "00")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    if mti == Mti::BATCH_UPLOAD {
        // An offline approval (electronic cash, 60.1 = 36, this project's dialect) is booked
        // once, with its TC checked; other uploads are acknowledged.
        let rc = if req.transaction_type()?.as_deref() == Some("36") {
            offline_upload(db, config, &term, &req)?
        } else {
            "00"
        };
        rsp.set_text(39, rc)?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    let Some(mak) = term.mak.as_ref() else {
        rsp.set_text(39, "A0")?; // not signed in: no working keys
        return Ok(Some(reply.encode_payload(&rsp)?));
    };
    let mac_ok = match Frame::mac_parts(request) {
        Some((mab, received)) if req.has(64) => verify_mac(mak, term.mac, mab, received)?,
        _ => false,
    };
    if !mac_ok {
        rsp.set_text(39, "A0")?;
        return Ok(Some(reply.encode_payload(&rsp)?));
    }
    // Terminal and merchant id are bound together (anti code-jumping).
    let icc = card_cryptogram(config.imk, &term, &req)?;
    let rc = if req.merchant_id()?.as_deref() != Some(term.mid.as_str()) {
        "03"
    } else if matches!(icc, Some(None)) {
        // The ARQC does not verify with the issuer's key: a cloned or forged chip.
        "05"
    } else {
        financial(db, &term, &req, &mut rsp, &now)?
    };
    rsp.set_text(39, rc)?;
    if let Some(Some(arqc)) = icc {
        // Issuer authentication data: ARPC (method 1) for the answer given, then the code.
        let arc = [rc.as_bytes()[0], rc.as_bytes()[1]];
        let mut data = pos_emv::issuer::arpc(&arqc.mk, arqc.atc, arqc.ac, arc).to_vec();
        data.extend_from_slice(&arc);
        let mut icc = crate::tlv::tlv(0x91, &data);
        if rc == "00" {
            icc.extend_from_slice(&scripts_for(db, config, &arqc)?);
        }
        rsp.set_bytes(55, icc)?;
    }
    Ok(Some(reply.encode_payload_with_mac(&mut rsp, |mab| {
        mac(mak, term.mac, mab).unwrap_or([0; 8])
    })?))
}

/// Books an electronic cash sale the card approved offline: its TC must verify with the
/// issuer key (`05` when it does not). The money was on the card; the account behind it is
/// not touched. Booked once however often the terminal uploads it.
fn offline_upload(
    db: &Connection,
    config: &HostConfig,
    term: &Terminal,
    req: &Message<'_>,
) -> Result<&'static str, HostError> {
    match card_cryptogram(config.imk, term, req)? {
        Some(Some(_)) => {}
        _ => return Ok("05"),
    }
    let batch = req.batch_number()?.unwrap_or(term.batch);
    let stan = req.stan()?.unwrap_or(0);
    db.execute(
        "INSERT INTO txns(tid, batch, stan, kind, pan, amount, rc, state) VALUES (?1, ?2, ?3, 'ec_sale', ?4, ?5, '00', 'approved')
         ON CONFLICT(tid, batch, stan, kind) DO NOTHING",
        params![term.tid, batch, stan, card_number(term, req)?, amount_of(req)?],
    )?;
    Ok("00")
}

/// A verified application cryptogram and what answering it needs.
pub(super) struct VerifiedArqc {
    mk: pos_emv::issuer::Key16,
    atc: [u8; 2],
    ac: [u8; 8],
    pan: String,
    psn: u8,
}

/// The pending scripts of the card behind `arqc`, as `72` templates (run after the second
/// GENERATE AC), each command with its MAC under the card's MK-SMI; script id = ledger id.
fn scripts_for(
    db: &Connection,
    config: &HostConfig,
    arqc: &VerifiedArqc,
) -> Result<Vec<u8>, HostError> {
    let mut stmt =
        db.prepare("SELECT id, command FROM scripts WHERE pan = ?1 AND state = 'pending'")?;
    let pending: Vec<(i64, String)> = stmt
        .query_map([&arqc.pan], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    let digits: Vec<u8> = arqc.pan.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    let mk_smi = pos_emv::issuer::card_master_key(&config.imk_smi, &digits, arqc.psn);
    let mut out = Vec::new();
    for (id, name) in pending {
        let Some(command) = ScriptCommand::from_name(&name) else {
            continue;
        };
        let Some(apdu) =
            pos_emv::issuer::script_command(&mk_smi, arqc.atc, arqc.ac, command.header(), &[])
        else {
            continue;
        };
        let id = u32::try_from(id).unwrap_or(u32::MAX).to_be_bytes();
        let mut body = crate::tlv::tlv(0x9F18, &id);
        body.extend_from_slice(&crate::tlv::tlv(0x86, &apdu));
        out.extend_from_slice(&crate::tlv::tlv(0x72, &body));
        db.execute(
            "UPDATE scripts SET sent = sent + 1 WHERE id = ?1",
            [id_of(&id)],
        )?;
    }
    Ok(out)
}

fn id_of(id: &[u8; 4]) -> i64 {
    i64::from(u32::from_be_bytes(*id))
}

/// A script result advice (0620): DF31 holds, per script, a result byte (high nibble 2:
/// done, 1: failed) and the script id; the ledger keeps the outcome, and a script done is
/// never sent again.
fn script_results(db: &Connection, req: &Message<'_>) -> Result<(), HostError> {
    let Some(icc) = req.text(55)? else {
        return Ok(());
    };
    let Ok(Some(df31)) = pos_hal::tlv::find(&icc, 0xDF31) else {
        return Ok(());
    };
    for result in df31.value.chunks_exact(5) {
        let state = match result[0] >> 4 {
            2 => "done",
            1 => "failed",
            _ => continue,
        };
        let id = [result[1], result[2], result[3], result[4]];
        db.execute(
            "UPDATE scripts SET state = ?2 WHERE id = ?1 AND state = 'pending'",
            params![id_of(&id), state],
        )?;
    }
    Ok(())
}

/// The ARQC of a chip request checked with the issuer master key: `None` when the request
/// carries none (magstripe, reversal), `Some(None)` when it does not verify.
fn card_cryptogram(
    imk: [u8; 16],
    term: &Terminal,
    req: &Message<'_>,
) -> Result<Option<Option<VerifiedArqc>>, HostError> {
    if req.mti() == Mti::REVERSAL {
        return Ok(None);
    }
    let Some(data) = req.text(55)? else {
        return Ok(None);
    };
    let get = |tag| {
        pos_hal::tlv::find(&data, tag)
            .ok()
            .flatten()
            .map(|t| t.value.to_vec())
    };
    let Some(ac) = get(0x9F26).and_then(|v| <[u8; 8]>::try_from(v).ok()) else {
        return Ok(None);
    };
    let Some(pan) = card_number(term, req)? else {
        return Ok(Some(None));
    };
    let digits: Vec<u8> = pan.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    let psn = req
        .string(23)?
        .and_then(|s| s.parse::<u8>().ok())
        .unwrap_or(0);
    let mk = pos_emv::issuer::card_master_key(&imk, &digits, psn);
    let atc = get(0x9F36).and_then(|v| <[u8; 2]>::try_from(v).ok());
    let verified = match (atc, pos_emv::issuer::ac_input(get)) {
        (Some(atc), Some(input)) if pos_emv::issuer::cryptogram(&mk, atc, &input) == ac => {
            Some(VerifiedArqc {
                mk,
                atc,
                ac,
                pan: pan.clone(),
                psn,
            })
        }
        _ => None,
    };
    Ok(Some(verified))
}

pub(super) struct Now {
    hhmmss: String,
    mmdd: String,
    /// For expiry checks against field 14 / the account's `YYMM`.
    yymm: String,
}

impl Now {
    fn get(offset_secs: i64) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .saturating_add_signed(offset_secs);
        // Host time is China time (UTC+8), as the terminals' clocks.
        let t = pos_hal::DateTime::from_unix(secs, 8 * 3600).unwrap_or(EPOCH_2000);
        Self {
            hhmmss: format!("{:02}{:02}{:02}", t.hour(), t.minute(), t.second()),
            mmdd: format!("{:02}{:02}", t.month(), t.day()),
            yymm: format!("{:02}{:02}", t.year() % 100, t.month()),
        }
    }
}

/// For a clock outside 2000–2099 (checked when compiling: `DateTime::new` is const).
const EPOCH_2000: pos_hal::DateTime = match pos_hal::DateTime::new(2000, 1, 1, 0, 0, 0) {
    Ok(t) => t,
    Err(_) => panic!("2000-01-01 is a valid date"),
};

pub(super) fn sign_in(
    db: &Connection,
    config: &HostConfig,
    term: &Terminal,
    req: &Message<'_>,
    mut rsp: Message<'_>,
    reply: Frame,
) -> Result<Vec<u8>, HostError> {
    let code = req.network_code()?.unwrap_or_else(|| "003".into());
    let with_tdk = code == "004" || config.issue_tdk;
    let x919 = term.mac == MacAlgorithm::X919;
    let sm4 = term.mac == MacAlgorithm::Sm4Cbc;
    let key = |len: usize| {
        if sm4 {
            SecretKey::sm4(&random_bytes(16))
        } else {
            SecretKey::tdes(&random_bytes(len))
        }
    };
    let keys = WorkingKeys {
        pik: key(16)?,
        mak: key(if x919 { 16 } else { 8 })?,
        tdk: if with_tdk { Some(key(16)?) } else { None },
    };
    let layout = KeyBlockLayout::default()
        .with_double_length_mak(x919)
        .with_sm4(sm4);
    let block = build_key_block(&term.tmk, &keys, &layout)?;
    let batch = term.batch;
    db.execute(
        "UPDATE terminals SET pik = ?2, mak = ?3, tdk = ?4 WHERE tid = ?1",
        params![
            term.tid,
            keys.pik.expose(),
            keys.mak.expose(),
            keys.tdk.as_ref().map(|k| k.expose().to_vec())
        ],
    )?;
    rsp.set_text(37, "000000000000")?;
    rsp.set_text(39, "00")?;
    rsp.set_text(
        60,
        format!("00{batch:06}{}", if with_tdk { "004" } else { "003" }),
    )?;
    rsp.set_bytes(62, block)?;
    Ok(reply.encode_payload(&rsp)?)
}

pub(super) fn amount_of(req: &Message<'_>) -> Result<i64, HostError> {
    Ok(req.amount()?.map(|a| a.minor() as i64).unwrap_or(0))
}

/// The card number from field 2, else from track 2 (decrypted when 53 says so).
pub(super) fn card_number(term: &Terminal, req: &Message<'_>) -> Result<Option<String>, HostError> {
    if let Some(pan) = req.string(2)? {
        return Ok(Some(pan));
    }
    let Some(track) = req.string(35)? else {
        return Ok(None);
    };
    let encrypted = req
        .string(53)?
        .is_some_and(|s| s.as_bytes().get(2) == Some(&b'1'));
    let clear = match (encrypted, &term.tdk) {
        (true, Some(tdk)) => decrypt_track(tdk, &track)?,
        _ => track,
    };
    Ok(clear.split('=').next().map(String::from))
}

pub(super) fn financial(
    db: &Connection,
    term: &Terminal,
    req: &Message<'_>,
    rsp: &mut Message<'_>,
    now: &Now,
) -> Result<&'static str, HostError> {
    let mti = req.mti();
    let proc_code = req.processing_code()?.unwrap_or_default();
    let kind60 = req.transaction_type()?.unwrap_or_default();
    let stan = req.stan()?.unwrap_or(0);
    let batch = req.batch_number()?.unwrap_or(term.batch);
    let amount = amount_of(req)?;
    let tx: &Connection = db;

    if mti == Mti::REVERSAL {
        return reverse(tx, term, req, batch, stan, amount);
    }

    // Scan-code payment (22 = 03x; field 59, this project's dialect): the customer's payment
    // code names the account; or the terminal's own QR order is created, queried, closed.
    let scanned = req.string(22)?.is_some_and(|e| e.starts_with("03"));
    let f59 = if scanned { req.string(59)? } else { None };
    let mut order: Option<String> = None;
    let pan = match f59.as_deref() {
        Some("ORDER") => return super::orders::create(tx, term, amount, rsp),
        Some(close) if close.starts_with("CLOSE:") => {
            return super::orders::close(tx, term, &close[6..]);
        }
        Some(query) if query.starts_with("QUERY:") => {
            let id = &query[6..];
            match super::orders::payer(tx, term, id, amount, rsp)? {
                Ok(pan) => {
                    order = Some(id.to_string());
                    Some(pan)
                }
                Err(rc) => return Ok(rc),
            }
        }
        Some(code) => tx
            .query_row(
                "SELECT pan FROM payment_codes WHERE code = ?1",
                [code],
                |r| r.get::<_, String>(0),
            )
            .optional()?,
        None if scanned => None,
        None => card_number(term, req)?,
    };
    let Some(pan) = pan else {
        return Ok("14");
    };
    let account: Option<(String, i64, String)> = tx
        .query_row(
            "SELECT pin, balance, expiry FROM accounts WHERE pan = ?1",
            [&pan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((pin, balance, expiry)) = account else {
        return Ok("14");
    };
    if expiry.as_str() < now.yymm.as_str() {
        return Ok("54");
    }
    if let (Some(block), Some(pik)) = (req.text(52)?, term.pik.as_ref()) {
        match decrypt_pin_block(pik, &block, &pan) {
            Ok(entered) if entered.expose_secret().as_slice() == pin.as_bytes() => {}
            _ => return Ok("55"),
        }
    }
    let kind = match (mti.as_str(), proc_code.get(..2), kind60.as_str()) {
        ("0200", Some("31"), _) => "balance",
        ("0200", Some("00"), "20") => "completion",
        ("0200", Some("00"), _) => "sale",
        ("0200", Some("20"), _) => "void",
        ("0220", Some("20"), _) => "refund",
        ("0100", Some("03"), _) => "preauth",
        ("0100", Some("20"), _) => "preauth_cancel",
        _ => return Ok("12"),
    };
    if kind == "balance" {
        rsp.set_text(54, format!("1002156C{balance:012}"))?;
        return Ok("00");
    }
    // A reversal for this STAN arrived first: the terminal has given this request up, so it
    // is recorded as reversed and declined, and no money moves.
    let reversed_first: bool = tx
        .query_row(
            "SELECT 1 FROM txns WHERE tid = ?1 AND batch = ?2 AND stan = ?3 AND kind = 'reversal'",
            params![term.tid, batch, stan],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    // The same STAN again is a retransmission: answered from the ledger, never booked twice;
    // different content under a used STAN is refused and changes nothing.
    let previous: Option<Booked> = tx
        .query_row(
            "SELECT rc, rrn, auth, pan, amount FROM txns WHERE tid = ?1 AND batch = ?2 AND stan = ?3 AND kind = ?4",
            params![term.tid, batch, stan, kind],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    if let Some((rc, rrn, auth, old_pan, old_amount)) = previous {
        if old_pan.as_deref() != Some(pan.as_str()) || old_amount != amount {
            return Ok("94");
        }
        if let Some(rrn) = rrn {
            rsp.set_text(37, rrn)?;
        }
        if let (Some(auth), "00") = (auth, rc.as_str()) {
            rsp.set_text(38, auth)?;
        }
        return Ok(match rc.as_str() {
            "00" => "00",
            other => static_rc(other),
        });
    }
    let orig_rrn = req.string(37)?;
    let (rc, delta, orig_id): (&'static str, i64, Option<i64>) = match kind {
        "sale" | "completion" if amount > balance => ("51", 0, None),
        "sale" => ("00", -amount, None),
        "completion" => {
            let auth = req.string(38)?.unwrap_or_default();
            let pre: Option<i64> = tx
                .query_row(
                    "SELECT id FROM txns WHERE tid = ?1 AND kind = 'preauth' AND auth = ?2 AND state = 'approved'",
                    params![term.tid, auth],
                    |r| r.get(0),
                )
                .optional()?;
            match pre {
                Some(id) => ("00", -amount, Some(id)),
                None => ("25", 0, None),
            }
        }
        "preauth" => ("00", 0, None),
        "void" | "refund" | "preauth_cancel" => {
            let want = if kind == "preauth_cancel" {
                "preauth"
            } else {
                "sale"
            };
            // A pre-authorisation cancel may name its original by authorisation code (38)
            // alone; everything else (and a cancel that sends it) by RRN (37).
            let (column, key) = match (kind, &orig_rrn) {
                ("preauth_cancel", None) => ("auth", req.string(38)?),
                _ => ("rrn", orig_rrn.clone()),
            };
            let orig: Option<(i64, i64, String)> = tx
                .query_row(
                    &format!(
                        "SELECT id, amount, state FROM txns WHERE tid = ?1 AND {column} = ?2 AND kind = ?3"
                    ),
                    params![term.tid, key, want],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            match orig {
                None => ("25", 0, None),
                Some((_, _, state)) if state != "approved" && kind != "refund" => ("12", 0, None),
                Some((_, orig_amount, _)) if kind == "void" && orig_amount != amount => {
                    ("64", 0, None)
                }
                Some((_, orig_amount, _)) if amount > orig_amount => ("61", 0, None),
                Some((_, orig_amount, _))
                    if kind == "refund"
                        && refunded(tx, term, orig_rrn.as_deref())? + amount > orig_amount =>
                {
                    ("61", 0, None)
                }
                Some((id, _, _)) => (
                    "00",
                    if kind == "preauth_cancel" { 0 } else { amount },
                    Some(id),
                ),
            }
        }
        _ => ("12", 0, None),
    };
    let (rc, delta) = if reversed_first {
        ("12", 0)
    } else {
        (rc, delta)
    };
    let state = match (reversed_first, rc) {
        (true, _) => "reversed",
        (false, "00") => "approved",
        _ => "declined",
    };
    let id: i64 = tx.query_row(
        "INSERT INTO txns(tid, batch, stan, kind, pan, amount, rc, state, orig_rrn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         RETURNING id",
        params![term.tid, batch, stan, kind, pan, amount, rc, state, orig_rrn],
        |r| r.get(0),
    )?;
    let rrn = format!("{id:012}");
    let auth = format!("{:06}", (id * 7919) % 1_000_000);
    tx.execute(
        "UPDATE txns SET rrn = ?2, auth = ?3 WHERE id = ?1",
        params![id, rrn, auth],
    )?;
    if rc == "00" {
        tx.execute(
            "UPDATE accounts SET balance = balance + ?2 WHERE pan = ?1",
            params![pan, delta],
        )?;
        if let (Some(orig), true) = (
            orig_id,
            matches!(kind, "void" | "preauth_cancel" | "completion"),
        ) {
            let new_state = if kind == "completion" {
                "completed"
            } else {
                "voided"
            };
            tx.execute(
                "UPDATE txns SET state = ?2 WHERE id = ?1",
                params![orig, new_state],
            )?;
        }
    }
    if let (Some(id), "00") = (&order, rc) {
        super::orders::booked(tx, id, &rrn, &auth)?;
    }
    rsp.set_text(37, rrn)?;
    if rc == "00" {
        rsp.set_text(38, auth)?;
    }
    Ok(rc)
}

pub(super) fn settle(
    db: &Connection,
    term: &Terminal,
    req: &Message<'_>,
    mut rsp: Message<'_>,
    reply: Frame,
    now: &Now,
) -> Result<Vec<u8>, HostError> {
    let batch = req.batch_number()?.unwrap_or(term.batch);
    let sum = |kinds: &str| -> Result<(i64, i64), HostError> {
        let q = format!(
            "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM txns WHERE tid = ?1 AND batch = ?2 AND rc = '00' AND state != 'reversed' AND kind IN ({kinds})"
        );
        Ok(db.query_row(&q, params![term.tid, batch], |r| Ok((r.get(0)?, r.get(1)?)))?)
    };
    let (debit_amt, debit_cnt) = sum("'sale', 'completion', 'ec_sale'")?;
    let (credit_amt, credit_cnt) = sum("'void', 'refund'")?;
    let ours = format!("{debit_amt:012}{debit_cnt:03}{credit_amt:012}{credit_cnt:03}");
    let theirs = req.string(48)?.unwrap_or_default();
    let balanced = theirs.get(..30) == Some(ours.as_str());
    let mut f48 = ours;
    f48.push(if balanced { '1' } else { '2' });
    f48.push_str(&"0".repeat(31));
    rsp.set_text(48, f48)?;
    rsp.set_text(15, now.mmdd.clone())?;
    rsp.set_text(39, "00")?;
    if balanced {
        db.execute(
            "UPDATE terminals SET batch = batch + 1 WHERE tid = ?1",
            [&term.tid],
        )?;
    }
    Ok(reply.encode_payload(&rsp)?)
}

/// What the ledger holds of a booked request: rc, RRN, auth code, PAN, amount.
type Booked = (String, Option<String>, Option<String>, Option<String>, i64);

/// The response codes this host gives, as `'static` strings (stored ones are read back as
/// `String`s).
fn static_rc(rc: &str) -> &'static str {
    [
        "00", "12", "14", "25", "51", "54", "55", "61", "64", "94", "A0",
    ]
    .into_iter()
    .find(|c| *c == rc)
    .unwrap_or("96")
}

/// What has been refunded of the sale with this RRN so far.
fn refunded(tx: &Connection, term: &Terminal, orig_rrn: Option<&str>) -> Result<i64, HostError> {
    Ok(tx.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM txns WHERE tid = ?1 AND kind = 'refund' AND orig_rrn = ?2 AND state = 'approved'",
        params![term.tid, orig_rrn],
        |r| r.get(0),
    )?)
}

/// A reversal (0400): it must name the original's amount and card; it moves money back once;
/// one that arrives before its original is kept, so the late original is declined.
fn reverse(
    tx: &Connection,
    term: &Terminal,
    req: &Message<'_>,
    batch: u32,
    stan: u32,
    amount: i64,
) -> Result<&'static str, HostError> {
    let rev_pan = card_number(term, req)?;
    let row: Option<(i64, String, i64, String, String)> = tx
        .query_row(
            "SELECT id, kind, amount, pan, state FROM txns WHERE tid = ?1 AND batch = ?2 AND stan = ?3 AND kind != 'reversal'",
            params![term.tid, batch, stan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<String>>(3)?.unwrap_or_default(), r.get(4)?)),
        )
        .optional()?;
    let Some((id, kind, orig_amount, orig_pan, state)) = row else {
        tx.execute(
            "INSERT INTO txns(tid, batch, stan, kind, pan, amount, rc, state) VALUES (?1, ?2, ?3, 'reversal', ?4, ?5, '00', 'pending')
             ON CONFLICT(tid, batch, stan, kind) DO NOTHING",
            params![term.tid, batch, stan, rev_pan, amount],
        )?;
        return Ok("00");
    };
    if req.has(4) && amount != orig_amount {
        return Ok("64");
    }
    if rev_pan.as_ref().is_some_and(|p| *p != orig_pan) {
        return Ok("25");
    }
    if state == "approved" {
        let delta = match kind.as_str() {
            "sale" | "completion" => orig_amount,
            "void" | "refund" => -orig_amount,
            _ => 0,
        };
        tx.execute(
            "UPDATE accounts SET balance = balance + ?2 WHERE pan = ?1",
            params![orig_pan, delta],
        )?;
        tx.execute("UPDATE txns SET state = 'reversed' WHERE id = ?1", [id])?;
    }
    // Idempotent: reversing twice is fine.
    Ok("00")
}
