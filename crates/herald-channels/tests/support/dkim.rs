//! A DKIM verifier written from RFC 6376 (and RFC 8463 for Ed25519), independent of
//! lettre's signer: it reads the message as received, finds the `DKIM-Signature`, checks
//! the body hash over the relaxed body, and verifies the signature over the relaxed signed
//! headers with the public key of the DNS record (`p=`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

#[derive(Debug)]
pub struct Verified {
    pub domain: String,
    pub selector: String,
    pub algorithm: String,
    pub signed_headers: Vec<String>,
}

/// Verifies the message's one DKIM signature against `record` (`v=DKIM1; k=…; p=…`).
pub fn verify(message: &str, record: &str) -> Result<Verified, String> {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .ok_or("no blank line after the headers")?;
    let headers = raw_headers(head);
    let signatures: Vec<&(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("DKIM-Signature"))
        .collect();
    let [(sig_name, sig_value)] = signatures.as_slice() else {
        return Err(format!("{} DKIM-Signature headers", signatures.len()));
    };
    let sig_tags = tags(sig_value);
    let tag = |t: &str| {
        sig_tags
            .iter()
            .find(|(n, _)| n == t)
            .map(|(_, v)| v.clone())
    };
    if tag("v").as_deref() != Some("1") {
        return Err("v= is not 1".into());
    }
    if tag("c").as_deref() != Some("relaxed/relaxed") {
        return Err(format!(
            "c={:?}, this verifier reads relaxed/relaxed",
            tag("c")
        ));
    }
    let algorithm = tag("a").ok_or("no a=")?;
    let signed: Vec<String> = tag("h")
        .ok_or("no h=")?
        .split(':')
        .map(|h| h.trim().to_owned())
        .collect();

    let body_hash = BASE64.encode(Sha256::digest(relaxed_body(body).as_bytes()));
    let bh = tag("bh").ok_or("no bh=")?;
    if body_hash != bh {
        return Err(format!("body hash mismatch: computed {body_hash}, bh={bh}"));
    }

    // RFC 6376 5.4.2: each name in h= takes the last not-yet-used instance of that header;
    // a name with no instance left contributes nothing.
    let mut used = vec![false; headers.len()];
    let mut data = String::new();
    for name in &signed {
        if let Some(i) = (0..headers.len())
            .rev()
            .find(|&i| !used[i] && headers[i].0.eq_ignore_ascii_case(name))
        {
            used[i] = true;
            data.push_str(&relaxed_header(&headers[i].0, &headers[i].1));
            data.push_str("\r\n");
        }
    }
    data.push_str(&relaxed_header(sig_name, &without_b(sig_value)));
    let hash = Sha256::digest(data.as_bytes());

    let signature = BASE64
        .decode(tag("b").ok_or("no b=")?)
        .map_err(|e| e.to_string())?;
    let record_tags = tags(record);
    let key_type = record_tags
        .iter()
        .find(|(n, _)| n == "k")
        .map(|(_, v)| v.as_str())
        .unwrap_or("rsa");
    let p = record_tags
        .iter()
        .find(|(n, _)| n == "p")
        .ok_or("no p= in the record")?;
    let public = BASE64.decode(&p.1).map_err(|e| e.to_string())?;
    match (algorithm.as_str(), key_type) {
        ("rsa-sha256", "rsa") => {
            let key = rsa::RsaPublicKey::from_public_key_der(&public).map_err(|e| e.to_string())?;
            key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &hash, &signature)
                .map_err(|e| format!("RSA signature: {e}"))?;
        }
        ("ed25519-sha256", "ed25519") => {
            let bytes: [u8; 32] = public.try_into().map_err(|_| "p= is not 32 bytes")?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())?;
            let sig =
                ed25519_dalek::Signature::from_slice(&signature).map_err(|e| e.to_string())?;
            key.verify_strict(&hash, &sig)
                .map_err(|e| format!("Ed25519 signature: {e}"))?;
        }
        (a, k) => return Err(format!("a={a} with k={k}")),
    }
    Ok(Verified {
        domain: tag("d").ok_or("no d=")?,
        selector: tag("s").ok_or("no s=")?,
        algorithm,
        signed_headers: signed,
    })
}

/// Headers as (name, raw value with its folding), in order.
fn raw_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    headers
}

/// RFC 6376 3.4.2: lower-case name, unfolded value, runs of WSP as one space, no WSP at the
/// end of the value or around the colon.
fn relaxed_header(name: &str, value: &str) -> String {
    let unfolded = value.replace("\r\n", "");
    let mut compact = String::new();
    let mut in_space = false;
    for c in unfolded.chars() {
        if c == ' ' || c == '\t' {
            in_space = true;
        } else {
            if in_space && !compact.is_empty() {
                compact.push(' ');
            }
            in_space = false;
            compact.push(c);
        }
    }
    format!("{}:{}", name.trim().to_ascii_lowercase(), compact)
}

/// RFC 6376 3.4.4: WSP at line ends removed, runs of WSP as one space, empty lines at the
/// end removed, one CRLF at the end of a non-empty body.
fn relaxed_body(body: &str) -> String {
    let mut lines: Vec<String> = body
        .split("\r\n")
        .map(|line| {
            let mut out = String::new();
            let mut in_space = false;
            for c in line.chars() {
                if c == ' ' || c == '\t' {
                    in_space = true;
                } else {
                    if in_space {
                        out.push(' ');
                    }
                    in_space = false;
                    out.push(c);
                }
            }
            out
        })
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if lines.is_empty() {
        return String::new();
    }
    lines.join("\r\n") + "\r\n"
}

/// The tags of a tag list (`a=b; c=d`), whitespace removed from the values (RFC 6376 3.2).
fn tags(list: &str) -> Vec<(String, String)> {
    list.split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(n, v)| {
            let value: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            (n.trim().to_owned(), value)
        })
        .collect()
}

/// The signature header's value with the `b=` tag's value emptied, as the signer hashed it.
fn without_b(value: &str) -> String {
    let mut out = String::new();
    for (i, tag) in value.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        match tag.split_once('=') {
            Some((name, _)) if name.trim() == "b" => {
                out.push_str(name);
                out.push('=');
            }
            _ => out.push_str(tag),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6376 3.4.5's examples of both relaxed canonicalizations.
    #[test]
    fn relaxed_canonicalization_follows_rfc_6376_example() {
        assert_eq!(relaxed_header("A", " X"), "a:X");
        assert_eq!(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z");
        assert_eq!(relaxed_body(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
    }
}
