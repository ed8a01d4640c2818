//! The pure parts of the second factor: TOTP codes (RFC 6238 through totp-rs: SHA-1, 6 digits,
//! 30 s steps, one step either side for clocks that differ), compared in constant time and only
//! for steps after the last one taken; recovery codes (ten letters and digits shown as
//! `xxxxx-xxxxx`, kept as SHA-256); the `otpauth://` URI and its QR code as SVG.

use sha2::Digest;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Steps either side of now a code is taken for.
pub const SKEW: u64 = 1;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// Recovery codes per enrolment.
pub const RECOVERY_CODES: usize = 10;
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 0, STEP_SECS, secret.to_vec())
}

/// The code of `secret` for time step `step`.
pub fn code_at(secret: &[u8], step: u64) -> String {
    totp(secret).generate(step.saturating_mul(STEP_SECS))
}

/// The step of a wall time in seconds.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The step `code` is right for, among now's and [`SKEW`] either side, after `last_step`
/// (a code is never taken twice); every candidate is compared, in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_step: u64, last_step: u64) -> Option<u64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    for step in now_step.saturating_sub(SKEW)..=now_step.saturating_add(SKEW) {
        let same: bool = code_at(secret, step).as_bytes().ct_eq(code.as_bytes()).into();
        if same && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// `text` with spaces and dashes taken out, lowercased: how a recovery code is compared.
pub fn normalize_recovery(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect()
}

/// SHA-256 of a recovery code (normalised first).
pub fn recovery_digest(code: &str) -> [u8; 32] {
    sha2::Sha256::digest(normalize_recovery(code).as_bytes()).into()
}

/// The index of the recovery code whose digest is `digest` among `codes`, every one compared in
/// constant time.
pub fn find_recovery(codes: &[[u8; 32]], digest: &[u8; 32]) -> Option<usize> {
    let mut found = None;
    for (i, c) in codes.iter().enumerate() {
        if bool::from(c.ct_eq(digest)) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

/// Ten new recovery codes, as shown (`xxxxx-xxxxx`).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = crate::auth::accounts::random::<10>();
            let letters: String = bytes
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
                .collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect()
}

/// `secret` in base32 without padding, as authenticator apps take it.
pub fn base32(secret: &[u8]) -> String {
    totp(secret).get_secret_base32()
}

/// The secret written in base32 (spaces ignored, either case); `None` if it is not one of
/// [`SECRET_LEN`] bytes.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect();
    let bytes = totp_rs::Secret::Encoded(clean).to_bytes().ok()?;
    (bytes.len() == SECRET_LEN).then_some(bytes)
}

/// The `otpauth://` URI of `secret` for `user` (issuer `livedash`).
pub fn uri(user: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/livedash:{}?secret={}&issuer=livedash&algorithm=SHA1&digits=6&period={STEP_SECS}",
        livedash::query::encode(user),
        base32(secret)
    )
}

/// The QR code of `text` as an `<svg>` element (dark on light, whatever the theme: scanners
/// want it so), or `None` if the text does not fit a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).build();
    let start = svg.find("<svg")?;
    Some(svg[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"QR code of the secret\" ", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector_and_the_window() {
        // RFC 6238 appendix B: T = 59 s, SHA-1, the 20-byte ASCII secret; the last 6 digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, step_of(59)), "287082");
        let now = step_of(59);
        assert_eq!(matching_step(secret, "287082", now, 0), Some(now));
        assert_eq!(matching_step(secret, "287082", now + 1, 0), Some(now), "one step late is taken");
        assert_eq!(matching_step(secret, "287082", now + 2, 0), None, "two steps late is not");
        assert_eq!(matching_step(secret, "287082", now, now), None, "not twice");
        assert_eq!(matching_step(secret, "28708", now, 0), None);
        assert_eq!(matching_step(secret, "28708a", now, 0), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_found_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::BTreeSet<_>>().len(), 10);
        let digests: Vec<_> = codes.iter().map(|c| recovery_digest(c)).collect();
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert_eq!(find_recovery(&digests, &recovery_digest(&typed)), Some(3));
        assert_eq!(find_recovery(&digests, &recovery_digest("nope")), None);
    }

    #[test]
    fn secrets_go_through_base32_and_the_uri_and_qr_are_made() {
        let secret = [7u8; SECRET_LEN];
        let text = base32(&secret);
        assert_eq!(from_base32(&text.to_lowercase()), Some(secret.to_vec()));
        assert_eq!(from_base32("AAAA"), None);
        assert_eq!(from_base32("not base32!"), None);
        let uri = uri("ann lee", &secret);
        assert!(uri.starts_with("otpauth://totp/livedash:ann%20lee?secret="), "{uri}");
        let svg = qr_svg(&uri).expect("fits");
        assert!(svg.starts_with("<svg role=\"img\""));
    }
}
