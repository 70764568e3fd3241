//! Online backup and restore of the embedded store (`herald backup`, `herald restore`).
//!
//! A backup is a directory with a copy of `state.db`, a copy of `log.db` and a manifest (which
//! the `herald` binary writes). Both copies are made with SQLite's online backup API, each in
//! one step, so each is one consistent snapshot of its database taken under a read
//! transaction: neither ingest nor processing waits for it (WAL readers never block writers).
//!
//! **Why the two snapshots agree.** `state.db` is copied first, `log.db` after it:
//! - The log only grows by appends, so the log copy holds every event the state copy's cursor
//!   has passed (and perhaps more, which the processor applies after a restore).
//! - The log also loses events (person deletions) and has events rewritten (redactions), and
//!   both are two-phase: the state transaction queues them (`pending_log_deletions`,
//!   `pending_log_replacements`) before `log.db` changes. A rewrite queued *before* the state
//!   snapshot is in the state copy's queue and is finished on the restored copy (deleting
//!   or rewriting again is idempotent), whether or not the log copy already shows it. A rewrite
//!   queued *after* the state snapshot could reach `log.db` before its snapshot, which would
//!   leave the state copy with events the log copy lacks or has redacted. Every state
//!   transaction that queues a rewrite of events its cursor has passed (a person deletion, a
//!   discarded quarantined event) bumps [`LOG_REWRITES`] in `meta`; when the live count differs
//!   from the state copy's once the log is copied, the backup starts over (these are rare admin
//!   actions). The events of deleted people that a batch drops as it applies them are beyond
//!   the state copy's cursor when that batch commits after the copy, and the copy already
//!   holds the suppression that drops them again after a restore: they do not count.
//! - Keys, audience definitions, separations and suppressions live in `state.db`.
//!   `dedup-window.bin` is derived from the log and left out (a restored log rebuilds it).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use super::schema::{self, LOG_SCHEMA_VERSION, STATE_SCHEMA_VERSION};
use super::{SqliteOptions, SqliteStore};
use crate::{EventLog, ProjectionBackend, Result, StorageError};

/// The `meta` key counting the log deletions and rewrites queued in `state.db`.
pub(crate) const LOG_REWRITES: &str = "log_rewrites";

/// The files of a backup, copied in this order.
pub const FILES: [&str; 2] = ["state.db", "log.db"];

/// Attempts before a backup gives up on a store whose log keeps being rewritten.
const ATTEMPTS: usize = 5;

/// What a backup holds, for its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub log_schema_version: usize,
    pub state_schema_version: usize,
    /// The highest log position handed out (`sqlite_sequence`).
    pub log_head: u64,
    /// The processor's cursor in the state copy (at most `log_head`).
    pub state_cursor: u64,
    /// `(file name, size in bytes, SHA-256 in hex)` of each copied file.
    pub files: Vec<(String, u64, String)>,
}

fn db_error(what: impl std::fmt::Display) -> StorageError {
    StorageError::Database(what.to_string())
}

fn open_source(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(db_error(format!("{} does not exist", path.display())));
    }
    // Read-write (not read-only) so that a WAL database can be read whether or not a server has
    // its shared memory file open; nothing is written through this connection.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

fn log_rewrites(conn: &Connection) -> Result<i64> {
    Ok(conn
        .query_row(
            &format!("SELECT value FROM meta WHERE key = '{LOG_REWRITES}'"),
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Copy `source` into the new file `target` in one step of the online backup API: one read
/// transaction, one snapshot. The copy is a single file (rollback journal mode) and synced.
fn copy_database(source: &Connection, target: &Path) -> Result<()> {
    let _ = std::fs::remove_file(target);
    {
        let mut dest = Connection::open(target)?;
        {
            use rusqlite::backup::StepResult;
            let backup = rusqlite::backup::Backup::new(source, &mut dest)?;
            let mut tries = 0;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    // The source is locked for a moment (a WAL recovery, a checkpoint
                    // restart): try again.
                    StepResult::Busy | StepResult::Locked if tries < 100 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    other => {
                        return Err(db_error(format!(
                            "copying into {}: the backup did not finish ({other:?})",
                            target.display()
                        )))
                    }
                }
            }
        }
        dest.execute_batch("PRAGMA journal_mode=DELETE;")?;
    }
    File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(|e| db_error(format!("syncing {}: {e}", target.display())))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| db_error(format!("syncing {}: {e}", dir.display())))
}

/// SHA-256 (hex) and size of a file.
pub fn file_digest(path: &Path) -> Result<(u64, String)> {
    let mut file =
        File::open(path).map_err(|e| db_error(format!("reading {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| db_error(format!("reading {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn partial(dir: &Path, file: &str) -> PathBuf {
    dir.join(format!("{file}.partial"))
}

/// Copy the store in `data_dir` (served or not) into `target`, a new or empty directory.
/// Leaves `state.db` and `log.db` there (the caller adds the manifest).
pub fn backup(data_dir: &Path, target: &Path) -> Result<BackupInfo> {
    backup_with(data_dir, target, &mut || {})
}

/// [`backup`], calling `between` after each copy of the state and before the copy of the log
/// (where a test deletes events).
fn backup_with(data_dir: &Path, target: &Path, between: &mut dyn FnMut()) -> Result<BackupInfo> {
    let state = open_source(&data_dir.join("state.db"))?;
    let log = open_source(&data_dir.join("log.db"))?;
    schema::check_not_newer(
        "state.db",
        schema::version_of(&state)?,
        STATE_SCHEMA_VERSION,
    )?;
    schema::check_not_newer("log.db", schema::version_of(&log)?, LOG_SCHEMA_VERSION)?;
    std::fs::create_dir_all(target)
        .map_err(|e| db_error(format!("cannot create {}: {e}", target.display())))?;
    let (state_copy, log_copy) = (partial(target, "state.db"), partial(target, "log.db"));
    let mut attempt = 0;
    loop {
        attempt += 1;
        copy_database(&state, &state_copy)?;
        let copied = log_rewrites(&Connection::open(&state_copy)?)?;
        between();
        copy_database(&log, &log_copy)?;
        if log_rewrites(&state)? == copied {
            break;
        }
        if attempt == ATTEMPTS {
            return Err(db_error(format!(
                "the log was rewritten (person deletions) during each of {ATTEMPTS} attempts; try again later"
            )));
        }
        tracing::info!("a log rewrite was queued while copying; copying again");
    }
    let info = {
        let (state, log) = (Connection::open(&state_copy)?, Connection::open(&log_copy)?);
        let log_head: i64 = log
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let state_cursor: i64 = state
            .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0);
        if state_cursor > log_head {
            return Err(StorageError::Corrupt(format!(
                "the state copy's cursor {state_cursor} is ahead of the log copy's head {log_head}"
            )));
        }
        BackupInfo {
            log_schema_version: schema::version_of(&log)?,
            state_schema_version: schema::version_of(&state)?,
            log_head: log_head as u64,
            state_cursor: state_cursor as u64,
            files: Vec::new(),
        }
    };
    let mut info = info;
    for file in FILES {
        let from = partial(target, file);
        let (size, digest) = file_digest(&from)?;
        std::fs::rename(&from, target.join(file))
            .map_err(|e| db_error(format!("renaming into {}: {e}", target.display())))?;
        info.files.push((file.to_owned(), size, digest));
    }
    sync_dir(target)?;
    Ok(info)
}

/// Files of a data directory that `restore --force` replaces.
const DATA_FILES: [&str; 8] = [
    "log.db",
    "log.db-wal",
    "log.db-shm",
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "dedup-window.bin",
    "dedup-window.bin.partial",
];

/// Put a backup's files (already checked against its manifest by the caller: `expected` holds
/// `(file, size, sha256)`) into `data_dir`, then finish the log deletions and rewrites the
/// state copy had queued, so that the restored log and state agree before anything reads them.
/// `data_dir` must be new or empty, unless `force` (then its Herald files are replaced; no
/// server may be running on it).
pub fn restore(
    backup: &Path,
    expected: &[(String, u64, String)],
    data_dir: &Path,
    force: bool,
) -> Result<()> {
    for (file, size, digest) in expected {
        let found = file_digest(&backup.join(file))?;
        if found != (*size, digest.clone()) {
            return Err(StorageError::Corrupt(format!(
                "{} does not match the backup's manifest (size or SHA-256 differs)",
                backup.join(file).display()
            )));
        }
    }
    for file in FILES {
        if !expected.iter().any(|(f, _, _)| f == file) {
            return Err(StorageError::Corrupt(format!(
                "the backup's manifest does not list {file}"
            )));
        }
    }
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir)
            .map_err(|e| db_error(format!("reading {}: {e}", data_dir.display())))?;
        if entries.next().is_some() {
            if !force {
                return Err(db_error(format!(
                    "{} is not empty: restore into a new directory, or pass --force to replace the Herald data in it (stop its server first)",
                    data_dir.display()
                )));
            }
            for file in DATA_FILES {
                match std::fs::remove_file(data_dir.join(file)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(db_error(format!("removing {file}: {e}"))),
                }
            }
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| db_error(format!("cannot create {}: {e}", data_dir.display())))?;
    for file in FILES {
        let to = partial(data_dir, file);
        copy_file(&backup.join(file), &to)?;
        std::fs::rename(&to, data_dir.join(file))
            .map_err(|e| db_error(format!("renaming into {}: {e}", data_dir.display())))?;
    }
    sync_dir(data_dir)?;
    // What a server's processor does first at start (two-phase rewrites of the log).
    let store = SqliteStore::open(data_dir, SqliteOptions::default())?;
    let pending = store.pending_log_deletions()?;
    if !pending.is_empty() {
        store.delete(&pending)?;
        store.confirm_log_deletions(&pending)?;
    }
    store.finish_log_replacements()?;
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let io = |e: std::io::Error| db_error(format!("copying {}: {e}", from.display()));
    let mut source = File::open(from).map_err(io)?;
    let mut dest = File::create(to).map_err(io)?;
    std::io::copy(&mut source, &mut dest).map_err(io)?;
    dest.flush().map_err(io)?;
    dest.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncodedEvent;

    fn event(id: &str) -> EncodedEvent {
        EncodedEvent {
            message_id: id.into(),
            received_ms: 1_000,
            json: format!(
                r#"{{"type":"track","event":"E","userId":"u","messageId":"{id}","timestamp":"2026-01-01T00:00:00Z","receivedAt":"2026-01-01T00:00:00Z"}}"#
            ),
        }
    }

    #[test]
    fn a_backup_restores_the_log_and_state_and_refuses_a_changed_file() {
        let tmp = tempfile::tempdir().unwrap();
        let (data, copy, restored) = (
            tmp.path().join("data"),
            tmp.path().join("backup"),
            tmp.path().join("restored"),
        );
        let store = SqliteStore::open(&data, SqliteOptions::default()).unwrap();
        store.append(&[event("a"), event("b")]).unwrap();
        let info = backup(&data, &copy).unwrap();
        assert_eq!(info.log_head, 2);
        assert_eq!(info.state_cursor, 0);
        assert_eq!(
            (info.log_schema_version, info.state_schema_version),
            (LOG_SCHEMA_VERSION, STATE_SCHEMA_VERSION)
        );
        restore(&copy, &info.files, &restored, false).unwrap();
        let back = SqliteStore::open(&restored, SqliteOptions::default()).unwrap();
        assert_eq!(back.head().unwrap(), 2);
        assert_eq!(back.read_after(0, 10).unwrap().events.len(), 2);
        drop(back);

        let err = restore(&copy, &info.files, &restored, false).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        restore(&copy, &info.files, &restored, true).unwrap();

        std::fs::OpenOptions::new()
            .append(true)
            .open(copy.join("log.db"))
            .unwrap()
            .write_all(b"x")
            .unwrap();
        let err = restore(&copy, &info.files, &tmp.path().join("other"), false).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn a_log_deletion_between_the_two_copies_makes_the_backup_start_over() {
        use crate::StateTxn;
        let tmp = tempfile::tempdir().unwrap();
        let (data, copy) = (tmp.path().join("data"), tmp.path().join("backup"));
        let store = SqliteStore::open(&data, SqliteOptions::default()).unwrap();
        store
            .append(&[event("a"), event("b"), event("c"), event("d")])
            .unwrap();
        store
            .in_transaction(&mut |txn: &mut dyn StateTxn| txn.set_cursor(3))
            .unwrap();
        // Events beyond the cursor dropped as a batch applies them do not count.
        store
            .in_transaction(&mut |txn: &mut dyn StateTxn| txn.forget_events(&[4]))
            .unwrap();
        store.delete(&[4]).unwrap();
        store.confirm_log_deletions(&[4]).unwrap();
        let count = |store: &SqliteStore| {
            log_rewrites(&Connection::open(store.dir().join("state.db")).unwrap()).unwrap()
        };
        assert_eq!(count(&store), 0);

        // A person deletion (state first, then the log) right between the copies: the first
        // state copy still has event 2 as applied, the log copy would lack it.
        let mut attempts = 0;
        let info = backup_with(&data, &copy, &mut || {
            attempts += 1;
            if attempts == 1 {
                store
                    .in_transaction(&mut |txn: &mut dyn StateTxn| txn.forget_events(&[2]))
                    .unwrap();
                store.delete(&[2]).unwrap();
                store.confirm_log_deletions(&[2]).unwrap();
            }
        })
        .unwrap();
        assert_eq!(attempts, 2, "started over once");
        assert_eq!(count(&store), 1);
        let restored = tmp.path().join("restored");
        restore(&copy, &info.files, &restored, false).unwrap();
        let back = SqliteStore::open(&restored, SqliteOptions::default()).unwrap();
        let seqs: Vec<u64> = back
            .read_after(0, 10)
            .unwrap()
            .events
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(seqs, [1, 3]);
        assert!(back.pending_log_deletions().unwrap().is_empty());
    }

    #[test]
    fn a_database_from_a_newer_herald_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(tmp.path(), SqliteOptions::default()).unwrap());
        let conn = Connection::open(tmp.path().join("state.db")).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA user_version = {}",
            STATE_SCHEMA_VERSION + 1
        ))
        .unwrap();
        drop(conn);
        let err = SqliteStore::open(tmp.path(), SqliteOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&format!(
                "schema version {}, newer than the version {STATE_SCHEMA_VERSION}",
                STATE_SCHEMA_VERSION + 1
            )),
            "{err}"
        );
        let err = backup(tmp.path(), &tmp.path().join("b")).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
