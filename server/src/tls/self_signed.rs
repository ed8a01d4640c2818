//! The persistent self-signed certificate under `--data-dir`/tls: made with rcgen (ECDSA P-256) for
//! the names asked for besides `localhost`, `127.0.0.1` and `::1`, reused across restarts so that
//! its fingerprint stays the one people checked, and replaced when it no longer covers every name,
//! its files are broken, or it expires within [`RENEW_BEFORE`] (at start-up, and while serving by
//! [`renew_if_expiring`]). Files are written whole (temporary file, then rename), and read,
//! written and renamed under one lock ([`super::lock`]); the key is 0600, and a key file others
//! can read is reported.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType};

use super::error::TlsError;
use super::pem::{Tls, load};

pub(super) const DATA_DIR_FLAG: &str = "--data-dir";
/// Subject alternative names every self-signed certificate carries, whatever was asked for.
const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The common name of generated certificates.
const SELF_SIGNED_CN: &str = "livedash self-signed";
/// How long a generated certificate stays valid (the longest browsers have accepted).
pub(super) const VALID_DAYS: u32 = 825;
pub(super) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The persistent self-signed certificate under `data_dir/tls/`, covering `names` (DNS names or IP
/// address literals) besides `localhost`, `127.0.0.1` and `::1`.
///
/// An existing certificate is reused as long as its files load and it was made for every name in
/// `names`, so its fingerprint survives restarts; otherwise a new one (ECDSA P-256, valid from
/// yesterday for 825 days) replaces it.
pub fn self_signed(data_dir: &Path, names: &[String]) -> Result<Tls, TlsError> {
    let wanted = wanted_names(data_dir, names)?;
    let dir = tls_dir(data_dir);
    super::lock::locked(&dir, || reuse_or_make(data_dir, &dir, &wanted))
}

/// [`self_signed`] under the lock of `dir`.
fn reuse_or_make(data_dir: &Path, dir: &Path, wanted: &[String]) -> Result<Tls, TlsError> {
    let dir = dir.to_path_buf();
    let cert_path = self_signed_cert_path(data_dir);
    let key_path = dir.join("key.pem");
    let names_path = dir.join("names.txt");

    let existing = cert_path.exists() || key_path.exists();
    if existing {
        match load(&cert_path, DATA_DIR_FLAG, &key_path, DATA_DIR_FLAG) {
            Ok(tls) => {
                crate::permissions::warn_if_readable_by_others(&key_path);
                let covered = read_names(&names_path);
                let missing: Vec<&str> =
                    wanted.iter().filter(|n| !covered.contains(n.as_str())).map(String::as_str).collect();
                let expiring = expires_soon(&dir);
                if missing.is_empty() && !expiring {
                    return Ok(tls);
                }
                tracing::warn!(
                    path = %cert_path.display(),
                    old_fingerprint = %tls.fingerprint,
                    missing = ?missing,
                    expiring,
                    "self-signed TLS certificate does not cover every name or expires soon; replacing it"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "existing self-signed TLS certificate is unusable; replacing it");
            }
        }
    }

    write_pair(data_dir, &dir, wanted)?;
    let tls = load(&cert_path, DATA_DIR_FLAG, &key_path, DATA_DIR_FLAG)?;
    tracing::info!(
        path = %cert_path.display(),
        fingerprint = %tls.fingerprint,
        names = ?wanted,
        "generated a new self-signed TLS certificate"
    );
    Ok(tls)
}

/// A certificate that expires within this is replaced.
pub const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// When the self-signed certificate in `dir` expires: as recorded at its making, or for one made
/// before that was recorded, [`VALID_DAYS`] after its file was written.
pub(super) fn expires_at(dir: &Path) -> Option<SystemTime> {
    let recorded = fs::read_to_string(dir.join("expires.txt")).ok().and_then(|t| t.trim().parse::<u64>().ok());
    match recorded {
        Some(secs) => Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
        None => fs::metadata(dir.join("cert.pem")).and_then(|m| m.modified()).ok().map(|t| t + DAY * VALID_DAYS),
    }
}

/// Whether the certificate in `dir` expires within [`RENEW_BEFORE`] (or when is unknown).
pub(super) fn expires_soon(dir: &Path) -> bool {
    expires_at(dir).is_none_or(|at| at.duration_since(SystemTime::now()).unwrap_or_default() < RENEW_BEFORE)
}

/// Where [`self_signed`] keeps its certificate: `data_dir/tls/cert.pem`.
pub fn self_signed_cert_path(data_dir: &Path) -> PathBuf {
    tls_dir(data_dir).join("cert.pem")
}

pub(super) fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
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
pub(super) fn wanted_names(data_dir: &Path, names: &[String]) -> Result<Vec<String>, TlsError> {
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

/// Makes a new key and certificate for `names` (canonical) and puts them and `names.txt` in `dir`,
/// under the lock of `dir` (see [`super::lock`]).
#[cfg(test)]
pub(super) fn generate(data_dir: &Path, dir: &Path, names: &[String]) -> Result<(), TlsError> {
    super::lock::locked(dir, || write_pair(data_dir, dir, names))
}

/// [`generate`] for a caller that holds the lock.
pub(super) fn write_pair(data_dir: &Path, dir: &Path, names: &[String]) -> Result<(), TlsError> {
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
    let not_after = now.checked_add(DAY * VALID_DAYS).unwrap_or(now);
    let expires_txt = not_after.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()).to_string();

    fs::create_dir_all(dir).map_err(|error| TlsError::Write { path: dir.to_path_buf(), error })?;
    // Temporary files first; names.txt goes before the renames and comes back last, so that a
    // crash half-way leaves no names.txt and the next start generates again.
    let files = [
        (dir.join("key.pem"), key_pair.serialize_pem().into_bytes(), true),
        (dir.join("cert.pem"), cert.pem().into_bytes(), false),
        (dir.join("expires.txt"), expires_txt.into_bytes(), false),
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
    use super::super::pem::from_pem_files;
    use super::super::testing::{TempDir, names};
    use super::*;

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
}
