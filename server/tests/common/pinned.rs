//! A TLS client that trusts exactly one certificate, named by its SHA-256 fingerprint: how the
//! tests check the server the way the README tells a person to, by fingerprint and not by
//! clicking through.

use std::fmt;
use std::sync::Arc;

use livedash_server::tls::fingerprint;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// A client configuration that accepts exactly the server certificate with this SHA-256
/// `fingerprint` (any case, with or without `:`) and refuses every other one. The server name is not
/// checked, but handshake signatures still are, with the ring provider.
///
/// # Panics
///
/// Never in practice: ring's default provider always supports the default protocol versions.
pub fn pinned_client_config(fingerprint: &str) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCert {
        pinned: normalize_fingerprint(fingerprint),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => builder,
        Err(e) => unreachable!("ring's default provider supports the default TLS versions: {e}"),
    };
    builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
}

/// Accepts the one certificate whose fingerprint was pinned.
#[derive(Debug)]
struct PinnedCert {
    /// Uppercase hex without separators.
    pinned: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = fingerprint(end_entity);
        if normalize_fingerprint(&presented) == self.pinned {
            return Ok(ServerCertVerified::assertion());
        }
        let mismatch = FingerprintMismatch { presented, pinned: self.pinned.clone() };
        Err(rustls::CertificateError::Other(rustls::OtherError(Arc::new(mismatch))).into())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server presented another certificate than the pinned one.
struct FingerprintMismatch {
    presented: String,
    pinned: String,
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server certificate fingerprint {} does not match the pinned fingerprint {}",
            self.presented, self.pinned
        )
    }
}

// rustls shows certificate errors with `Debug`: make that readable too.
impl fmt::Debug for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for FingerprintMismatch {}

/// Uppercase hex digits only: `ab:CD` and `ABCD` pin the same certificate.
pub fn normalize_fingerprint(fingerprint: &str) -> String {
    fingerprint.chars().filter(|c| !matches!(c, ':' | ' ' | '\t')).map(|c| c.to_ascii_uppercase()).collect()
}
