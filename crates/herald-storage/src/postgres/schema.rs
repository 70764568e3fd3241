//! Schema and migrations, versioned in `herald_schema`. Safe when several nodes start at once:
//! every migration runs in a transaction holding an advisory lock, and re-reads the version
//! under it.

use postgres::Client;

use super::MIGRATION_LOCK;
use crate::Result;

const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    CREATE TABLE profiles (
        profile_id TEXT PRIMARY KEY,
        created_seq BIGINT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE identities (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        link TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    );
    CREATE INDEX identities_by_profile ON identities (profile_id);
    CREATE TABLE groups (group_id TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE event_index (
        seq BIGINT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        name TEXT NOT NULL,
        ts BIGINT NOT NULL,
        group_id TEXT
    );
    CREATE INDEX event_index_by_profile ON event_index (profile_id, ts, seq);
    CREATE INDEX event_index_by_group ON event_index (group_id) WHERE group_id IS NOT NULL;
    CREATE TABLE merges (
        merge_id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        record TEXT NOT NULL,
        undone BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX merges_by_profile ON merges (profile_id);
    CREATE TABLE refusals (
        id BIGSERIAL PRIMARY KEY,
        profile_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX refusals_by_profile ON refusals (profile_id);
    CREATE INDEX refusals_by_identifier ON refusals (kind, value);
    CREATE TABLE separations (separation_id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE separation_members (
        separation_id BIGINT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL
    );
    CREATE INDEX separation_members_by_identifier ON separation_members (kind, value);
    CREATE TABLE suppressions (kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value));
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE pending_log_deletions (seq BIGINT PRIMARY KEY);
",
    "
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE audience_state (
        profile_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        due_ms BIGINT
    );
    CREATE INDEX audience_state_by_due ON audience_state (due_ms) WHERE due_ms IS NOT NULL;
    CREATE TABLE audience_members (
        audience_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        since_ms BIGINT NOT NULL,
        PRIMARY KEY (audience_id, profile_id)
    );
    CREATE TABLE membership_changes (
        id BIGSERIAL PRIMARY KEY,
        profile_id TEXT NOT NULL,
        audience_id TEXT NOT NULL,
        entered BOOLEAN NOT NULL,
        at_ms BIGINT NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE INDEX membership_changes_by_profile ON membership_changes (profile_id, id);
    CREATE INDEX membership_changes_by_audience ON membership_changes (audience_id, at_ms);
",
    "
    CREATE TABLE routed (
        seq BIGINT NOT NULL,
        kind SMALLINT NOT NULL,
        profile_id TEXT NOT NULL,
        partition INTEGER NOT NULL,
        work TEXT NOT NULL,
        waits INTEGER[] NOT NULL,
        before BIGINT NOT NULL,
        PRIMARY KEY (seq, kind, profile_id)
    );
    CREATE INDEX routed_by_partition ON routed (partition, seq, kind, profile_id);
",
    "
    -- A backfill visits the profiles with events of the names a change reads.
    CREATE INDEX event_index_by_name ON event_index (name, profile_id);
",
    "
    -- Events the processor set aside instead of applying (herald_storage::Quarantined).
    CREATE TABLE quarantine (seq BIGINT PRIMARY KEY, reason TEXT NOT NULL, at_ms BIGINT NOT NULL);
",
    "
    -- Part of the log: events kept with a deleted person's identifiers redacted out of them.
    -- JetStream cannot rewrite a message, so the original is deleted from the stream (through
    -- pending_log_deletions) and the log reads this text at its position instead.
    CREATE TABLE log_replacements (seq BIGINT PRIMARY KEY, payload TEXT NOT NULL);
    -- When each identifier was suppressed (NULL: before this was recorded), and the
    -- suppressions an admin lifted.
    ALTER TABLE suppressions ADD COLUMN at_ms BIGINT;
    CREATE TABLE lifted_suppressions (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        suppressed_at_ms BIGINT,
        lifted_at_ms BIGINT NOT NULL
    );
",
    "
    -- Dashboard users and sessions (herald_storage::UserStore): argon2id password hashes,
    -- SHA-256 hashes of session tokens, failed sign-ins per email for the rate limit.
    CREATE TABLE dashboard_users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE dashboard_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        last_seen_ms BIGINT NOT NULL
    );
    CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);
    CREATE TABLE sign_in_failures (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL, at_ms BIGINT NOT NULL);
    CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at_ms);
",
    "
    -- The insights change feed (herald_storage::insights): profiles whose timeline rows moved
    -- to another profile or went, recorded in the transaction that moved them, with that
    -- transaction's id (the feed is read in transaction id order).
    CREATE TABLE insights_changes (
        xid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
        profile_id TEXT NOT NULL
    );
    CREATE INDEX insights_changes_by_xid ON insights_changes (xid);
    CREATE TABLE saved_insights (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        query TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
",
    "
    -- A saved insight's rolling range: the last N whole UTC days, or NULL for the query's own.
    ALTER TABLE saved_insights ADD COLUMN last_days INTEGER;
",
    "
    -- Message templates (herald_storage::templates): versions are appended, never changed;
    -- `last_version` is the newest (kept when the template is deleted, so numbers are never
    -- reused); `live` is false once deleted.
    CREATE TABLE templates (
        id TEXT PRIMARY KEY,
        last_version BIGINT NOT NULL,
        live BOOLEAN NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    CREATE TABLE template_versions (
        template_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        name TEXT NOT NULL,
        channel TEXT NOT NULL,
        content TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (template_id, version)
    );
",
    "
    -- Messages (herald_storage::messages): the send queue, the governor's ledger and the
    -- message log in one table; a message's id is its idempotency key.
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        partition_no BIGINT NOT NULL,
        channel TEXT NOT NULL,
        source TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_version BIGINT NOT NULL,
        category TEXT NOT NULL,
        topic TEXT,
        priority TEXT NOT NULL,
        transactional BOOLEAN NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        address TEXT,
        due_ms BIGINT NOT NULL,
        decided_ms BIGINT,
        attempts BIGINT NOT NULL,
        provider TEXT,
        provider_message_id TEXT,
        error TEXT,
        event TEXT,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
    CREATE INDEX messages_due ON messages (status, due_ms);
    CREATE INDEX messages_by_profile ON messages (profile_id, created_ms);
    CREATE INDEX messages_ledger ON messages (profile_id, decided_ms);
    CREATE INDEX messages_by_source ON messages (source, status);

",
    "
    -- Subscription preferences per address (herald_storage::preferences), suppressed
    -- addresses, and the secrets links are signed with.
    CREATE TABLE address_preferences (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        preferences TEXT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (channel, address)
    );
    CREATE TABLE address_suppressions (
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        reason TEXT NOT NULL,
        message_id TEXT,
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (channel, address)
    );
    CREATE TABLE shared_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
",
    "
    -- Broadcasts (herald_storage::broadcasts): a template to an audience, and the fan-out's
    -- progress; their messages are in `messages` with the source `broadcast:<id>`.
    CREATE TABLE broadcasts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_version BIGINT NOT NULL,
        audience_id TEXT NOT NULL,
        topic TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        transactional BOOLEAN NOT NULL,
        holdout_percent DOUBLE PRECISION NOT NULL,
        schedule TEXT NOT NULL,
        start_ms BIGINT NOT NULL,
        status TEXT NOT NULL,
        cursor TEXT,
        enqueued BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        finished_ms BIGINT
    );
    CREATE INDEX broadcasts_due ON broadcasts (status, start_ms);
    CREATE INDEX broadcasts_by_time ON broadcasts (created_ms, id);
",
    "
    -- The in-app inbox (herald_storage::inbox): one item per in-app message delivered, per
    -- user id, with its seen, read and archived marks.
    CREATE TABLE inbox_items (
        message_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        topic TEXT,
        content TEXT NOT NULL,
        format TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        seen_ms BIGINT,
        read_ms BIGINT,
        archived_ms BIGINT
    );
    CREATE INDEX inbox_by_user ON inbox_items (user_id, created_ms, message_id COLLATE \"C\");
    -- The overall message log, newest first.
    CREATE INDEX messages_by_time ON messages (created_ms, id);
",
    "
    -- Settings changed over the API (herald_storage::settings): a JSON document per name,
    -- versioned for compare-and-set.
    CREATE TABLE settings_documents (
        name TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        version BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    );
",
];

/// The schema version this build writes (`herald_schema.version`).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

pub(super) fn migrate(client: &mut Client) -> Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS herald_schema (version INTEGER NOT NULL); \
             INSERT INTO herald_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM herald_schema);",
        )?;
        let version: i32 = tx
            .query_one("SELECT version FROM herald_schema", &[])?
            .get(0);
        crate::sqlite::check_not_newer(
            "the PostgreSQL database",
            version as usize,
            SCHEMA_VERSION,
        )?;
        if (version as usize) <= i {
            tx.batch_execute(sql)?;
            tx.execute("UPDATE herald_schema SET version = $1", &[&(i as i32 + 1)])?;
            tracing::info!(version = i + 1, "migrated the PostgreSQL schema");
        }
        tx.commit()?;
    }
    Ok(())
}
