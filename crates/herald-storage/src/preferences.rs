//! The [`PreferenceStore`] port: what each address agreed to receive, the addresses that must
//! receive nothing, and the secrets every node signs links with.
//!
//! Preferences belong to an address on a channel (an email address, a phone number), not to a
//! profile: the person who clicks "unsubscribe" in a mail speaks for that mailbox, and merging
//! or unmerging profiles must not move anyone's consent. A change is a compare-and-set on the
//! row's `updated_ms`, so two concurrent changes (a one-click POST and a preference page save)
//! never lose one of them. Times are Unix milliseconds from the caller's clock.

use crate::Result;

/// One address's preferences on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPreferences {
    pub channel: String,
    /// Normalised as the channel's addresses are (lower-case email, E.164 phone).
    pub address: String,
    /// herald_messaging::preferences::ChannelPreferences as JSON.
    pub preferences: String,
    pub updated_ms: i64,
}

/// An address that receives nothing on its channel, transactional messages included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSuppression {
    pub channel: String,
    pub address: String,
    /// herald_messaging::preferences::SuppressionReason, as its string.
    pub reason: String,
    /// The message whose bounce or complaint suppressed it, if any.
    pub message_id: Option<String>,
    pub created_ms: i64,
}

pub trait PreferenceStore: Send + Sync {
    fn address_preferences(
        &self,
        channel: &str,
        address: &str,
    ) -> Result<Option<AddressPreferences>>;
    /// Store `next` if the stored row is still at `previous_ms` (`None`: if there is no row
    /// yet); false, and nothing changed, when another writer changed it first.
    fn put_address_preferences(
        &self,
        next: &AddressPreferences,
        previous_ms: Option<i64>,
    ) -> Result<bool>;
    /// The suppressions among `addresses` on `channel`.
    fn address_suppressions(
        &self,
        channel: &str,
        addresses: &[String],
    ) -> Result<Vec<AddressSuppression>>;
    /// Suppress an address; false when it was suppressed already (the first reason stays).
    fn suppress_address(&self, suppression: &AddressSuppression) -> Result<bool>;
    /// Lift a suppression; false when there was none.
    fn unsuppress_address(&self, channel: &str, address: &str) -> Result<bool>;
    /// Suppressions ordered by (channel, address), after `after`, at most `limit`.
    fn list_address_suppressions(
        &self,
        channel: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<AddressSuppression>>;
    /// The secret named `name`: the stored one, or `generated`, stored now, when there is
    /// none. Every node of a cluster reads the same one.
    fn shared_secret(&self, name: &str, generated: &str) -> Result<String>;
}
