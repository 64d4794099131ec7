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

/// One operator.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    /// Two digits.
    pub id: [u8; 2],
    password: String,
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

    /// The password, for the store that keeps it (never for display).
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.password.zeroize();
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operators {
    list: Vec<Operator>,
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

/// Constant-time comparison: a wrong password takes as long as a right one.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Default for Operators {
    /// A new terminal: supervisor `00` / `123456`, administrator `99` / `12345678`, cashier
    /// `01` / `0000`.
    fn default() -> Self {
        let op = |id: &[u8; 2], password: &str| Operator {
            id: *id,
            password: password.into(),
            failures: 0,
        };
        Self {
            list: alloc::vec![
                op(b"00", "123456"),
                op(b"01", "0000"),
                op(b"99", "12345678")
            ],
        }
    }
}

impl Operators {
    /// A table from stored rows (id, password, failures); invalid rows are left out.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str, u8)>) -> Self {
        let list = rows
            .into_iter()
            .filter_map(|(id, password, failures)| {
                let id = id_of(id).ok()?;
                valid_password(id, password).then(|| Operator {
                    id,
                    password: password.into(),
                    failures,
                })
            })
            .collect();
        Self { list }
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
        if same(&op.password, password) {
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
        let op = self.find(id)?;
        if !valid_password(op.id, new) {
            return Err(OperatorError::Invalid);
        }
        op.password.zeroize();
        op.password = new.into();
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
        self.list.push(Operator {
            id,
            password: password.into(),
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
        let op = self.find(id)?;
        if op.role() != Role::Cashier {
            return Err(OperatorError::NotAllowed);
        }
        if !valid_password(op.id, password) {
            return Err(OperatorError::Invalid);
        }
        op.password.zeroize();
        op.password = password.into();
        op.failures = 0;
        Ok(())
    }

    fn supervisor(&mut self, password: &str) -> Result<(), OperatorError> {
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
        let ops = Operators::default();
        let rows: Vec<(String, String, u8)> = ops
            .iter()
            .map(|o| {
                (
                    String::from_utf8_lossy(&o.id).into_owned(),
                    String::from(o.password()),
                    o.failures,
                )
            })
            .collect();
        let back = Operators::from_rows(rows.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)));
        assert_eq!(back, ops);
        let text = format!("{ops:?}");
        assert!(
            !text.contains("123456") && !text.contains("0000\""),
            "{text}"
        );
        let bad = Operators::from_rows([("x1", "0000", 0), ("05", "12", 0)]);
        assert_eq!(bad.iter().count(), 0);
    }
}
