//! `--channels FILE`: the messaging settings from a file (docs/messaging-settings.md): the
//! providers the send pipeline hands messages to, the topics and the governor's policy. A
//! TOML file with the sections of the settings document:
//!
//! ```toml
//! [email]               # one table per channel: email, sms, push, webhook
//! provider = "smtp"     # and that provider's settings (docs/channels.md)
//! host = "smtp.example.com"
//! from = "Example <news@example.com>"
//!
//! [policy]              # the send governor's policy (docs/messaging.md)
//! caps = [{ category = "marketing", max = 2, window = "1d" }]
//!
//! [addresses]
//! default_calling_code = "+49"
//!
//! [tracking]            # opens and clicks in HTML emails, both on by default
//! opens = false
//! ```
//!
//! Without the file, the settings are the ones stored in the database, changed over the API
//! (herald_pipeline::messaging::settings).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use herald_pipeline::messaging::settings::{load_stored, Configuration, Origin};
use herald_storage::Store;

/// The settings in force at start: the file's, or the stored ones.
pub async fn load(
    file: Option<&Path>,
    store: Arc<dyn Store>,
) -> anyhow::Result<(Configuration, Origin)> {
    let Some(file) = file else {
        return tokio::task::spawn_blocking(move || load_stored(&*store)).await?;
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the channels file {}", file.display()))?;
    let parsed: toml::Value = toml::from_str(&text)
        .with_context(|| format!("invalid channels file {}", file.display()))?;
    let document = serde_json::to_value(parsed)
        .with_context(|| format!("invalid channels file {}", file.display()))?;
    let configuration = Configuration::from_document(document)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok((configuration, Origin::File))
}
