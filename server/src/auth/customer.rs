//! Customer secrets: `POST …/sessions` hands one to the customer; its `Hello` and its stop must
//! present it. The server keeps only the SHA-256 digest (in memory and in the live record, which
//! in a cluster lives in Cassandra), so a reader of the database cannot become the customer.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in a secret: 256 bits, out of reach of guessing at any rate.
const SECRET_BYTES: usize = 32;

/// A new secret from the OS-seeded CSPRNG, as lowercase hex (URL-, header- and JSON-safe).
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    hex(&bytes)
}

/// The digest kept in place of `secret` (lowercase hex of SHA-256).
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// True when `presented` is the secret whose digest is `expected`. Digests are compared in
/// constant time; an empty `expected` (a record written without a secret) matches nothing, so
/// such a session refuses every customer rather than any.
pub fn matches(presented: Option<&str>, expected: &str) -> bool {
    let Some(presented) = presented.filter(|p| !p.is_empty()) else {
        return false;
    };
    !expected.is_empty() && bool::from(digest(presented).as_bytes().ct_eq(expected.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_digest_only() {
        let secret = new_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_secret(), "secrets are random");
        let d = digest(&secret);
        assert_ne!(d, secret, "the digest is not the secret");
        assert!(matches(Some(&secret), &d));
        assert!(!matches(Some(&new_secret()), &d));
        assert!(!matches(Some(""), &d));
        assert!(!matches(None, &d));
        assert!(
            !matches(Some(&secret), ""),
            "no digest: nobody is the customer"
        );
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
