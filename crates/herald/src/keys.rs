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
            let rows: Vec<[String; 6]> = store
                .list_keys()?
                .into_iter()
                .map(|k| {
                    let status = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    [
                        k.id,
                        k.kind.as_str().to_owned(),
                        k.prefix,
                        k.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        status.to_owned(),
                        k.name,
                    ]
                })
                .collect();
            let header = ["ID", "KIND", "PREFIX", "CREATED", "STATUS", "NAME"].map(str::to_owned);
            print!("{}", table(&header, &rows));
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

/// Rows as text columns, each as wide as its widest cell plus two spaces (the last one
/// unpadded), one line per row after the header.
fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count() + 2;
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let header = ["ID", "NAME", "NOTE"].map(str::to_owned);
        let rows = [
            ["key_1", "a long name", "x"].map(str::to_owned),
            ["key_22222", "b", "last column is not padded"].map(str::to_owned),
        ];
        assert_eq!(
            table(&header, &rows),
            "ID         NAME         NOTE\n\
             key_1      a long name  x\n\
             key_22222  b            last column is not padded\n"
        );
    }
}
