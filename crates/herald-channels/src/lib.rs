//! Herald's channel providers.

pub mod config;
pub mod email;
pub mod http;
pub mod port;
pub mod rate;
pub mod secret;

pub use config::ConfigError;
pub use port::{Outbound, Provider, Receipt, SendError};
pub use secret::Secret;
