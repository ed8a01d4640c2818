//! The cluster's settings: the Redis URL (kept out of logs: it may hold a password), the shared
//! secret read from its file, the key prefix and the lease. Without `redis_url` there is no
//! cluster and none of the others may be given.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cli::ServeArgs;
use super::error::ConfigError;
use super::file::File;
pub use super::parse::{RedisUrl, parse_lease, parse_prefix, parse_redis_url};

/// The key prefix unless told otherwise.
pub const DEFAULT_PREFIX: &str = "livedash";
/// The lease unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(3);
/// The shortest shared secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// The cluster's settings, validated.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// Where Redis is.
    pub url: RedisUrl,
    /// The shared secret (from `cluster_key_file`).
    pub secret: Secret,
    /// What every key starts with.
    pub prefix: String,
    /// The lease of a source's fetching instance.
    pub lease: Duration,
}

/// The shared secret; its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// The shared secret in `path`: its content without surrounding whitespace, at least
/// [`MIN_SECRET_LEN`] bytes. `what` names the flag or key it came from.
fn read_secret(path: &Path, what: &str) -> Result<Secret, ConfigError> {
    let bad = |message: String| ConfigError::Cluster(format!("{what} {}: {message}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let secret = bytes.trim_ascii().to_vec();
    if secret.len() < MIN_SECRET_LEN {
        return Err(bad(format!(
            "holds {} bytes, at least {MIN_SECRET_LEN} are needed (make one with `head -c 32 /dev/urandom | base64 > {}`)",
            secret.len(),
            path.display()
        )));
    }
    crate::permissions::warn_if_readable_by_others(path);
    Ok(Secret(secret))
}

/// Whether `url`, as the flags' parser gave it, came from `LIVEDASH_REDIS_URL` (the parser takes
/// the environment when no flag is given, and a flag over it).
fn from_environment(url: &RedisUrl) -> bool {
    std::env::var(REDIS_URL_ENV).ok().and_then(|e| parse_redis_url(&e).ok()).is_some_and(|e| e.0 == url.0)
}

/// The environment variable the Redis URL (and its password) may come from.
pub const REDIS_URL_ENV: &str = "LIVEDASH_REDIS_URL";

/// The cluster's settings from flags (over) the file; `None` without `redis_url`. A cluster needs
/// accounts that are the same on every instance: a users file or the admin password variable
/// (`admin_password`: whether it is set).
pub fn settings(args: &ServeArgs, file: &File, admin_password: bool) -> Result<Option<ClusterSettings>, ConfigError> {
    let v = &file.values;
    if let Some(url) = &args.redis_url
        && url.has_password()
        && !from_environment(url)
    {
        return Err(ConfigError::Cluster(format!(
            "--redis-url {} holds a password, which every local user can read in the process list: give the \
             URL in the environment (LIVEDASH_REDIS_URL) or as redis_url in the config file instead",
            url.redacted()
        )));
    }
    let url = file.pick(args.redis_url.clone(), "redis_url", v.redis_url.as_ref(), parse_redis_url)?;
    let key_file = file.pick(args.cluster_key_file.clone(), "cluster_key_file", v.cluster_key_file.as_ref(), |s| {
        Ok(PathBuf::from(s))
    })?;
    let prefix = file.pick(args.redis_prefix.clone(), "redis_prefix", v.redis_prefix.as_ref(), parse_prefix)?;
    let lease = file.pick(args.redis_lease, "redis_lease", v.redis_lease.as_ref(), parse_lease)?;
    let Some(url) = url else {
        if key_file.is_some() || prefix.is_some() || lease.is_some() {
            return Err(ConfigError::Cluster(
                "--cluster-key-file, --redis-prefix and --redis-lease need --redis-url".to_owned(),
            ));
        }
        return Ok(None);
    };
    let Some(key_file) = key_file else {
        return Err(ConfigError::Cluster(
            "--redis-url needs --cluster-key-file: the secret every instance shares (at least 32 characters)"
                .to_owned(),
        ));
    };
    if args.users_file.is_none() && !admin_password {
        return Err(ConfigError::Cluster(
            "--redis-url: every instance needs the same accounts: give them the same --users-file, or the same \
             LIVEDASH_ADMIN_PASSWORD (a generated password would differ on each)"
                .to_owned(),
        ));
    }
    let what = if args.cluster_key_file.is_some() { "--cluster-key-file" } else { "cluster_key_file" };
    Ok(Some(ClusterSettings {
        url,
        secret: read_secret(&key_file, what)?,
        prefix: prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
        lease: lease.unwrap_or(DEFAULT_LEASE),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_are_checked_and_their_passwords_kept_out_of_sight() {
        let url = parse_redis_url("redis://:s3cret@10.0.0.5:6380/2").expect("valid");
        assert_eq!(url.redacted(), "redis://…@10.0.0.5:6380/2");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(parse_redis_url("redis://127.0.0.1").expect("valid").redacted(), "redis://127.0.0.1");
        for bad in ["", "127.0.0.1:6379", "http://x", "redis://"] {
            assert!(parse_redis_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_and_leases_within_bounds() {
        assert!(parse_prefix("livedash-prod.1").is_ok());
        for bad in ["", "a b", "a:b", &"x".repeat(65)] {
            assert!(parse_prefix(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_lease("1s"), Ok(Duration::from_secs(1)));
        assert!(parse_lease("100ms").is_err() && parse_lease("2m").is_err());
    }

    #[test]
    fn a_short_or_missing_secret_names_its_file() {
        let dir = std::env::temp_dir().join(format!("livedash-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let short = dir.join("short.key");
        std::fs::write(&short, "too short\n").expect("write");
        let e = read_secret(&short, "--cluster-key-file").expect_err("short").to_string();
        assert!(e.contains("--cluster-key-file") && e.contains("short.key") && e.contains("at least 32"), "{e}");
        let e = read_secret(&dir.join("absent.key"), "cluster_key_file").expect_err("absent").to_string();
        assert!(e.contains("cluster_key_file") && e.contains("cannot read"), "{e}");
        let good = dir.join("good.key");
        std::fs::write(&good, format!("  {}\n", "k".repeat(40))).expect("write");
        assert_eq!(read_secret(&good, "x").expect("good").0, b"k".repeat(40));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod merge_tests {
    use clap::Parser;

    use super::super::{Cli, Config, ConfigError};

    fn from(args: &[&str], password: Option<&str>) -> Result<Config, ConfigError> {
        let cli = Cli::try_parse_from(std::iter::once("livedash").chain(args.iter().copied())).expect("parses");
        Config::from_args(&cli.serve, password.map(Into::into))
    }

    #[test]
    fn a_cluster_needs_its_secret_and_the_same_accounts_everywhere() {
        let dir = std::env::temp_dir().join(format!("livedash-cluster-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let key = dir.join("cluster.key");
        std::fs::write(&key, "k".repeat(40)).expect("write");
        let key = key.to_str().expect("UTF-8");
        let url = ["--redis-url", "redis://127.0.0.1:6379"];
        assert!(from(&[], None).expect("alone").cluster.is_none());
        let e = from(&url, Some("pw")).expect_err("no secret").to_string();
        assert!(e.contains("--cluster-key-file"), "{e}");
        let e = from(&[&url[..], &["--cluster-key-file", key]].concat(), None).expect_err("generated").to_string();
        assert!(e.contains("LIVEDASH_ADMIN_PASSWORD") && e.contains("--users-file"), "{e}");
        let c = from(&[&url[..], &["--cluster-key-file", key, "--redis-lease", "1s"]].concat(), Some("pw"))
            .expect("valid")
            .cluster
            .expect("a cluster");
        assert_eq!((c.prefix.as_str(), c.lease), ("livedash", std::time::Duration::from_secs(1)));
        let e = from(&["--redis-prefix", "x"], Some("pw")).expect_err("no url").to_string();
        assert!(e.contains("need --redis-url"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
