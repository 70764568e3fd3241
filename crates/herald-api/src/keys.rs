//! Key secrets.

use herald_storage::KeyKind;

/// A new random secret: `hwk_` (write) or `hak_` (admin) and 32 hex characters (128 bits).
pub fn generate(kind: KeyKind) -> String {
    let prefix = match kind {
        KeyKind::Write => "hwk_",
        KeyKind::Admin => "hak_",
    };
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}
