//! Certificates and keys from PEM files (`--tls-cert`, `--tls-key`, or the self-signed pair), made
//! into a rustls server configuration that offers HTTP/1.1 only, with the leaf's fingerprint.
//! Errors name the file and its flag, never key material.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use tokio_rustls::rustls;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

use super::error::TlsError;
use super::fingerprint::fingerprint;

const CERT_FLAG: &str = "--tls-cert";
const KEY_FLAG: &str = "--tls-key";

/// A ready TLS configuration and the SHA-256 fingerprint of its leaf certificate.
pub struct Tls {
    /// The server configuration (ALPN `http/1.1` only: the server speaks HTTP/1.1, which the
    /// WebSocket upgrade needs), ready for a `TlsAcceptor`.
    pub config: Arc<ServerConfig>,
    /// The certificate it presents, which can be replaced while it serves (a renewal).
    pub current: Arc<CurrentCert>,
    /// SHA-256 fingerprint of the leaf certificate, formatted like [`fingerprint`].
    pub fingerprint: String,
    /// The PEM file the certificate chain was read from.
    pub cert_path: PathBuf,
}

impl fmt::Debug for Tls {
    // The server config holds the private key: keep it out of debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// The TLS configuration for `--tls-cert` (PEM certificate chain, leaf first) and `--tls-key` (PEM
/// private key in PKCS#8, PKCS#1 or SEC1 form). Fails if either is missing or empty, or if the key
/// does not belong to the leaf certificate.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
    crate::permissions::warn_if_readable_by_others(key);
    load(cert, CERT_FLAG, key, KEY_FLAG)
}

/// The certificate and key a server presents, replaceable while it serves.
#[derive(Debug)]
pub struct CurrentCert(RwLock<Arc<CertifiedKey>>);

impl CurrentCert {
    /// Presents `tls`'s certificate from now on (to new connections).
    pub fn replace_with(&self, tls: &Tls) {
        let next = tls.current.0.read().clone();
        *self.0.write() = next;
    }

    /// The SHA-256 fingerprint of the leaf certificate presented now.
    pub fn fingerprint(&self) -> String {
        let current = self.0.read();
        current.cert.first().map(|leaf| fingerprint(leaf)).unwrap_or_default()
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().clone())
    }
}

/// Reads the chain and key, checks that they match, and builds the server configuration.
pub(crate) fn load(cert: &Path, cert_flag: &'static str, key: &Path, key_flag: &'static str) -> Result<Tls, TlsError> {
    let chain = read_chain(cert, cert_flag)?;
    let Some(leaf) = chain.first() else {
        return Err(TlsError::NoCertificate { flag: cert_flag, path: cert.to_path_buf() });
    };
    let fingerprint = fingerprint(leaf);
    let private_key = read_key(key, key_flag)?;

    let unusable = |error: rustls::Error| match error {
        rustls::Error::InconsistentKeys(_) => {
            TlsError::KeyMismatch { cert_flag, cert: cert.to_path_buf(), key_flag, key: key.to_path_buf() }
        }
        error => TlsError::Unusable {
            cert_flag,
            cert: cert.to_path_buf(),
            key_flag,
            key: key.to_path_buf(),
            error: Box::new(error),
        },
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing = provider.key_provider.load_private_key(private_key).map_err(unusable)?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(unusable)?;
    let current = Arc::new(CurrentCert(RwLock::new(Arc::new(certified))));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), current, fingerprint, cert_path: cert.to_path_buf() })
}

fn read_file(path: &Path, flag: &'static str) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|error| TlsError::Read { flag, path: path.to_path_buf(), error })
}

/// Every certificate in the PEM file, in order; other PEM blocks are skipped.
fn read_chain(path: &Path, flag: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_bytes = read_file(path, flag)?;
    let chain = CertificateDer::pem_slice_iter(&pem_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem { flag, path: path.to_path_buf(), reason: pem_reason(&e) })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { flag, path: path.to_path_buf() });
    }
    Ok(chain)
}

/// The first PKCS#8, PKCS#1 or SEC1 private key in the PEM file.
fn read_key(path: &Path, flag: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem_bytes = read_file(path, flag)?;
    PrivateKeyDer::from_pem_slice(&pem_bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey { flag, path: path.to_path_buf() },
        e => TlsError::Pem { flag, path: path.to_path_buf(), reason: pem_reason(&e) },
    })
}

/// A description of a PEM error that cannot leak any of the file's content.
fn pem_reason(error: &pem::Error) -> &'static str {
    match error {
        pem::Error::MissingSectionEnd { .. } => "a block has no END line",
        pem::Error::IllegalSectionStart { .. } => "malformed BEGIN line",
        pem::Error::Base64Decode(_) => "a block is not valid base64",
        pem::Error::NoItemsFound => "no PEM blocks of the expected kind",
        pem::Error::SectionTooLarge => "a block is too large",
        _ => "unreadable PEM",
    }
}

/// The [`fingerprint`] of the first certificate in the PEM file `cert`.
pub fn fingerprint_of_pem_file(cert: &Path) -> Result<String, TlsError> {
    let chain = read_chain(cert, CERT_FLAG)?;
    chain
        .first()
        .map(|leaf| fingerprint(leaf))
        .ok_or_else(|| TlsError::NoCertificate { flag: CERT_FLAG, path: cert.to_path_buf() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::self_signed::self_signed;
    use super::super::testing::TempDir;
    use super::*;

    #[test]
    fn from_pem_files_loads_the_generated_files() {
        let dir = TempDir::new("load");
        let generated = self_signed(&dir.0, &[]).unwrap();
        let key = dir.0.join("tls/key.pem");
        let loaded = from_pem_files(&generated.cert_path, &key).unwrap();
        assert_eq!(loaded.fingerprint, generated.fingerprint);
        assert_eq!(loaded.cert_path, generated.cert_path);
        assert_eq!(fingerprint_of_pem_file(&generated.cert_path).unwrap(), generated.fingerprint);
        let debug = format!("{loaded:?}");
        assert!(debug.contains(&loaded.fingerprint) && !debug.contains("PRIVATE"), "{debug}");
    }
    #[test]
    fn from_pem_files_reports_a_missing_file() {
        let dir = TempDir::new("missing");
        let generated = self_signed(&dir.0, &[]).unwrap();
        let missing = dir.0.join("nope.pem");
        let err = from_pem_files(&missing, &dir.0.join("tls/key.pem")).unwrap_err();
        assert!(matches!(err, TlsError::Read { flag: "--tls-cert", .. }), "{err}");
        assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
        assert!(err.to_string().contains("--tls-cert"), "{err}");
        let err = from_pem_files(&generated.cert_path, &missing).unwrap_err();
        assert!(matches!(err, TlsError::Read { flag: "--tls-key", .. }), "{err}");
        assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
        assert!(fingerprint_of_pem_file(&missing).is_err());
    }
    #[test]
    fn from_pem_files_reports_a_file_without_certificate_or_key() {
        let dir = TempDir::new("empty");
        let generated = self_signed(&dir.0, &[]).unwrap();
        let key = dir.0.join("tls/key.pem");
        let junk = dir.0.join("junk.pem");
        fs::write(&junk, "just some text\n").unwrap();

        let err = from_pem_files(&junk, &key).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains(&junk.display().to_string()), "{err}");
        assert!(err.to_string().contains("--tls-cert"), "{err}");
        // A key where the certificate should be.
        let err = from_pem_files(&key, &key).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");
        let err = fingerprint_of_pem_file(&junk).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate { .. }), "{err}");

        // A certificate where the key should be.
        let err = from_pem_files(&generated.cert_path, &generated.cert_path).unwrap_err();
        assert!(matches!(err, TlsError::NoKey { .. }), "{err}");
        assert!(err.to_string().contains(&generated.cert_path.display().to_string()), "{err}");
        assert!(err.to_string().contains("--tls-key"), "{err}");
    }
    #[test]
    fn from_pem_files_reports_a_key_of_another_certificate() {
        let a = TempDir::new("mismatch-a");
        let b = TempDir::new("mismatch-b");
        let cert_a = self_signed(&a.0, &[]).unwrap().cert_path;
        let key_b = b.0.join("tls/key.pem");
        self_signed(&b.0, &[]).unwrap();
        let err = from_pem_files(&cert_a, &key_b).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&cert_a.display().to_string()), "{text}");
        assert!(text.contains(&key_b.display().to_string()), "{text}");
        assert!(text.contains("--tls-cert") && text.contains("--tls-key"), "{text}");
        let key_pem = fs::read_to_string(&key_b).unwrap();
        let key_body = key_pem.lines().nth(1).unwrap();
        assert!(!text.contains(key_body), "error leaks key material: {text}");
    }
}
