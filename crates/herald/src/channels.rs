//! `--channels FILE`: the providers the send pipeline hands messages to, and the governor's
//! policy (docs/messages.md). A TOML file:
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
//! ```
//!
//! Without the file no channel is configured: messages fail with `channel_not_configured`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use herald_channels::email::smtp::{SmtpConfig, SmtpProvider};
use herald_channels::Provider;
use herald_messaging::preferences::Topics;
use herald_messaging::{AddressRules, Channel, Policy};
use herald_pipeline::messaging::SenderConfig;

pub fn sender_config(file: Option<&Path>) -> anyhow::Result<SenderConfig> {
    let Some(file) = file else {
        return Ok(SenderConfig {
            providers: HashMap::new(),
            policy: Policy::default(),
            topics: Topics::default(),
            address_rules: AddressRules::default(),
        });
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the channels file {}", file.display()))?;
    let mut table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("invalid channels file {}", file.display()))?;
    let at = |what: &str| format!("{}: {what}", file.display());
    let policy: Policy = match table.remove("policy") {
        Some(v) => v.try_into().with_context(|| at("[policy]"))?,
        None => Policy::default(),
    };
    policy
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", at("[policy]")))?;
    let topics: Topics = match table.remove("topics") {
        Some(v) => v.try_into().with_context(|| at("topics"))?,
        None => Topics::default(),
    };
    let address_rules: AddressRules = match table.remove("addresses") {
        Some(v) => v.try_into().with_context(|| at("[addresses]"))?,
        None => AddressRules::default(),
    };
    let mut providers: HashMap<Channel, Arc<dyn Provider>> = HashMap::new();
    for (name, value) in table {
        let channel: Channel = name
            .parse()
            .map_err(|_| anyhow::anyhow!("{}: unknown table [{name}]", file.display()))?;
        let toml::Value::Table(mut settings) = value else {
            bail!("{}: [{name}] is not a table", file.display());
        };
        let provider = settings
            .remove("provider")
            .and_then(|p| p.as_str().map(str::to_owned))
            .ok_or_else(|| anyhow::anyhow!("{}: [{name}] needs a `provider`", file.display()))?;
        let built: Arc<dyn Provider> = match (channel, provider.as_str()) {
            (Channel::Email, "smtp") => {
                let config: SmtpConfig = toml::Value::Table(settings)
                    .try_into()
                    .with_context(|| at("[email]"))?;
                Arc::new(
                    SmtpProvider::new(&config)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", at("[email]")))?,
                )
            }
            (_, other) => bail!(
                "{}: [{name}]: unknown provider `{other}` for the {name} channel",
                file.display()
            ),
        };
        providers.insert(channel, built);
    }
    Ok(SenderConfig {
        providers,
        policy,
        topics,
        address_rules,
    })
}
