//! Why a TLS configuration could not be loaded or created. Messages name the file and the flag it
//! came from, never key material.

use std::io;
use std::path::PathBuf;

use tokio_rustls::rustls;

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
