//! Email providers: SMTP and Postmark, and what they share (the plain-text part, the
//! preheader, RFC 8058 headers, DKIM).

pub mod content;
pub mod dkim;
pub mod postmark;
pub mod postmark_webhook;
pub mod smtp;
mod smtp_pool;
pub mod smtp_reply;
pub mod text;
