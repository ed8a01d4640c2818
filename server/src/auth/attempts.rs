//! Second-factor codes spend the same budgets as passwords: [`Auth::spend_attempt`] takes one
//! attempt from the budgets a password attempt by the same client for the same user would take
//! (the device cookie's own budget, else the address group's, the pair's and the user's; in a
//! cluster the shared ones too), and [`Gate::check_code`] spends one before each code is checked,
//! so that a code cannot be guessed faster than a password, and an attack on a user's codes from
//! elsewhere does not lock out the browser that proved itself with its device cookie.

use std::time::Duration;

use axum::http::HeaderMap;

use super::accounts::{Auth, short};
use super::error::AuthError;
use super::gate::Gate;
use super::throttle::Who;
use super::totp::TotpError;
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;

/// Why a code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Too many attempts: try again after the duration.
    #[error("too many attempts")]
    Throttled(Duration),
    /// Wrong, reused, for another window, or no second factor.
    #[error("the code is not right")]
    Wrong,
}

impl Auth {
    /// Takes one attempt for `user` by `client` (whose request has `headers`: its device cookie)
    /// from the password budgets; `Err` (429) once one is spent.
    pub async fn spend_attempt(&self, user: &str, headers: &HeaderMap, client: ClientIp) -> Result<(), AuthError> {
        let users = self.users();
        let device = self.devices.read(headers, user, users.version_of(user).map(short), now_ms());
        let who = device.map_or(Who::Untrusted { group: client.group, user }, Who::Device);
        if let Some(wait) = self.throttle.blocked(who) {
            return Err(self.throttled(client, user, wait));
        }
        self.throttle.check(who).map_err(|wait| self.throttled(client, user, wait))?;
        if let Some((book, _)) = &self.shared {
            let budgets = self.throttle.budgets(who);
            if let Ok(Some((spent, wait))) = book.spend(budgets.clone()).await {
                if let Some(budget) = budgets.get(spent) {
                    self.throttle.block_key(&budget.key, wait);
                }
                return Err(self.throttled(client, user, wait));
            }
        }
        Ok(())
    }
}

impl Gate {
    /// Checks `user`'s second-factor `code` (or a recovery code) sent by `client`, after taking an
    /// attempt from the password budgets ([`Auth::spend_attempt`]).
    pub async fn check_code(
        &self,
        user: &str,
        code: &str,
        headers: &HeaderMap,
        client: ClientIp,
    ) -> Result<(), CodeError> {
        match self.auth.spend_attempt(user, headers, client).await {
            Err(AuthError::Throttled(wait)) => return Err(CodeError::Throttled(wait)),
            Err(_) => return Err(CodeError::Wrong),
            Ok(()) => {}
        }
        self.totp.check(user, code, client).await.map_err(|e| match e {
            TotpError::Wrong | TotpError::NotEnrolled => CodeError::Wrong,
        })
    }
}
