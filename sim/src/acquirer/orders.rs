//! The terminal's own QR orders (扫码支付, the customer scans the terminal's code): created on
//! the terminal's request, paid by the customer's wallet (here [`pay_order`], or the demo's
//! auto-pay), then booked once when the terminal asks for the result — the booking goes
//! through the sale path, so the ledger's rules (duplicate STANs, reversals) hold for it.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The QR payload of an order (a reserved example domain: nothing real is paid).
pub fn qr_payload(order: &str) -> String {
    format!("https://qr.example.com/pay/{order}")
}

/// `59 = ORDER`: a new open order for `amount`; its id in 37, its QR payload in 59.
pub(super) fn create(
    tx: &Connection,
    term: &Terminal,
    amount: i64,
    rsp: &mut Message<'_>,
) -> Result<&'static str, HostError> {
    if amount <= 0 {
        return Ok("13");
    }
    let n: i64 = tx.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))?;
    let id = format!("{:012}", 900_000_000_000 + n + 1);
    tx.execute(
        "INSERT INTO orders(id, tid, amount, state) VALUES (?1, ?2, ?3, 'open')",
        params![id, term.tid, amount],
    )?;
    rsp.set_text(37, id.clone())?;
    rsp.set_text(59, qr_payload(&id))?;
    Ok("00")
}

/// `59 = CLOSE:<id>`: an order nobody paid is closed (a late payment is then refused).
pub(super) fn close(tx: &Connection, term: &Terminal, id: &str) -> Result<&'static str, HostError> {
    tx.execute(
        "UPDATE orders SET state = 'closed' WHERE id = ?1 AND tid = ?2 AND state = 'open'",
        params![id, term.tid],
    )?;
    Ok("00")
}

/// amount, state, payer, RRN, auth code.
type OrderRow = (i64, String, Option<String>, Option<String>, Option<String>);

/// `59 = QUERY:<id>`: `Ok(payer)` when the order is paid and must be booked now; otherwise
/// the answer's code: `Q1` not paid yet, `00` already booked (its 37/38 set again), `25` no
/// such order of this terminal, `13` amount differs, `Q2` closed.
pub(super) fn payer(
    tx: &Connection,
    term: &Terminal,
    id: &str,
    amount: i64,
    rsp: &mut Message<'_>,
) -> Result<Result<String, &'static str>, HostError> {
    let row: Option<OrderRow> = tx
        .query_row(
            "SELECT amount, state, pan, rrn, auth FROM orders WHERE id = ?1 AND tid = ?2",
            params![id, term.tid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((order_amount, state, pan, rrn, auth)) = row else {
        return Ok(Err("25"));
    };
    if order_amount != amount {
        return Ok(Err("13"));
    }
    Ok(match (state.as_str(), pan) {
        ("paid", Some(pan)) => Ok(pan),
        ("booked", _) => {
            if let Some(rrn) = rrn {
                rsp.set_text(37, rrn)?;
            }
            if let Some(auth) = auth {
                rsp.set_text(38, auth)?;
            }
            Err("00")
        }
        ("closed", _) => Err("Q2"),
        _ => Err("Q1"),
    })
}

/// The order was booked as this sale.
pub(super) fn booked(tx: &Connection, id: &str, rrn: &str, auth: &str) -> Result<(), HostError> {
    tx.execute(
        "UPDATE orders SET state = 'booked', rrn = ?2, auth = ?3 WHERE id = ?1",
        params![id, rrn, auth],
    )?;
    Ok(())
}

/// The customer's wallet pays order `id` from the account behind payment code `code`: the
/// host-side event of a customer scanning the terminal's QR. `Ok(false)` when the order is not
/// open or the code unknown.
pub fn pay_order(db: &Path, id: &str, code: &str) -> Result<bool, HostError> {
    let db = open_db(db)?;
    let pan: Option<String> = db
        .query_row(
            "SELECT pan FROM payment_codes WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    let Some(pan) = pan else {
        return Ok(false);
    };
    let changed = db.execute(
        "UPDATE orders SET state = 'paid', pan = ?2 WHERE id = ?1 AND state = 'open'",
        params![id, pan],
    )?;
    Ok(changed == 1)
}

/// The simulated customers: every open order older than `after` is paid with payment code
/// `code` (host-sim's `--customer-pays-after`, so the demo's QR gets paid). Returns how many.
pub fn pay_orders_older_than(
    db: &Path,
    after: std::time::Duration,
    code: &str,
) -> Result<usize, HostError> {
    let conn = open_db(db)?;
    let due: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT id FROM orders WHERE state = 'open' AND created <= datetime('now', ?1)",
        )?;
        stmt.query_map([format!("-{} seconds", after.as_secs())], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?
    };
    drop(conn);
    let mut paid = 0;
    for id in due {
        if pay_order(db, &id, code)? {
            paid += 1;
        }
    }
    Ok(paid)
}
