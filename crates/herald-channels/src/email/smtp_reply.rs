//! What an SMTP server's negative reply means for a message (RFC 5321 reply codes, RFC 3463
//! enhanced status codes). Pure.

use crate::port::SendError;

/// A negative reply: `code` (e.g. 550) and its text, which may start with an enhanced status
/// code (e.g. `5.1.1`).
///
/// - 4xx: transient (greylisting, a full queue, a temporary failure).
/// - 5xx: permanent. The address is suppressed (`hard_bounce`) when the reply says the
///   mailbox or its domain does not exist: enhanced codes 5.1.1 (bad mailbox), 5.1.2 (bad
///   domain), 5.1.3 (bad address syntax), 5.1.6 (mailbox moved), 5.1.10 (null MX), 5.2.1
///   (mailbox disabled); without an enhanced code, the basic codes 550, 551 and 553. Other
///   5xx (a policy or spam rejection such as 5.7.1, a message too large, a failed AUTH) fail
///   the message without suppressing the address (`smtp_rejected`).
pub fn classify(code: u16, text: &str) -> SendError {
    let message = format!("SMTP {code} {text}").trim_end().to_owned();
    match code {
        400..=499 => SendError::transient(message),
        500..=599 => {
            let suppress = match enhanced_status(text) {
                Some((5, 1, detail)) => matches!(detail, 1 | 2 | 3 | 6 | 10),
                Some((5, 2, 1)) => true,
                Some(_) => false,
                None => matches!(code, 550 | 551 | 553),
            };
            if suppress {
                SendError::suppressing("hard_bounce", message)
            } else {
                SendError::permanent("smtp_rejected", message)
            }
        }
        _ => SendError::transient(format!("unexpected SMTP reply: {message}")),
    }
}

/// The enhanced status code at the start of a reply's text (`class.subject.detail`, RFC
/// 3463: class 2, 4 or 5, subject and detail of up to three digits).
pub fn enhanced_status(text: &str) -> Option<(u8, u16, u16)> {
    let word = text.split_whitespace().next()?;
    let mut parts = word.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject: u16 = number(parts.next()?)?;
    let detail: u16 = number(parts.next()?)?;
    if parts.next().is_some() || !matches!(class, 2 | 4 | 5) {
        return None;
    }
    Some((class, subject, detail))
}

fn number(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        let cases: &[(u16, &str, &str, bool)] = &[
            (451, "4.7.1 Greylisted, try again later", "transient", false),
            (421, "Service not available", "transient", false),
            (452, "4.2.2 Mailbox full", "transient", false),
            (
                550,
                "5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
                "hard_bounce",
                true,
            ),
            (550, "5.1.2 Host unknown", "hard_bounce", true),
            (
                553,
                "5.1.3 Bad recipient address syntax",
                "hard_bounce",
                true,
            ),
            (
                550,
                "5.1.10 Recipient address has null MX",
                "hard_bounce",
                true,
            ),
            (550, "5.2.1 Mailbox disabled", "hard_bounce", true),
            (
                551,
                "5.1.6 User not local; please try <x@y>",
                "hard_bounce",
                true,
            ),
            (
                550,
                "5.7.1 Message rejected as spam",
                "smtp_rejected",
                false,
            ),
            (
                550,
                "5.1.7 Bad sender's mailbox address syntax",
                "smtp_rejected",
                false,
            ),
            (552, "5.3.4 Message too big", "smtp_rejected", false),
            (
                535,
                "5.7.8 Authentication credentials invalid",
                "smtp_rejected",
                false,
            ),
            (554, "Transaction failed", "smtp_rejected", false),
            (
                550,
                "Requested action not taken: mailbox unavailable",
                "hard_bounce",
                true,
            ),
            (551, "User not local", "hard_bounce", true),
            (553, "Mailbox name not allowed", "hard_bounce", true),
            (552, "Exceeded storage allocation", "smtp_rejected", false),
            (250, "Ok", "transient", false),
        ];
        for &(code, text, expected, suppress) in cases {
            let e = classify(code, text);
            assert_eq!(
                (e.code(), e.suppresses()),
                (expected, suppress),
                "{code} {text}"
            );
            assert!(e.to_string().contains(&code.to_string()), "{e}");
        }
    }

    #[test]
    fn enhanced_codes() {
        assert_eq!(enhanced_status("5.1.1 User unknown"), Some((5, 1, 1)));
        assert_eq!(enhanced_status("4.7.10"), Some((4, 7, 10)));
        for bad in [
            "",
            "User unknown",
            "5.1",
            "5.1.1.1",
            "3.1.1 x",
            "5.1000.1",
            "5.a.1",
            "5..1",
        ] {
            assert_eq!(enhanced_status(bad), None, "{bad:?}");
        }
    }
}
