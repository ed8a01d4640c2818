//! `livedash token create|list|revoke` as the binary runs it: the configuration read as the server
//! reads it (its store, its users file and `viewers`, its cluster), the store file changed by
//! [`crate::auth::token::admin`], and in a cluster the change put in Redis too, so that every
//! instance knows it (see [`crate::auth::token::shared`]). Returns what to print; the binary
//! prints it.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::token::admin::{self, AdminError};
use crate::auth::token::shared::SharedTokens;
use crate::auth::{Auth, LoginLimits, Users};
use crate::clock::utc_label;
use crate::config::{ADMIN_USER, Config, TokenCommand, UsersSource};
use crate::store::auth::tokens::{TokenRow, hex};

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The store, or the token asked for.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The users file.
    #[error(transparent)]
    Users(#[from] crate::auth::UsersError),
    /// `store = "none"`.
    #[error("store = \"none\": API tokens are kept in the history store")]
    NoStore,
    /// The cluster's Redis URL.
    #[error("--redis-url: {0}")]
    Redis(#[from] redis::RedisError),
}

/// What the command prints: a note for the person (standard error) and its output (standard
/// output: the token alone for `create`).
pub struct Printed {
    /// For standard error.
    pub note: Option<String>,
    /// For standard output.
    pub out: String,
}

/// The command's audit record in `<data-dir>/audit.log` (its row went into the store with the
/// change, in one transaction).
fn audit_file(config: &Config, kind: crate::audit::AuditKind, row: &TokenRow) {
    let audit = crate::audit::Audit::new(&config.data_dir, None);
    audit.record(
        crate::audit::AuditEvent::new(kind, Some(&row.user), None)
            .with("token", hex(&row.id))
            .with("name", row.name.clone())
            .with("role", row.role.clone())
            .with("by", "cli"),
    );
    audit.flush(Duration::from_secs(2));
}

fn label(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".to_owned(), utc_label)
}

/// Runs `command` with `config`.
pub async fn run(command: TokenCommand, config: &Config) -> Result<Printed, CommandError> {
    let store = config.store.as_ref().ok_or(CommandError::NoStore)?;
    let book: Option<Arc<dyn SharedTokens>> = match &config.cluster {
        Some(settings) => Some(crate::cluster::Link::new(settings, &[], Duration::from_secs(60))?.tokens()),
        None => None,
    };
    let share = async |row: TokenRow| match &book {
        Some(book) => match tokio::time::timeout(Duration::from_secs(5), book.put(row)).await {
            Ok(Ok(())) => None,
            _ => Some("the cluster's Redis did not answer: only the instances on this store know it yet".to_owned()),
        },
        None => None,
    };
    match command {
        TokenCommand::Create { user, role, expires, name, .. } => {
            let accounts = match &config.users {
                UsersSource::File(path) => Users::load(path)?,
                UsersSource::Admin(_) => Users::single(ADMIN_USER, ""),
            };
            let auth = Auth::new(accounts, LoginLimits::default()).with_viewers(config.viewers.iter().cloned());
            let (secret, row) = admin::create(&store.path, &user, auth.role_of(&user), role, &name, expires)?;
            audit_file(config, crate::audit::AuditKind::TokenCreate, &row);
            let mut note = format!(
                "token {} for {user} ({}), expires {}; shown once:",
                hex(&row.id),
                row.role,
                label(row.expires_ms)
            );
            if let Some(warning) = share(row).await {
                note = format!("{warning}\n{note}");
            }
            Ok(Printed { note: Some(note), out: secret })
        }
        TokenCommand::List { .. } => {
            let mut rows = admin::list(&store.path)?;
            if let Some(book) = &book
                && let Ok(Ok(shared)) = tokio::time::timeout(Duration::from_secs(5), book.all()).await
            {
                rows.retain(|r| !shared.iter().any(|s| s.id == r.id && s.revoked_ms.is_some()));
                let extra: Vec<TokenRow> = shared
                    .into_iter()
                    .filter(|s| s.revoked_ms.is_none() && !rows.iter().any(|r| r.id == s.id))
                    .collect();
                rows.extend(extra);
            }
            let mut out = format!(
                "{:<32}  {:<12} {:<6}  {:<20} {:<20} {:<20} name\n",
                "id", "user", "role", "created", "last used", "expires"
            );
            for t in rows {
                out.push_str(&format!(
                    "{:<32}  {:<12} {:<6}  {:<20} {:<20} {:<20} {}\n",
                    hex(&t.id),
                    t.user,
                    t.role,
                    label(Some(t.created_ms)),
                    label(t.used_ms),
                    label(t.expires_ms),
                    t.name
                ));
            }
            Ok(Printed { note: None, out: out.trim_end().to_owned() })
        }
        TokenCommand::Revoke { id, .. } => {
            let row = match (admin::revoke(&store.path, &id), &book) {
                (Ok(row), _) => row,
                // Made on another instance's store: revoked in the cluster's book.
                (Err(AdminError::NoSuchToken(_)), Some(book)) => {
                    let shared = tokio::time::timeout(Duration::from_secs(5), book.all()).await;
                    let mut found: Vec<TokenRow> = match shared {
                        Ok(Ok(rows)) => rows
                            .into_iter()
                            .filter(|r| r.revoked_ms.is_none() && hex(&r.id).starts_with(&id.to_ascii_lowercase()))
                            .collect(),
                        _ => Vec::new(),
                    };
                    match (found.pop(), found.is_empty(), id.len() >= 8) {
                        (Some(row), true, true) => row,
                        _ => return Err(AdminError::NoSuchToken(id).into()),
                    }
                }
                (Err(e), _) => return Err(e.into()),
            };
            audit_file(config, crate::audit::AuditKind::TokenRevoke, &row);
            let out = format!("revoked {} of {}", hex(&row.id), row.user);
            let note = share(TokenRow { revoked_ms: Some(crate::clock::now_ms()), ..row }).await;
            Ok(Printed { note, out })
        }
    }
}
