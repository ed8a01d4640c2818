//! Configuration: command-line flags with `LIVEDASH_*` environment fallbacks, checked before
//! anything starts. A bad value stops start-up with a message naming the flag and the variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// livedash: a self-hosted, real-time monitoring dashboard.
#[derive(Debug, Clone, Parser)]
#[command(name = "livedash", version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "LIVEDASH_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// How often the local source samples this machine (e.g. `1s`, `500ms`).
    #[arg(long, env = "LIVEDASH_INTERVAL", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,

    /// How much history each source keeps for first paint, sparklines and resume (e.g. `10m`).
    #[arg(long, env = "LIVEDASH_HISTORY", default_value = "10m", value_parser = parse_history)]
    pub history: Duration,
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The local source's interval.
    pub interval: Duration,
    /// How long history is kept.
    pub history: Duration,
    /// The password of the user `admin`; `None` asks for a generated one.
    pub admin_password: Option<String>,
}

/// The one user name of this build.
pub const ADMIN_USER: &str = "admin";
/// The environment variable holding the admin password (never a flag: flags show in `ps`).
pub const ADMIN_PASSWORD_ENV: &str = "LIVEDASH_ADMIN_PASSWORD";

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The admin password variable is set but unusable.
    #[error("{ADMIN_PASSWORD_ENV}: {0}")]
    AdminPassword(&'static str),
}

impl Config {
    /// The configuration from parsed flags and the password variable's value.
    pub fn from_cli(cli: &Cli, admin_password: Option<std::ffi::OsString>) -> Result<Self, ConfigError> {
        let admin_password = match admin_password {
            None => None,
            Some(p) => {
                let p = p.into_string().map_err(|_| ConfigError::AdminPassword("is not valid UTF-8"))?;
                if p.is_empty() {
                    return Err(ConfigError::AdminPassword("is empty; unset it to have a password generated"));
                }
                Some(p)
            }
        };
        Ok(Self { listen: cli.listen, interval: cli.interval, history: cli.history, admin_password })
    }

    /// A configuration for tests: loopback on an OS-chosen port, fast sampling, a known password.
    pub fn for_tests(password: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            interval: Duration::from_millis(200),
            history: Duration::from_secs(60),
            admin_password: Some(password.to_owned()),
        }
    }
}

fn parse_duration(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 1s, 500ms, 2m)"))?;
    if d < min || d > max {
        return Err(format!(
            "must be between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_millis(50), Duration::from_secs(3600))
}

fn parse_history(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("livedash").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_loopback_one_second_ten_minutes() {
        let cli = parse(&[]).expect("defaults parse");
        assert_eq!(cli.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(cli.interval, Duration::from_secs(1));
        assert_eq!(cli.history, Duration::from_secs(600));
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (&["--listen", "nope"][..], "--listen"),
            (&["--interval", "fast"][..], "--interval"),
            (&["--interval", "1ms"][..], "--interval"),
            (&["--history", "0s"][..], "--history"),
        ] {
            let err = parse(args).expect_err("refused").to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn empty_password_is_refused_with_the_variable_named() {
        let cli = parse(&[]).expect("defaults parse");
        let err = Config::from_cli(&cli, Some("".into())).expect_err("refused").to_string();
        assert!(err.contains(ADMIN_PASSWORD_ENV), "{err}");
        assert_eq!(Config::from_cli(&cli, Some("pw".into())).expect("ok").admin_password.as_deref(), Some("pw"));
        assert!(Config::from_cli(&cli, None).expect("ok").admin_password.is_none());
    }
}
