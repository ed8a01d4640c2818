//! TLS for the server: loads a PEM certificate and key (`--tls-cert`/`--tls-key`) or keeps a persistent
//! self-signed certificate under `--data-dir`, and pins certificates by SHA-256 fingerprint for clients.
//!
//! Everything uses rustls with the ring provider passed explicitly; nothing here depends on a
//! process-wide default provider.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};

const CERT_FLAG: &str = "--tls-cert";
const KEY_FLAG: &str = "--tls-key";
const DATA_DIR_FLAG: &str = "--data-dir";

/// Subject alternative names every self-signed certificate carries, whatever was asked for.
const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The common name of generated certificates.
const SELF_SIGNED_CN: &str = "livedash self-signed";
/// How long a generated certificate stays valid (the longest browsers have accepted).
const VALID_DAYS: u32 = 825;
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A ready TLS configuration and the SHA-256 fingerprint of its leaf certificate.
pub struct Tls {
    /// The server configuration (ALPN `http/1.1` only: the server speaks HTTP/1.1, which the
    /// WebSocket upgrade needs), ready for a `TlsAcceptor`.
    pub config: Arc<ServerConfig>,
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

/// Why a TLS configuration could not be loaded or created. Messages name the file and the flag it
/// came from, never key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, unreadable, a directory...).
    #[error("cannot read {flag} file {path}: {error}")]
    Read {
        /// The flag the file was given with.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
    /// A file is not well-formed PEM.
    #[error("{flag} file {path} is not valid PEM: {reason}")]
    Pem {
        /// The flag the file was given with.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A certificate file holds no certificate.
    #[error("{flag} file {path} contains no certificate (expected a PEM block \"-----BEGIN CERTIFICATE-----\")")]
    NoCertificate {
        /// The flag the file was given with.
        flag: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A key file holds no private key.
    #[error(
        "{flag} file {path} contains no private key (expected a PEM PKCS#8, PKCS#1 or SEC1 private key, \
         such as \"-----BEGIN PRIVATE KEY-----\")"
    )]
    NoKey {
        /// The flag the file was given with.
        flag: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The private key does not belong to the leaf certificate.
    #[error("the private key in {key_flag} file {key} does not match the certificate in {cert_flag} file {cert}")]
    KeyMismatch {
        /// The flag the certificate was given with.
        cert_flag: &'static str,
        /// The certificate file.
        cert: PathBuf,
        /// The flag the key was given with.
        key_flag: &'static str,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the certificate or key for another reason (unsupported key type, bad DER...).
    #[error(
        "cannot use the certificate in {cert_flag} file {cert} with the private key in {key_flag} file {key}: {error}"
    )]
    Unusable {
        /// The flag the certificate was given with.
        cert_flag: &'static str,
        /// The certificate file.
        cert: PathBuf,
        /// The flag the key was given with.
        key_flag: &'static str,
        /// The key file.
        key: PathBuf,
        /// What rustls said (boxed: it is large and rarely needed).
        error: Box<rustls::Error>,
    },
    /// A name asked for in the self-signed certificate is neither an IP address nor a possible DNS name.
    #[error(
        "cannot put {name:?} in the self-signed certificate under --data-dir {data_dir}: not a DNS name or IP address"
    )]
    InvalidName {
        /// The name as given.
        name: String,
        /// The data directory.
        data_dir: PathBuf,
    },
    /// rcgen could not generate the self-signed certificate.
    #[error("cannot generate a self-signed certificate under --data-dir {data_dir}: {error}")]
    Generate {
        /// The data directory.
        data_dir: PathBuf,
        /// What rcgen said.
        error: rcgen::Error,
    },
    /// A directory or file under the data directory could not be created or written.
    #[error("cannot write --data-dir file {path}: {error}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
}

/// The TLS configuration for `--tls-cert` (PEM certificate chain, leaf first) and `--tls-key` (PEM
/// private key in PKCS#8, PKCS#1 or SEC1 form). Fails if either is missing or empty, or if the key
/// does not belong to the leaf certificate.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
    load(cert, CERT_FLAG, key, KEY_FLAG)
}

/// The persistent self-signed certificate under `data_dir/tls/`, covering `names` (DNS names or IP
/// address literals) besides `localhost`, `127.0.0.1` and `::1`.
///
/// An existing certificate is reused as long as its files load and it was made for every name in
/// `names`, so its fingerprint survives restarts; otherwise a new one (ECDSA P-256, valid from
/// yesterday for 825 days) replaces it.
pub fn self_signed(data_dir: &Path, names: &[String]) -> Result<Tls, TlsError> {
    let wanted = wanted_names(data_dir, names)?;
    let dir = tls_dir(data_dir);
    let cert_path = self_signed_cert_path(data_dir);
    let key_path = dir.join("key.pem");
    let names_path = dir.join("names.txt");

    let existing = cert_path.exists() || key_path.exists();
    if existing {
        match load(&cert_path, DATA_DIR_FLAG, &key_path, DATA_DIR_FLAG) {
            Ok(tls) => {
                let covered = read_names(&names_path);
                let missing: Vec<&str> =
                    wanted.iter().filter(|n| !covered.contains(n.as_str())).map(String::as_str).collect();
                if missing.is_empty() {
                    return Ok(tls);
                }
                tracing::warn!(
                    path = %cert_path.display(),
                    old_fingerprint = %tls.fingerprint,
                    missing = ?missing,
                    "self-signed TLS certificate does not cover every name; replacing it"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "existing self-signed TLS certificate is unusable; replacing it");
            }
        }
    }

    generate(data_dir, &dir, &wanted)?;
    let tls = load(&cert_path, DATA_DIR_FLAG, &key_path, DATA_DIR_FLAG)?;
    tracing::info!(
        path = %cert_path.display(),
        fingerprint = %tls.fingerprint,
        names = ?wanted,
        "generated a new self-signed TLS certificate"
    );
    Ok(tls)
}

/// SHA-256 of `der` as uppercase hex pairs joined by `:`, the way
/// `openssl x509 -noout -fingerprint -sha256` prints it after the `=`.
pub fn fingerprint(der: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// The [`fingerprint`] of the first certificate in the PEM file `cert`.
pub fn fingerprint_of_pem_file(cert: &Path) -> Result<String, TlsError> {
    let chain = read_chain(cert, CERT_FLAG)?;
    chain
        .first()
        .map(|leaf| fingerprint(leaf))
        .ok_or_else(|| TlsError::NoCertificate { flag: CERT_FLAG, path: cert.to_path_buf() })
}

/// Where [`self_signed`] keeps its certificate: `data_dir/tls/cert.pem`.
pub fn self_signed_cert_path(data_dir: &Path) -> PathBuf {
    tls_dir(data_dir).join("cert.pem")
}

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
fn normalize_fingerprint(fingerprint: &str) -> String {
    fingerprint.chars().filter(|c| !matches!(c, ':' | ' ' | '\t')).map(|c| c.to_ascii_uppercase()).collect()
}

fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

/// Reads the chain and key, and builds the server configuration (rustls checks that they match).
fn load(cert: &Path, cert_flag: &'static str, key: &Path, key_flag: &'static str) -> Result<Tls, TlsError> {
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
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(unusable)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), fingerprint, cert_path: cert.to_path_buf() })
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

/// One canonical spelling per name: IP addresses as `IpAddr` prints them, DNS names in lowercase.
fn canonical_name(name: &str) -> Option<String> {
    let name = name.trim();
    let unbracketed = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// The default names then `names`, canonical, without duplicates; an error for an unusable name.
fn wanted_names(data_dir: &Path, names: &[String]) -> Result<Vec<String>, TlsError> {
    let mut wanted: Vec<String> = Vec::new();
    for name in DEFAULT_NAMES.iter().copied().chain(names.iter().map(String::as_str)) {
        if name.trim().is_empty() {
            continue;
        }
        let Some(canonical) = canonical_name(name).filter(|n| n.is_ascii() && !n.contains(char::is_whitespace)) else {
            return Err(TlsError::InvalidName { name: name.to_owned(), data_dir: data_dir.to_path_buf() });
        };
        if !wanted.contains(&canonical) {
            wanted.push(canonical);
        }
    }
    Ok(wanted)
}

/// The names recorded in `names.txt`; empty when it is missing or unreadable.
fn read_names(path: &Path) -> BTreeSet<String> {
    fs::read_to_string(path).map(|text| text.lines().filter_map(canonical_name).collect()).unwrap_or_default()
}

fn san(name: &str, data_dir: &Path) -> Result<SanType, TlsError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    name.to_owned()
        .try_into()
        .map(SanType::DnsName)
        .map_err(|_| TlsError::InvalidName { name: name.to_owned(), data_dir: data_dir.to_path_buf() })
}

/// Makes a new key and certificate for `names` (canonical) and puts them and `names.txt` in `dir`.
fn generate(data_dir: &Path, dir: &Path, names: &[String]) -> Result<(), TlsError> {
    let rcgen_error = |error| TlsError::Generate { data_dir: data_dir.to_path_buf(), error };
    let mut params = CertificateParams::default();
    params.subject_alt_names = names.iter().map(|n| san(n, data_dir)).collect::<Result<_, _>>()?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, SELF_SIGNED_CN);
    params.distinguished_name = subject;
    let now = SystemTime::now();
    params.not_before = now.checked_sub(DAY).unwrap_or(now).into();
    params.not_after = now.checked_add(DAY * VALID_DAYS).unwrap_or(now).into();
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

    let key_pair = KeyPair::generate().map_err(rcgen_error)?;
    let cert = params.self_signed(&key_pair).map_err(rcgen_error)?;
    let mut names_txt = names.join("\n");
    names_txt.push('\n');

    fs::create_dir_all(dir).map_err(|error| TlsError::Write { path: dir.to_path_buf(), error })?;
    // Temporary files first; names.txt goes before the renames and comes back last, so that a
    // crash half-way leaves no names.txt and the next start generates again.
    let files = [
        (dir.join("key.pem"), key_pair.serialize_pem().into_bytes(), true),
        (dir.join("cert.pem"), cert.pem().into_bytes(), false),
        (dir.join("names.txt"), names_txt.into_bytes(), false),
    ];
    let mut written: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    for (path, contents, private) in &files {
        match write_temp(path, contents, *private) {
            Ok(temp) => written.push((temp, path)),
            Err(error) => {
                for (temp, _) in &written {
                    let _ = fs::remove_file(temp);
                }
                return Err(TlsError::Write { path: path.clone(), error });
            }
        }
    }
    let names_path = dir.join("names.txt");
    match fs::remove_file(&names_path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(TlsError::Write { path: names_path, error }),
    }
    for (temp, path) in &written {
        fs::rename(temp, path).map_err(|error| TlsError::Write { path: path.to_path_buf(), error })?;
    }
    Ok(())
}

/// Writes `contents` to a new temporary file next to `path` (mode 0600 on unix when `private`),
/// flushed to disk, and returns its path.
fn write_temp(path: &Path, contents: &[u8], private: bool) -> io::Result<PathBuf> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    match result {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    /// A fresh directory under the system temp dir, removed when dropped (even if the test fails).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> Self {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("livedash-tls-test-{test}-{}-{n}-{nanos}", std::process::id()));
            fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn fingerprint_is_uppercase_colon_separated_sha256() {
        let expected = "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
                        B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD";
        assert_eq!(fingerprint(b"abc"), expected);
        // SHA-256 of the empty input.
        assert_eq!(
            fingerprint(b""),
            "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        );
        assert_eq!(normalize_fingerprint("ba:78:16:bf"), "BA7816BF");
    }

    #[test]
    fn self_signed_creates_files_and_reuses_them() {
        let dir = TempDir::new("reuse");
        let data_dir = dir.0.join("data");
        let first = self_signed(&data_dir, &names(&["dash.example", "192.0.2.7"])).unwrap();
        assert_eq!(first.cert_path, data_dir.join("tls").join("cert.pem"));
        assert_eq!(self_signed_cert_path(&data_dir), first.cert_path);
        assert!(first.cert_path.is_file());
        assert!(data_dir.join("tls/key.pem").is_file());
        let recorded = fs::read_to_string(data_dir.join("tls/names.txt")).unwrap();
        for name in ["localhost", "127.0.0.1", "::1", "dash.example", "192.0.2.7"] {
            assert!(recorded.lines().any(|l| l == name), "{name} missing from names.txt: {recorded}");
        }
        assert_eq!(first.config.alpn_protocols, vec![b"http/1.1".to_vec()]);

        // Same names, a subset, or other spellings of the same names: the same certificate.
        let second = self_signed(&data_dir, &names(&["dash.example", "192.0.2.7"])).unwrap();
        assert_eq!(second.fingerprint, first.fingerprint);
        let third = self_signed(&data_dir, &names(&["DASH.example", "localhost", "[::1]"])).unwrap();
        assert_eq!(third.fingerprint, first.fingerprint);
        let none = self_signed(&data_dir, &[]).unwrap();
        assert_eq!(none.fingerprint, first.fingerprint);
        // No temporary files left behind.
        let leftovers: Vec<_> = fs::read_dir(data_dir.join("tls"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn self_signed_regenerates_for_a_new_name() {
        let dir = TempDir::new("newname");
        let first = self_signed(&dir.0, &names(&["a.example"])).unwrap();
        let second = self_signed(&dir.0, &names(&["a.example", "10.1.2.3"])).unwrap();
        assert_ne!(second.fingerprint, first.fingerprint);
        let recorded = fs::read_to_string(dir.0.join("tls/names.txt")).unwrap();
        assert!(recorded.lines().any(|l| l == "10.1.2.3"), "{recorded}");
        assert!(recorded.lines().any(|l| l == "a.example"), "{recorded}");
        // The new certificate is kept from then on.
        let third = self_signed(&dir.0, &names(&["10.1.2.3"])).unwrap();
        assert_eq!(third.fingerprint, second.fingerprint);
    }

    #[test]
    fn self_signed_regenerates_without_names_txt_or_with_broken_files() {
        let dir = TempDir::new("broken");
        let first = self_signed(&dir.0, &[]).unwrap();
        fs::remove_file(dir.0.join("tls/names.txt")).unwrap();
        let second = self_signed(&dir.0, &[]).unwrap();
        assert_ne!(second.fingerprint, first.fingerprint);
        fs::write(dir.0.join("tls/key.pem"), "not a key\n").unwrap();
        let third = self_signed(&dir.0, &[]).unwrap();
        assert_ne!(third.fingerprint, second.fingerprint);
        assert_eq!(
            from_pem_files(&third.cert_path, &dir.0.join("tls/key.pem")).unwrap().fingerprint,
            third.fingerprint
        );
    }

    #[test]
    fn self_signed_refuses_a_name_that_cannot_be_in_a_certificate() {
        let dir = TempDir::new("badname");
        let err = self_signed(&dir.0, &names(&["bad name.example"])).unwrap_err();
        assert!(matches!(err, TlsError::InvalidName { .. }), "{err}");
        assert!(err.to_string().contains("bad name.example"), "{err}");
        assert!(err.to_string().contains("--data-dir"), "{err}");
        let err = self_signed(&dir.0, &names(&["héllo.example"])).unwrap_err();
        assert!(matches!(err, TlsError::InvalidName { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("mode");
        self_signed(&dir.0, &[]).unwrap();
        let mode = fs::metadata(dir.0.join("tls/key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        // Still private after a regeneration replaced it.
        self_signed(&dir.0, &names(&["other.example"])).unwrap();
        let mode = fs::metadata(dir.0.join("tls/key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

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

    /// Accepts TLS connections on `listener` forever, echoing what it reads back with a prefix.
    fn serve(listener: TcpListener, tls: &Tls) {
        let acceptor = TlsAcceptor::from(tls.config.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(tcp).await else { return };
                    let mut buf = [0_u8; 4];
                    if stream.read_exact(&mut buf).await.is_ok() {
                        let _ = stream.write_all(b"echo:").await;
                        let _ = stream.write_all(&buf).await;
                        let _ = stream.shutdown().await;
                    }
                });
            }
        });
    }

    async fn exchange(addr: std::net::SocketAddr, pinned: &str) -> io::Result<Vec<u8>> {
        let connector = TlsConnector::from(Arc::new(pinned_client_config(pinned)));
        let tcp = TcpStream::connect(addr).await?;
        let server_name = ServerName::try_from("localhost").map_err(io::Error::other)?;
        let mut stream = connector.connect(server_name, tcp).await?;
        stream.write_all(b"ping").await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        Ok(reply)
    }

    #[tokio::test]
    async fn pinned_client_talks_to_the_self_signed_server() {
        let dir = TempDir::new("handshake");
        let tls = self_signed(&dir.0, &[]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        serve(listener, &tls);

        assert_eq!(exchange(addr, &tls.fingerprint).await.unwrap(), b"echo:ping");
        // Case and colons do not matter.
        let relaxed = tls.fingerprint.replace(':', "").to_ascii_lowercase();
        assert_eq!(exchange(addr, &relaxed).await.unwrap(), b"echo:ping");
    }

    #[tokio::test]
    async fn pinned_client_refuses_another_certificate() {
        let dir = TempDir::new("refuse");
        let other = TempDir::new("refuse-other");
        let tls = self_signed(&dir.0, &[]).unwrap();
        let other_fingerprint = self_signed(&other.0, &[]).unwrap().fingerprint;
        assert_ne!(other_fingerprint, tls.fingerprint);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        serve(listener, &tls);

        let err = exchange(addr, &other_fingerprint).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("does not match the pinned fingerprint"), "{text}");
        assert!(text.contains(&tls.fingerprint), "{text}");
        let err = exchange(addr, "").await.unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        // The server still serves the right client afterwards.
        assert_eq!(exchange(addr, &tls.fingerprint).await.unwrap(), b"echo:ping");
    }
}
