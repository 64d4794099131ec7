//! Export and import of the journal: a backup restores every record, counter and operator;
//! a damaged or foreign file is refused and the journal in place is left as it was.

use pos_platform::{JournalError, SqliteJournal};
use pos_terminal::journal::{Journal, Outcome};

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pos-backup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn journal_with_a_sale(path: &std::path::Path) -> SqliteJournal {
    let mut j = SqliteJournal::open(path).expect("opens");
    j.set_batch(42).expect("batch");
    let stan = j.next_stan().expect("stan");
    let r = j.begin(stan, b"the request").expect("begin");
    j.finish(
        r.id,
        &Outcome::Approved {
            rrn: "000000000001".into(),
            auth: "123456".into(),
            host_time: "1201093015".into(),
        },
    )
    .expect("finish");
    j
}

#[test]
fn an_exported_journal_imports_with_records_counters_and_operators() {
    let d = dir("roundtrip");
    let j = journal_with_a_sale(&d.join("journal.sqlite"));
    j.export(d.join("backup.sqlite")).expect("export");
    SqliteJournal::import(d.join("backup.sqlite"), d.join("other.sqlite")).expect("import");
    let mut restored = SqliteJournal::open(d.join("other.sqlite")).expect("opens");
    assert_eq!(restored.batch().expect("journal"), 42);
    let last = restored.last().expect("journal").expect("the sale");
    assert_eq!(last.request, b"the request");
    assert!(matches!(last.outcome, Outcome::Approved { .. }));
    // The STAN goes on from where it was: never handed out twice.
    assert_eq!(restored.next_stan().expect("journal"), 2);
    assert_eq!(restored.operators().expect("journal").iter().count(), 3);
}

#[test]
fn an_export_never_overwrites() {
    let d = dir("overwrite");
    let j = journal_with_a_sale(&d.join("journal.sqlite"));
    std::fs::write(d.join("backup.sqlite"), b"precious").expect("journal");
    assert!(matches!(
        j.export(d.join("backup.sqlite")),
        Err(JournalError::Exists(_))
    ));
    assert_eq!(
        std::fs::read(d.join("backup.sqlite")).expect("journal"),
        b"precious"
    );
}

#[test]
fn a_file_that_is_no_journal_is_refused_and_the_journal_stays() {
    let d = dir("refused");
    let target = d.join("journal.sqlite");
    drop(journal_with_a_sale(&target));
    std::fs::write(d.join("garbage.sqlite"), vec![0x5a; 8192]).expect("journal");
    let foreign = rusqlite::Connection::open(d.join("foreign.sqlite")).expect("journal");
    foreign.execute_batch("CREATE TABLE t(x)").expect("journal");
    drop(foreign);
    for bad in ["garbage.sqlite", "foreign.sqlite", "missing.sqlite"] {
        let result = SqliteJournal::import(d.join(bad), &target);
        assert!(
            matches!(result, Err(JournalError::NotAJournal { .. })),
            "{bad}: {result:?}"
        );
    }
    let mut j = SqliteJournal::open(&target).expect("journal");
    assert_eq!(j.batch().expect("journal"), 42);
    assert!(j.last().expect("journal").is_some());
}

#[test]
fn an_import_replaces_a_journal_with_a_busy_wal() {
    let d = dir("replace");
    let target = d.join("journal.sqlite");
    let backup = {
        let j = journal_with_a_sale(&d.join("source.sqlite"));
        j.export(d.join("backup.sqlite")).expect("journal");
        d.join("backup.sqlite")
    };
    // The target has records of its own still in its WAL (not checkpointed).
    let mut old = SqliteJournal::open(&target).expect("journal");
    old.set_batch(9).expect("journal");
    let stan = old.next_stan().expect("journal");
    old.begin(stan, b"old").expect("journal");
    drop(old);
    SqliteJournal::import(&backup, &target).expect("import");
    let mut j = SqliteJournal::open(&target).expect("journal");
    assert_eq!(j.batch().expect("journal"), 42);
    assert_eq!(
        j.last().expect("journal").expect("record").request,
        b"the request"
    );
    assert_eq!(j.quick_check().expect("journal"), None);
}

#[test]
fn an_older_backup_never_rewinds_the_stan_or_the_voucher_number() {
    let d = dir("rewind");
    let target = d.join("journal.sqlite");
    let mut j = journal_with_a_sale(&target);
    j.export(d.join("backup.sqlite")).expect("journal");
    for _ in 0..5 {
        let stan = j.next_stan().expect("journal");
        j.begin(stan, b"later").expect("journal");
    }
    drop(j);
    SqliteJournal::import(d.join("backup.sqlite"), &target).expect("journal");
    let mut j = SqliteJournal::open(&target).expect("journal");
    assert_eq!(
        j.next_stan().expect("journal"),
        7,
        "STANs 1..=6 were handed out already"
    );
    let r = j.begin(7, b"next").expect("journal");
    assert_eq!(r.voucher, 7);
}
