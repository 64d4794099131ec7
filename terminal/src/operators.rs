//! Operators (操作员) of the terminal: who may log in, with which password, in which role.
//!
//! The Lakala convention (notes/payments-cup-emv.md §2.6): operator `00` is the supervisor
//! (主管), `99` the system administrator, `01`–`98` cashiers; cashier `01` exists with password
//! `0000` on a new terminal. Wrong passwords are counted per operator and lock the operator
//! after [`MAX_FAILURES`]; the supervisor resets a cashier's password (which unlocks it).
//! Login is local: nothing goes to the host.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroize;

/// Wrong passwords before an operator is locked.
pub const MAX_FAILURES: u8 = 3;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A cashier: sales, balance, settlement.
    Cashier,
    /// The supervisor (`00`): voids, refunds, operator management.
    Supervisor,
    /// The system administrator (`99`): terminal parameters.
    Administrator,
}

/// Rounds of PBKDF2-HMAC-SHA256 a password is stretched with.
pub const PBKDF2_ROUNDS: u32 = 20_000;

/// A stretched password: what the journal keeps instead of the password.
///
/// Operator passwords are 4–8 digits, so no hash makes them hard to guess for someone who
/// holds the journal file; stretching with a per-operator salt only keeps them from being read
/// at a glance or looked up in a table. The lock after [`MAX_FAILURES`] wrong passwords is what
/// protects them at the keypad.
#[derive(Clone, PartialEq, Eq)]
struct PasswordHash {
    rounds: u32,
    salt: [u8; 16],
    hash: [u8; 32],
}

impl PasswordHash {
    fn new(password: &str, salt: [u8; 16]) -> Self {
        Self {
            rounds: PBKDF2_ROUNDS,
            salt,
            hash: stretch(password, &salt, PBKDF2_ROUNDS),
        }
    }

    fn matches(&self, password: &str) -> bool {
        let mut candidate = stretch(password, &self.salt, self.rounds);
        let same = candidate
            .iter()
            .zip(self.hash)
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
        candidate.zeroize();
        same
    }

    /// `pbkdf2-sha256$<rounds>$<salt hex>$<hash hex>`.
    fn stored(&self) -> String {
        let mut out = alloc::format!("pbkdf2-sha256${}$", self.rounds);
        hex_into(&mut out, &self.salt);
        out.push('$');
        hex_into(&mut out, &self.hash);
        out
    }

    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let rounds: u32 = parts.next()?.parse().ok()?;
        let mut salt = [0u8; 16];
        let mut hash = [0u8; 32];
        unhex_into(parts.next()?, &mut salt)?;
        unhex_into(parts.next()?, &mut hash)?;
        (parts.next().is_none() && (1..=10_000_000).contains(&rounds)).then_some(Self {
            rounds,
            salt,
            hash,
        })
    }
}

fn stretch(password: &str, salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, rounds, &mut out);
    out
}

fn hex_into(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = core::fmt::Write::write_fmt(out, format_args!("{b:02x}"));
    }
}

fn unhex_into(text: &str, out: &mut [u8]) -> Option<()> {
    let text = text.as_bytes();
    if text.len() != out.len() * 2 {
        return None;
    }
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        *o = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(())
}

/// One operator.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    /// Two digits.
    pub id: [u8; 2],
    password: PasswordHash,
    /// Wrong passwords since the last good one.
    pub failures: u8,
}

impl Operator {
    /// Its role, from its number.
    pub fn role(&self) -> Role {
        match &self.id {
            b"00" => Role::Supervisor,
            b"99" => Role::Administrator,
            _ => Role::Cashier,
        }
    }

    /// Locked by wrong passwords.
    pub fn locked(&self) -> bool {
        self.failures >= MAX_FAILURES
    }

    /// The stretched password as the store keeps it (`pbkdf2-sha256$…`); the password itself
    /// is never kept.
    pub fn stored_password(&self) -> String {
        self.password.stored()
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("id", &core::str::from_utf8(&self.id).unwrap_or("??"))
            .field("password", &"<redacted>")
            .field("failures", &self.failures)
            .finish()
    }
}

/// Why a login or a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperatorError {
    /// No operator with that number.
    Unknown,
    /// Wrong password; this many tries are left before the lock.
    WrongPassword {
        /// Tries left.
        left: u8,
    },
    /// Locked after too many wrong passwords: the supervisor must reset the password.
    Locked,
    /// Not a two-digit number, or a password that is not 4–8 digits (6–8 for the supervisor
    /// and the administrator).
    Invalid,
    /// Only the supervisor may do that.
    NotAllowed,
    /// The number is taken.
    Exists,
}

impl fmt::Display for OperatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperatorError::Unknown => f.write_str("无此操作员 no such operator"),
            OperatorError::WrongPassword { left } => {
                write!(f, "密码错 wrong password ({left} tries left)")
            }
            OperatorError::Locked => {
                f.write_str("操作员已锁定 operator locked: ask the supervisor")
            }
            OperatorError::Invalid => f.write_str("格式错 invalid number or password"),
            OperatorError::NotAllowed => f.write_str("需主管 only the supervisor may do that"),
            OperatorError::Exists => f.write_str("操作员已存在 operator exists"),
        }
    }
}

/// The operator table.
#[derive(Clone, PartialEq, Eq)]
pub struct Operators {
    list: Vec<Operator>,
    /// This terminal's random seed for salts (no_std has no random source of its own).
    seed: [u8; 16],
}

impl fmt::Debug for Operators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operators")
            .field("list", &self.list)
            .finish_non_exhaustive()
    }
}

fn id_of(text: &str) -> Result<[u8; 2], OperatorError> {
    match text.as_bytes() {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok([*a, *b]),
        _ => Err(OperatorError::Invalid),
    }
}

fn valid_password(id: [u8; 2], password: &str) -> bool {
    let min = if id == *b"00" || id == *b"99" { 6 } else { 4 };
    (min..=8).contains(&password.len()) && password.bytes().all(|b| b.is_ascii_digit())
}

impl Default for Operators {
    /// A new terminal with a fixed salt seed (tests, examples): see [`Operators::new_terminal`].
    fn default() -> Self {
        Self::new_terminal([0; 16])
    }
}

impl Operators {
    /// A new terminal: supervisor `00` / `123456`, administrator `99` / `12345678`, cashier
    /// `01` / `0000`. `seed` (random, from the platform) makes the salts of this terminal's
    /// passwords its own.
    pub fn new_terminal(seed: [u8; 16]) -> Self {
        let mut table = Self {
            list: Vec::new(),
            seed,
        };
        for (id, password) in [(b"00", "123456"), (b"01", "0000"), (b"99", "12345678")] {
            let password = table.hash(*id, password, &[]);
            table.list.push(Operator {
                id: *id,
                password,
                failures: 0,
            });
        }
        table
    }

    /// A salt of its own for each password set: from the terminal's seed, the operator and
    /// the password it replaces.
    fn hash(&self, id: [u8; 2], password: &str, replaced: &[u8]) -> PasswordHash {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(self.seed)
            .chain_update(id)
            .chain_update(replaced)
            .finalize();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&digest[..16]);
        PasswordHash::new(password, salt)
    }

    /// A table from stored rows (id, stored password, failures) and the terminal's salt seed;
    /// invalid rows are left out. A row of an older journal that still holds its password in
    /// clear is stretched on the way in; the `bool` returned then says so, so the store can
    /// write the table back.
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = (&'a str, &'a str, u8)>,
        seed: [u8; 16],
    ) -> (Self, bool) {
        let mut table = Self {
            list: Vec::new(),
            seed,
        };
        let mut clear = false;
        for (id, stored, failures) in rows {
            let Ok(id) = id_of(id) else { continue };
            let password = match PasswordHash::parse(stored) {
                Some(hash) => hash,
                None if valid_password(id, stored) => {
                    clear = true;
                    table.hash(id, stored, &[])
                }
                None => continue,
            };
            table.list.push(Operator {
                id,
                password,
                failures,
            });
        }
        (table, clear)
    }

    /// Every operator.
    pub fn iter(&self) -> impl Iterator<Item = &Operator> {
        self.list.iter()
    }

    fn find(&mut self, id: &str) -> Result<&mut Operator, OperatorError> {
        let id = id_of(id)?;
        self.list
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or(OperatorError::Unknown)
    }

    /// Logs `id` in with `password`: counts a wrong password, locks at the limit.
    pub fn login(&mut self, id: &str, password: &str) -> Result<Role, OperatorError> {
        let op = self.find(id)?;
        if op.locked() {
            return Err(OperatorError::Locked);
        }
        if op.password.matches(password) {
            op.failures = 0;
            return Ok(op.role());
        }
        op.failures = op.failures.saturating_add(1);
        if op.locked() {
            return Err(OperatorError::Locked);
        }
        Err(OperatorError::WrongPassword {
            left: MAX_FAILURES - op.failures,
        })
    }

    /// An operator changes its own password (the old one is checked like a login).
    pub fn change_password(&mut self, id: &str, old: &str, new: &str) -> Result<(), OperatorError> {
        self.login(id, old)?;
        self.set_password(id, new)
    }

    fn set_password(&mut self, id: &str, new: &str) -> Result<(), OperatorError> {
        let key = id_of(id)?;
        if !valid_password(key, new) {
            return Err(OperatorError::Invalid);
        }
        let replaced = self.find(id)?.password.hash;
        let hash = self.hash(key, new, &replaced);
        self.find(id)?.password = hash;
        Ok(())
    }

    /// The supervisor adds a cashier.
    pub fn add(&mut self, supervisor: &str, id: &str, password: &str) -> Result<(), OperatorError> {
        self.supervisor(supervisor)?;
        let id = id_of(id)?;
        if id == *b"00" || id == *b"99" || !valid_password(id, password) {
            return Err(OperatorError::Invalid);
        }
        if self.list.iter().any(|o| o.id == id) {
            return Err(OperatorError::Exists);
        }
        let password = self.hash(id, password, &[]);
        self.list.push(Operator {
            id,
            password,
            failures: 0,
        });
        Ok(())
    }

    /// The supervisor removes a cashier.
    pub fn remove(&mut self, supervisor: &str, id: &str) -> Result<(), OperatorError> {
        self.supervisor(supervisor)?;
        let id = id_of(id)?;
        if id == *b"00" || id == *b"99" {
            return Err(OperatorError::NotAllowed);
        }
        let before = self.list.len();
        self.list.retain(|o| o.id != id);
        if self.list.len() == before {
            return Err(OperatorError::Unknown);
        }
        Ok(())
    }

    /// The supervisor sets a cashier's password, which also unlocks it.
    pub fn reset(
        &mut self,
        supervisor: &str,
        id: &str,
        password: &str,
    ) -> Result<(), OperatorError> {
        self.supervisor(supervisor)?;
        if self.find(id)?.role() != Role::Cashier {
            return Err(OperatorError::NotAllowed);
        }
        self.set_password(id, password)?;
        self.find(id)?.failures = 0;
        Ok(())
    }

    /// Checks the supervisor's password as a login of `00` (counted, locking), for the flows
    /// that need the supervisor's consent (void, refund, pre-authorisation cancel).
    pub fn supervisor(&mut self, password: &str) -> Result<(), OperatorError> {
        match self.login("00", password) {
            Ok(Role::Supervisor) => Ok(()),
            Ok(_) => Err(OperatorError::NotAllowed),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn a_new_terminal_has_cashier_01_with_0000_and_the_supervisor() {
        let mut ops = Operators::default();
        assert_eq!(ops.login("01", "0000"), Ok(Role::Cashier));
        assert_eq!(ops.login("00", "123456"), Ok(Role::Supervisor));
        assert_eq!(ops.login("99", "12345678"), Ok(Role::Administrator));
        assert_eq!(ops.login("02", "0000"), Err(OperatorError::Unknown));
        assert_eq!(ops.login("1", "0000"), Err(OperatorError::Invalid));
    }

    #[test]
    fn wrong_passwords_are_counted_and_lock_until_the_supervisor_resets() {
        let mut ops = Operators::default();
        assert_eq!(
            ops.login("01", "1111"),
            Err(OperatorError::WrongPassword { left: 2 })
        );
        assert_eq!(
            ops.login("01", "1111"),
            Err(OperatorError::WrongPassword { left: 1 })
        );
        assert_eq!(ops.login("01", "1111"), Err(OperatorError::Locked));
        assert_eq!(
            ops.login("01", "0000"),
            Err(OperatorError::Locked),
            "even the right one"
        );
        assert_eq!(
            ops.reset("00", "01", "4321"),
            Err(OperatorError::WrongPassword { left: 2 })
        );
        ops.reset("123456", "01", "4321")
            .expect("supervisor resets");
        assert_eq!(ops.login("01", "4321"), Ok(Role::Cashier));
    }

    #[test]
    fn a_good_login_clears_the_count() {
        let mut ops = Operators::default();
        ops.login("01", "1111").expect_err("wrong");
        ops.login("01", "1111").expect_err("wrong");
        ops.login("01", "0000").expect("right");
        assert_eq!(
            ops.login("01", "1111"),
            Err(OperatorError::WrongPassword { left: 2 })
        );
    }

    #[test]
    fn the_supervisor_manages_cashiers_and_cashiers_change_their_own_password() {
        let mut ops = Operators::default();
        ops.add("123456", "02", "2222").expect("add");
        assert_eq!(ops.add("123456", "02", "2222"), Err(OperatorError::Exists));
        assert_eq!(
            ops.add("123456", "00", "222222"),
            Err(OperatorError::Invalid)
        );
        assert_eq!(ops.add("123456", "03", "12"), Err(OperatorError::Invalid));
        ops.change_password("02", "2222", "5555").expect("change");
        assert_eq!(ops.login("02", "5555"), Ok(Role::Cashier));
        assert_eq!(ops.remove("123456", "00"), Err(OperatorError::NotAllowed));
        ops.remove("123456", "02").expect("remove");
        assert_eq!(ops.login("02", "5555"), Err(OperatorError::Unknown));
        assert_eq!(
            ops.reset("123456", "99", "87654321"),
            Err(OperatorError::NotAllowed)
        );
    }

    #[test]
    fn stored_rows_round_trip_and_debug_hides_passwords() {
        let seed = [7; 16];
        let ops = Operators::new_terminal(seed);
        let rows: Vec<(String, String, u8)> = ops
            .iter()
            .map(|o| {
                (
                    String::from_utf8_lossy(&o.id).into_owned(),
                    o.stored_password(),
                    o.failures,
                )
            })
            .collect();
        let (back, clear) = Operators::from_rows(
            rows.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)),
            seed,
        );
        assert_eq!(back, ops);
        assert!(!clear);
        let text = format!("{ops:?}");
        assert!(
            !text.contains("123456") && !text.contains("0000\""),
            "{text}"
        );
        let (bad, _) = Operators::from_rows(
            [
                ("x1", "0000", 0),
                ("05", "12", 0),
                ("06", "pbkdf2-sha256$0$00$00", 0),
            ],
            seed,
        );
        assert_eq!(bad.iter().count(), 0);
    }

    #[test]
    fn passwords_are_kept_stretched_and_salted_never_in_clear() {
        let ops = Operators::new_terminal([1; 16]);
        let stored: Vec<String> = ops.iter().map(Operator::stored_password).collect();
        for (text, clear) in stored.iter().zip(["123456", "0000", "12345678"]) {
            let parts: Vec<&str> = text.split('$').collect();
            assert_eq!(parts[..2], ["pbkdf2-sha256", "20000"], "{text}");
            assert_eq!((parts[2].len(), parts[3].len()), (32, 64), "{text}");
            assert!(!parts[2..].iter().any(|p| p.contains(clear)), "{text}");
        }
        let other = Operators::new_terminal([2; 16]);
        assert_ne!(
            other.iter().next().map(Operator::stored_password),
            stored.first().cloned(),
            "another terminal, other salts"
        );
        let mut ops = ops;
        ops.reset("123456", "01", "0000")
            .expect("same password again");
        assert_ne!(
            ops.iter().nth(1).map(Operator::stored_password),
            stored.get(1).cloned(),
            "a new salt for each password set"
        );
        assert_eq!(ops.login("01", "0000"), Ok(Role::Cashier));
    }

    #[test]
    fn a_table_of_an_older_journal_in_clear_is_stretched_on_load() {
        let (mut ops, clear) =
            Operators::from_rows([("00", "654321", 0), ("01", "1234", 1)], [3; 16]);
        assert!(clear, "the store must write it back");
        assert!(
            ops.iter()
                .all(|o| o.stored_password().starts_with("pbkdf2"))
        );
        assert_eq!(ops.login("00", "654321"), Ok(Role::Supervisor));
        assert_eq!(ops.login("01", "1234"), Ok(Role::Cashier));
    }
}
