//! Arbitrary bytes against the credential and ticket parsers: no panic, ever; what parses
//! re-encodes to itself; nothing forged verifies as a ticket; real tickets round-trip.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;

#[path = "../../server/src/auth/credentials.rs"]
#[allow(dead_code)]
mod credentials;

use credentials::{NONCE_LEN, Ticket, VERSION_LEN, parse_basic};

const KEY: &[u8] = b"fuzzing key, 32 bytes long.....";

fuzz_target!(|data: &[u8]| {
    if let Some((user, password)) = parse_basic(data) {
        assert!(!user.is_empty() && !user.contains(':'));
        let again = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        assert_eq!(parse_basic(again.as_bytes()), Some((user, password)));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(Ticket::decode(KEY, text).is_none(), "a forged ticket verified: {text:?}");
    }
    if let Some((head, rest)) = data.split_first_chunk::<{ 8 + NONCE_LEN + VERSION_LEN }>() {
        let (expiry, tail) = head.split_first_chunk::<8>().unwrap_or_else(|| unreachable!());
        let (nonce, version) = tail.split_first_chunk::<NONCE_LEN>().unwrap_or_else(|| unreachable!());
        let ticket = Ticket {
            expiry_ms: u64::from_be_bytes(*expiry),
            nonce: *nonce,
            version: version.try_into().unwrap_or_else(|_| unreachable!()),
            user: String::from_utf8_lossy(rest).into_owned(),
        };
        let encoded = ticket.encode(KEY);
        assert_eq!(Ticket::decode(KEY, &encoded).as_ref(), (encoded.len() <= credentials::MAX_LEN).then_some(&ticket));
    }
});
