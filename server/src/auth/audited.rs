//! Refused credentials in the audit: a wrong user name or password (`login_failed`) and a
//! throttled attempt (`throttled`), recorded by [`Auth::check_basic`] wherever it is called (the
//! authentication layer, the WebSocket handshake); the layer records an unknown, expired or
//! revoked API token (as Bearer or as a Basic password) and a password alone for a user with a
//! second factor the same way. The login form records its own.

use super::Auth;
use super::error::AuthError;
use crate::audit::{Audit, AuditEvent, AuditKind};
use crate::http::client_ip::ClientIp;

impl Auth {
    /// Records refused Basic credentials in `audit` from now on.
    pub fn set_audit(&self, audit: Audit) {
        if self.audit.set(audit).is_err() {
            tracing::warn!("the accounts' audit was set twice; the first one is kept");
        }
    }

    /// Records `error`, the refusal of Basic credentials for `user` (when they could be read) from
    /// `client`, when it is a wrong password or a throttle; returns it.
    pub(super) fn audit_basic(&self, user: Option<&str>, client: ClientIp, error: AuthError) -> AuthError {
        self.audit_refusal(("basic", None), user, client, error)
    }

    /// Records `error`, the refusal of credentials presented `via` (`basic`, `token`) for `user`
    /// from `client`, with `reason` when there is more to say than a wrong secret, when it is a
    /// refusal or a throttle; returns it.
    pub(super) fn audit_refusal(
        &self,
        (via, reason): (&'static str, Option<&'static str>),
        user: Option<&str>,
        client: ClientIp,
        error: AuthError,
    ) -> AuthError {
        let Some(audit) = self.audit.get() else { return error };
        let event = match &error {
            AuthError::Invalid => AuditEvent::new(AuditKind::LoginFailed, user, Some(client.addr)),
            AuthError::Throttled(wait) => AuditEvent::new(AuditKind::Throttled, user, Some(client.addr))
                .with("retry_after_s", wait.as_secs_f64().ceil()),
            _ => return error,
        };
        let event = event.with("via", via);
        audit.record(match reason {
            Some(reason) => event.with("reason", reason),
            None => event,
        });
        error
    }
}
