//! `herald keys`: manage API keys directly in the data directory (or, for a cluster, in its
//! PostgreSQL database).

use std::path::Path;

use chrono::Utc;
use clap::Subcommand;
use herald_storage::postgres::PgState;
use herald_storage::sqlite::{SqliteOptions, SqliteStore};
use herald_storage::{KeyKind, KeyStore};

#[derive(Subcommand)]
pub enum KeysAction {
    /// List keys (secrets are never shown again).
    List,
    /// Create a key and print its secret once.
    Create {
        #[arg(long, value_parser = ["write", "admin"])]
        kind: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

pub fn run(data_dir: &Path, database_url: Option<&str>, action: KeysAction) -> anyhow::Result<()> {
    let store: Box<dyn KeyStore> = match database_url {
        Some(url) => Box::new(PgState::connect(url)?),
        None => Box::new(SqliteStore::open(data_dir, SqliteOptions::default())?),
    };
    match action {
        KeysAction::List => {
            println!(
                "{:<38} {:<6} {:<10} {:<26} {:<10} NAME",
                "ID", "KIND", "PREFIX", "CREATED", "STATUS"
            );
            for k in store.list_keys()? {
                let status = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<38} {:<6} {:<10} {:<26} {:<10} {}",
                    k.id,
                    k.kind.as_str(),
                    k.prefix,
                    k.created_at.to_rfc3339(),
                    status,
                    k.name
                );
            }
        }
        KeysAction::Create { kind, name } => {
            let kind = KeyKind::parse(&kind).expect("clap checked the value");
            let secret = herald_api::keys::generate(kind);
            let key = store
                .insert_key(kind, &name, &secret, Utc::now())?
                .ok_or_else(|| anyhow::anyhow!("key collision"))?;
            println!("created {} key {}", kind.as_str(), key.id);
            println!("{secret}");
        }
        KeysAction::Revoke { id } => {
            if !store.revoke_key(&id, Utc::now())? {
                anyhow::bail!("no active key {id}");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}
