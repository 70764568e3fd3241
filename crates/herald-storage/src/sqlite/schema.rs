//! Schema and migrations, versioned with `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;

const LOG_MIGRATIONS: &[&str] = &["
    -- AUTOINCREMENT: a deleted tail position is never reused, so the processor's cursor
    -- never skips an event.
    -- No index on message_id: de-duplication uses an in-memory window rebuilt from the tail
    -- of this table (src/dedup.rs); a unique index on random ids made appends 5x slower.
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        payload TEXT NOT NULL
    );
"];

const STATE_MIGRATIONS: &[&str] = &["
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE profiles (
        profile_id TEXT PRIMARY KEY,
        created_seq INTEGER NOT NULL,
        state TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE identities (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        link TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    CREATE INDEX identities_by_profile ON identities (profile_id);
    CREATE TABLE groups (group_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE event_index (
        seq INTEGER PRIMARY KEY,
        profile_id TEXT NOT NULL,
        name TEXT NOT NULL,
        ts INTEGER NOT NULL,
        group_id TEXT
    );
    CREATE INDEX event_index_by_profile ON event_index (profile_id, ts, seq);
    CREATE INDEX event_index_by_group ON event_index (group_id) WHERE group_id IS NOT NULL;
    CREATE TABLE merges (
        merge_id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        record TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX merges_by_profile ON merges (profile_id);
    CREATE TABLE refusals (
        profile_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX refusals_by_profile ON refusals (profile_id);
    CREATE INDEX refusals_by_identifier ON refusals (kind, value);
    CREATE TABLE separations (separation_id INTEGER PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE separation_members (
        separation_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL
    );
    CREATE INDEX separation_members_by_identifier ON separation_members (kind, value);
    CREATE TABLE suppressions (kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID;
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    ) WITHOUT ROWID;
    -- Events the projection forgot (deletion, suppression) whose removal from log.db is not
    -- yet confirmed; finished on the next start if the process died in between.
    CREATE TABLE pending_log_deletions (seq INTEGER PRIMARY KEY);
", "
    -- Audiences (crates/herald-core/src/audience): definitions and the backfill in progress
    -- are JSON documents here; the definitions version is meta 'definitions_version'.
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    -- Per profile: facts, memberships, computed traits, and the time of its next
    -- time-driven change (its durable timer).
    CREATE TABLE audience_state (
        profile_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        due_ms INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX audience_state_by_due ON audience_state (due_ms) WHERE due_ms IS NOT NULL;
    CREATE TABLE audience_members (
        audience_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        PRIMARY KEY (audience_id, profile_id)
    ) WITHOUT ROWID;
    CREATE TABLE membership_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id TEXT NOT NULL,
        audience_id TEXT NOT NULL,
        entered INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE INDEX membership_changes_by_profile ON membership_changes (profile_id, id);
    CREATE INDEX membership_changes_by_audience ON membership_changes (audience_id, at_ms);
", "
    -- A backfill visits the profiles with events of the names a change reads.
    CREATE INDEX event_index_by_name ON event_index (name, profile_id);
", "
    -- Facts a backfill rebuilt for a profile while moving nothing else, written apart from
    -- its audience_state (a small row, in id order, instead of the whole state): read over
    -- it, deleted when the whole state is next written. `facts`: fact id -> hits (JSON).
    CREATE TABLE audience_facts_apart (
        profile_id TEXT PRIMARY KEY,
        built_for TEXT NOT NULL,
        facts TEXT NOT NULL
    ) WITHOUT ROWID;
", "
    -- Events the processor set aside instead of applying (herald_storage::Quarantined).
    CREATE TABLE quarantine (seq INTEGER PRIMARY KEY, reason TEXT NOT NULL, at_ms INTEGER NOT NULL);
", "
    -- Events kept in the log with a deleted person's identifiers redacted out of them, whose
    -- new text is not yet written to log.db; finished on the next start if the process died
    -- in between (like pending_log_deletions).
    CREATE TABLE pending_log_replacements (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    -- When each identifier was suppressed (NULL: before this was recorded), and the
    -- suppressions an admin lifted.
    ALTER TABLE suppressions ADD COLUMN at_ms INTEGER;
    CREATE TABLE lifted_suppressions (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        suppressed_at_ms INTEGER,
        lifted_at_ms INTEGER NOT NULL
    );
", "
    -- Dashboard users and sessions (herald_storage::UserStore): argon2id password hashes,
    -- SHA-256 hashes of session tokens, failed sign-ins per email for the rate limit.
    CREATE TABLE dashboard_users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE dashboard_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);
    CREATE TABLE sign_in_failures (email TEXT NOT NULL, at_ms INTEGER NOT NULL);
    CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at_ms);
", "
    -- The insights change feed (herald_storage::insights): profiles whose timeline rows moved
    -- to another profile or went, recorded in the transaction that moved them.
    CREATE TABLE insights_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, profile_id TEXT NOT NULL);
    CREATE TABLE saved_insights (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        query TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID;
", "
    -- A saved insight's rolling range: the last N whole UTC days, or NULL for the query's own.
    ALTER TABLE saved_insights ADD COLUMN last_days INTEGER;
", "
    -- Message templates (herald_storage::templates): versions are appended, never changed;
    -- `last_version` is the newest (kept when the template is deleted, so numbers are never
    -- reused); `live` = 0 once deleted.
    CREATE TABLE templates (
        id TEXT PRIMARY KEY,
        last_version INTEGER NOT NULL,
        live INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE template_versions (
        template_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        channel TEXT NOT NULL,
        content TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (template_id, version)
    ) WITHOUT ROWID;
", "
    -- Messages (herald_storage::messages): the send queue, the governor's ledger and the
    -- message log in one table; a message's id is its idempotency key.
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        partition_no INTEGER NOT NULL,
        channel TEXT NOT NULL,
        source TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        category TEXT NOT NULL,
        topic TEXT,
        priority TEXT NOT NULL,
        transactional INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        address TEXT,
        due_ms INTEGER NOT NULL,
        decided_ms INTEGER,
        attempts INTEGER NOT NULL,
        provider TEXT,
        provider_message_id TEXT,
        error TEXT,
        event TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX messages_due ON messages (status, due_ms);
    CREATE INDEX messages_by_profile ON messages (profile_id, created_ms);
    CREATE INDEX messages_ledger ON messages (profile_id, decided_ms);
    CREATE INDEX messages_by_source ON messages (source, status);
", "
    -- Subscription preferences per address (herald_storage::preferences), suppressed
    -- addresses, and the secrets links are signed with.
    CREATE TABLE address_preferences (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        preferences TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (channel, address)
    ) WITHOUT ROWID;
    CREATE TABLE address_suppressions (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        reason TEXT NOT NULL,
        message_id TEXT,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (channel, address)
    ) WITHOUT ROWID;
    CREATE TABLE shared_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
", "
    -- Broadcasts (herald_storage::broadcasts): a template to an audience, and the fan-out's
    -- progress; their messages are in `messages` with the source `broadcast:<id>`.
    CREATE TABLE broadcasts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_version INTEGER NOT NULL,
        audience_id TEXT NOT NULL,
        topic TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        transactional INTEGER NOT NULL,
        holdout_percent REAL NOT NULL,
        schedule TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        cursor TEXT,
        enqueued INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        finished_ms INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX broadcasts_due ON broadcasts (status, start_ms);
    CREATE INDEX broadcasts_by_time ON broadcasts (created_ms, id);
", "
    -- The in-app inbox (herald_storage::inbox): one item per in-app message delivered, per
    -- user id, with its seen, read and archived marks.
    CREATE TABLE inbox_items (
        message_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        topic TEXT,
        content TEXT NOT NULL,
        format TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        seen_ms INTEGER,
        read_ms INTEGER,
        archived_ms INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX inbox_by_user ON inbox_items (user_id, created_ms, message_id);
    -- The overall message log, newest first.
    CREATE INDEX messages_by_time ON messages (created_ms, id);
", "
    -- Settings changed over the API (herald_storage::settings): a JSON document per name,
    -- versioned for compare-and-set.
    CREATE TABLE settings_documents (
        name TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
"];

/// The schema version of `log.db` this build writes (its `PRAGMA user_version`).
pub const LOG_SCHEMA_VERSION: usize = LOG_MIGRATIONS.len();
/// The schema version of `state.db` this build writes (its `PRAGMA user_version`).
pub const STATE_SCHEMA_VERSION: usize = STATE_MIGRATIONS.len();

/// A database's schema version (`PRAGMA user_version`).
pub(crate) fn version_of(conn: &Connection) -> Result<usize> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Refuse a database written by a newer Herald: its schema has things this build does not
/// know about (downgrades are not supported; restore a backup taken before the upgrade).
pub(crate) fn check_not_newer(file: &str, found: usize, known: usize) -> Result<()> {
    if found > known {
        return Err(crate::StorageError::Database(format!(
            "{file} has schema version {found}, newer than the version {known} this Herald ({}) knows: \
             it was written by a newer Herald, and downgrades are not supported \
             (run the newer Herald, or restore a backup taken before the upgrade)",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

fn migrate(conn: &Connection, file: &str, migrations: &[&str]) -> Result<()> {
    let version = version_of(conn)?;
    check_not_newer(file, version, migrations.len())?;
    for (i, sql) in migrations.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn migrate_log(conn: &Connection) -> Result<()> {
    migrate(conn, "log.db", LOG_MIGRATIONS)
}

pub(crate) fn migrate_state(conn: &Connection) -> Result<()> {
    migrate(conn, "state.db", STATE_MIGRATIONS)
}
