//! The login's settings: how browsers log in (`--login form|basic`, `login` in the file) and how
//! long sessions live (`--session-idle`, `--session-lifetime`, `--session-remember-idle`,
//! `--session-remember-lifetime`; `session_idle`, ... in the file, merged by
//! [`super::file::File::login`]). A bad value stops start-up, naming its flag or key.

use std::time::Duration;

use clap::Args;

use super::parse::parse_duration;
use crate::auth::LoginMode;

/// The login's flags.
#[derive(Debug, Clone, Default, Args)]
pub struct LoginArgs {
    /// How browsers log in: `form` (the login page, sessions with logout; Basic keeps working for
    /// scripts) or `basic` (the browser's own Basic dialog and no sessions, as before) [default: form].
    #[arg(long, env = "LIVEDASH_LOGIN", value_parser = parse_login)]
    pub login: Option<LoginMode>,

    /// A session unused for this long ends (e.g. `12h`) [default: 12h].
    #[arg(long, env = "LIVEDASH_SESSION_IDLE", value_parser = parse_session)]
    pub session_idle: Option<Duration>,

    /// A session ends this long after its login, used or not [default: 7d].
    #[arg(long, env = "LIVEDASH_SESSION_LIFETIME", value_parser = parse_session)]
    pub session_lifetime: Option<Duration>,

    /// The idle timeout of a session made with "remember this device" (a wall screen) [default: 30d].
    #[arg(long, env = "LIVEDASH_SESSION_REMEMBER_IDLE", value_parser = parse_session)]
    pub session_remember_idle: Option<Duration>,

    /// The lifetime of a session made with "remember this device" [default: 30d].
    #[arg(long, env = "LIVEDASH_SESSION_REMEMBER_LIFETIME", value_parser = parse_session)]
    pub session_remember_lifetime: Option<Duration>,
}

/// `form` or `basic`.
pub fn parse_login(s: &str) -> Result<LoginMode, String> {
    match s.trim() {
        "form" => Ok(LoginMode::Form),
        "basic" => Ok(LoginMode::Basic),
        other => Err(format!("{other:?} is not a login mode (form or basic)")),
    }
}

/// A session duration: 1 s to 400 days.
pub fn parse_session(s: &str) -> Result<Duration, String> {
    parse_duration(s, Duration::from_secs(1), Duration::from_secs(400 * 86_400))
}
