//! Renewal of the self-signed certificate before it expires: at start-up (see
//! [`super::self_signed`]) and, while serving, by [`renew_if_expiring`] once a day, the running
//! server then presenting the new certificate. The old and new fingerprints are logged. The check,
//! the writing and the reading back hold the directory's lock ([`super::lock`]): another process
//! on the same data directory renewing at once never leaves a key of another certificate.

use std::path::Path;

use super::error::TlsError;
use super::pem::{CurrentCert, load};
use super::self_signed::{DATA_DIR_FLAG, expires_soon, self_signed_cert_path, tls_dir, wanted_names, write_pair};

/// For a server presenting the self-signed certificate `current`: when that certificate expires
/// within [`RENEW_BEFORE`], makes a new one and presents it from now on. Returns the new
/// fingerprint when it did (call daily).
pub fn renew_if_expiring(data_dir: &Path, names: &[String], current: &CurrentCert) -> Result<Option<String>, TlsError> {
    let dir = tls_dir(data_dir);
    let wanted = wanted_names(data_dir, names)?;
    let renewed = super::lock::locked(&dir, || {
        if !expires_soon(&dir) {
            return Ok(None);
        }
        write_pair(data_dir, &dir, &wanted)?;
        load(&self_signed_cert_path(data_dir), DATA_DIR_FLAG, &dir.join("key.pem"), DATA_DIR_FLAG).map(Some)
    })?;
    let Some(renewed) = renewed else { return Ok(None) };
    let old = current.fingerprint();
    current.replace_with(&renewed);
    tracing::warn!(old_fingerprint = %old, new_fingerprint = %renewed.fingerprint, "renewed the self-signed TLS certificate before it expired: check and trust the new fingerprint");
    Ok(Some(renewed.fingerprint))
}

/// Renews the self-signed certificate before it expires, checked once a day.
pub fn spawn_daily(
    data_dir: std::path::PathBuf,
    names: Vec<String>,
    current: std::sync::Arc<CurrentCert>,
    mut shutdown: crate::shutdown::Shutdown,
) {
    tokio::spawn(async move {
        let day = std::time::Duration::from_secs(24 * 3600);
        let mut daily = tokio::time::interval_at(tokio::time::Instant::now() + day, day);
        loop {
            tokio::select! {
                _ = daily.tick() => {
                    if let Err(e) = renew_if_expiring(&data_dir, &names, &current) {
                        tracing::error!(error = %e, "cannot renew the self-signed TLS certificate");
                    }
                }
                () = shutdown.stopped() => break,
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fs;
    use std::time::SystemTime;

    use super::super::self_signed::{DAY, expires_at, generate, self_signed};
    use super::super::testing::TempDir;
    use super::*;

    fn expire_in(dir: &Path, days: u64) {
        let at = SystemTime::now() + DAY * u32::try_from(days).unwrap();
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        fs::write(dir.join("tls/expires.txt"), secs.to_string()).unwrap();
    }

    #[test]
    fn a_certificate_that_expires_soon_is_renewed_at_start_and_while_serving() {
        let dir = TempDir::new("renew");
        let first = self_signed(&dir.0, &[]).unwrap();
        expire_in(&dir.0, 100);
        assert_eq!(self_signed(&dir.0, &[]).unwrap().fingerprint, first.fingerprint, "far from expiry: kept");
        assert_eq!(renew_if_expiring(&dir.0, &[], &first.current).unwrap(), None);
        expire_in(&dir.0, 10);
        let renewed = self_signed(&dir.0, &[]).unwrap();
        assert_ne!(renewed.fingerprint, first.fingerprint, "renewed at start");
        // While serving: the running server presents the new certificate from then on.
        expire_in(&dir.0, 10);
        let new = renew_if_expiring(&dir.0, &[], &renewed.current).unwrap().expect("renewed");
        assert_ne!(new, renewed.fingerprint);
        assert_eq!(renewed.current.fingerprint(), new);
        assert!(expires_at(&dir.0.join("tls")).is_some_and(|at| at > SystemTime::now() + DAY * 800));
    }

    #[test]
    fn two_renewals_racing_never_leave_a_key_of_another_certificate() {
        let dir = TempDir::new("race");
        let tls = tls_dir(&dir.0);
        self_signed(&dir.0, &[]).unwrap();
        let names = wanted_names(&dir.0, &[]).unwrap();
        let mut failed = 0;
        for round in 0..12 {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..3 {
                            // A renewal may fail (the other holds the files); it must never mix them.
                            let _ = generate(&dir.0, &tls, &names);
                        }
                    });
                }
            });
            if let Err(e) = load(&self_signed_cert_path(&dir.0), DATA_DIR_FLAG, &tls.join("key.pem"), DATA_DIR_FLAG) {
                failed += 1;
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("round {round}: {e}");
                }
            }
        }
        assert_eq!(failed, 0, "rounds whose key and certificate did not load as a pair");
    }
}
