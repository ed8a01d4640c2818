//! [`AuditKind`]: what an audit record says happened, and its word in the log and the store.

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
    /// A test notification sent through a channel.
    NotifyTest,
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
            Self::NotifyTest => "notify_test",
            Self::RoleRefused => "role_refused",
            Self::PasswordChanged => "password_changed",
        }
    }
}

impl AuditKind {
    /// Every kind, in the order the audit view offers them.
    pub const ALL: [Self; 17] = [
        Self::Login,
        Self::LoginFailed,
        Self::Throttled,
        Self::Logout,
        Self::LogoutEverywhere,
        Self::Revoke,
        Self::TokenUse,
        Self::TokenCreate,
        Self::TokenRevoke,
        Self::TotpEnrol,
        Self::TotpRemove,
        Self::RecoveryUsed,
        Self::Silence,
        Self::Ack,
        Self::NotifyTest,
        Self::RoleRefused,
        Self::PasswordChanged,
    ];

    /// The kind whose word is `word`.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// Whether anyone, logged in or not, can make it happen as often as they like (a guesser, a
    /// viewer pressing a button): bounded per address by the flood guard.
    pub fn from_strangers(self) -> bool {
        matches!(self, Self::LoginFailed | Self::Throttled | Self::RoleRefused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_word_read_back() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        let words: std::collections::BTreeSet<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(words.len(), AuditKind::ALL.len());
        assert_eq!(AuditKind::parse("Login"), None);
    }
}
