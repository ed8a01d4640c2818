//! TLS for the server: loads a PEM certificate and key (`--tls-cert`/`--tls-key`, in [`pem`]) or
//! keeps a persistent self-signed certificate under `--data-dir` ([`self_signed`]), and prints
//! certificates' SHA-256 fingerprints ([`fingerprint`]) so that people can check what they trust.
//!
//! Everything uses rustls with the ring provider passed explicitly; nothing here depends on a
//! process-wide default provider. Imports nothing of the server but [`crate::permissions`] and
//! [`crate::shutdown`] (the daily renewal stops with the server).

pub mod error;
pub mod fingerprint;
mod lock;
pub mod pem;
pub mod renewal;
pub mod self_signed;

pub use error::TlsError;
pub use fingerprint::fingerprint;
pub use pem::{Tls, fingerprint_of_pem_file, from_pem_files};
pub use renewal::renew_if_expiring;
pub use self_signed::{self_signed, self_signed_cert_path};

/// What the tests of this folder share: a temporary directory removed when dropped.
#[cfg(test)]
pub(crate) mod testing {
    use std::fs;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::SystemTime;

    /// A fresh directory under the system temp dir, removed when dropped (even if the test fails).
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(test: &str) -> Self {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("livedash-tls-test-{test}-{}-{n}-{nanos}", std::process::id()));
            fs::create_dir_all(&path).expect("a temporary directory");
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub(crate) fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }
}
