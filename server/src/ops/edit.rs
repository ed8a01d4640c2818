//! Edits of a users file's text, line by line: add an account, replace one's hash, remove one. Every
//! other line (comments, blank lines, the order, the line endings) stays as it was, and the result
//! is parsed with the server's own parser ([`Users::parse`]) before it is returned, so that a file
//! the server would refuse is never written. Names follow the parser's rules, plus what an edit
//! needs: no `:` (it ends the name) and no leading `#` (a comment).

use std::path::Path;

use crate::auth::users::check_name;
use crate::auth::{Role, Users, UsersError};

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The name is not a valid user name.
    #[error("user name {name:?}: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// `add` of a name the file has.
    #[error("user {0} exists already in {1}; change the password with `livedash users passwd {0}`")]
    Exists(String, String),
    /// `passwd` or `remove` of a name the file lacks.
    #[error("no user {0} in {1}")]
    Missing(String, String),
    /// `remove` of the last admin (nobody could administer the dashboard).
    #[error("{0} is the last admin in {1}; add another admin first")]
    LastAdmin(String, String),
    /// The file as it is, or as it would be, is refused by the server's parser.
    #[error(transparent)]
    Invalid(#[from] UsersError),
}

/// The text after adding `name` with `hash` (and `role` as a third field when given).
pub fn add(text: &str, path: &Path, name: &str, hash: &str, role: Option<Role>) -> Result<String, EditError> {
    valid(name)?;
    if Users::parse(text, path)?.role_of(name).is_some() {
        return Err(EditError::Exists(name.to_owned(), path.display().to_string()));
    }
    let mut out = text.to_owned();
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(newline);
    }
    out.push_str(name);
    out.push(':');
    out.push_str(hash);
    if let Some(role) = role {
        out.push(':');
        out.push_str(role.as_str());
    }
    out.push_str(newline);
    Users::parse(&out, path)?;
    Ok(out)
}

/// The text with `name`'s hash replaced by `hash` (its role field kept).
pub fn passwd(text: &str, path: &Path, name: &str, hash: &str) -> Result<String, EditError> {
    let mut found = false;
    let out = map_lines(text, |line, ending| {
        if account_name(line) != Some(name) {
            return Some(format!("{line}{ending}"));
        }
        found = true;
        let rest = line.split_once(':').map_or("", |(_, rest)| rest).trim_end();
        let role = rest.split_once(':').map(|(_, role)| role);
        Some(match role {
            Some(role) => format!("{name}:{hash}:{role}{ending}"),
            None => format!("{name}:{hash}{ending}"),
        })
    });
    if !found {
        return Err(EditError::Missing(name.to_owned(), path.display().to_string()));
    }
    Users::parse(&out, path)?;
    Ok(out)
}

/// The text without `name`'s line; refused when it is the last admin.
pub fn remove(text: &str, path: &Path, name: &str) -> Result<String, EditError> {
    let before = Users::parse(text, path)?;
    if before.role_of(name).is_none() {
        return Err(EditError::Missing(name.to_owned(), path.display().to_string()));
    }
    let out = map_lines(text, |line, ending| (account_name(line) != Some(name)).then(|| format!("{line}{ending}")));
    let after = Users::parse(&out, path)?;
    if before.role_of(name) == Some(Role::Admin) && admins(&after) == 0 {
        return Err(EditError::LastAdmin(name.to_owned(), path.display().to_string()));
    }
    Ok(out)
}

/// How many admins `users` has.
pub fn admins(users: &Users) -> usize {
    users.names().filter(|n| users.role_of(n) == Some(Role::Admin)).count()
}

/// Whether `name` can be written as an account's name.
fn valid(name: &str) -> Result<(), EditError> {
    let bad = |reason| Err(EditError::BadName { name: name.to_owned(), reason });
    if name.contains(':') {
        return bad("contains ':', which ends the name in the users file");
    }
    if name.starts_with('#') {
        return bad("starts with '#', which makes the line a comment");
    }
    check_name(name).or_else(bad)
}

/// The account name of a line, as the parser reads it (`None` for a comment or a blank line).
fn account_name(line: &str) -> Option<&str> {
    let content = line.trim_start();
    if content.is_empty() || content.starts_with('#') {
        return None;
    }
    line.split_once(':').map(|(name, _)| name)
}

/// Each line of `text` (without its ending, the ending apart) through `f`: its replacement with
/// an ending, or `None` to drop it.
fn map_lines(text: &str, mut f: impl FnMut(&str, &str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 128);
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let ending = &raw[line.len()..];
        if let Some(new) = f(line, ending) {
            out.push_str(&new);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hash(pw: &str) -> String {
        crate::auth::password::hash_password(pw)
    }

    #[test]
    fn edits_keep_the_other_lines_and_their_endings() {
        let path = Path::new("users");
        let (a, b) = (hash("a"), hash("b"));
        let text = format!("# the team\r\nalice:{a}\r\n\r\n# wall\r\nbob:{b}:viewer\r\n");
        let c0 = hash("c0");
        let added = add(&text, path, "carol", &c0, None).unwrap();
        assert!(added.starts_with(&text), "{added}");
        assert!(added.ends_with(&format!("carol:{c0}\r\n")));
        let c = hash("c");
        let changed = passwd(&added, path, "bob", &c).unwrap();
        assert!(changed.contains(&format!("\r\nbob:{c}:viewer\r\n")), "{changed}");
        assert!(changed.contains(&format!("alice:{a}\r\n")) && changed.starts_with("# the team\r\n"));
        let removed = remove(&changed, path, "bob").unwrap();
        assert!(!removed.contains("bob:"), "{removed}");
        assert!(removed.contains("# wall\r\n") && removed.contains("carol:"));
    }

    #[test]
    fn refusals_name_the_reason() {
        let path = Path::new("/etc/livedash/users");
        let text = format!("alice:{}\nwall:{}:viewer", hash("a"), hash("w"));
        let err = |r: Result<String, EditError>| r.unwrap_err().to_string();
        assert!(err(add(&text, path, "alice", &hash("x"), None)).contains("users passwd alice"));
        assert!(err(add(&text, path, "a:b", &hash("x"), None)).contains("':'"));
        assert!(err(add(&text, path, "#x", &hash("x"), None)).contains("comment"));
        assert!(err(add(&text, path, "a b", &hash("x"), None)).contains("whitespace"));
        assert!(err(add(&text, path, "", &hash("x"), None)).contains("empty"));
        assert!(err(passwd(&text, path, "carol", &hash("x"))).contains("no user carol in /etc/livedash/users"));
        assert!(err(remove(&text, path, "alice")).contains("last admin"));
        // A file without a final newline gets one before the new line.
        let added = add(&text, path, "dave", &hash("d"), Some(Role::Viewer)).unwrap();
        assert!(added.contains(":viewer\ndave:") && added.ends_with(":viewer\n"), "{added}");
        // A viewer can go; a file the parser refuses is never edited.
        assert!(remove(&text, path, "wall").is_ok());
        assert!(err(add("bob:{SHA}xyz\n", path, "carol", &hash("c"), None)).contains("line 1"));
    }
}
