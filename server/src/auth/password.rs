//! Password hashes: which are accepted in a users file (argon2id PHC strings, bcrypt `$2y$`/`$2b$`
//! from `htpasswd -nB`), checking a password against one (slow by design), making one for
//! `livedash hash-password`, and reading the new password to hash. Refusals never quote the hash.

use std::io::{self, BufRead, IsTerminal};

use base64::Engine;

/// How to make an accepted hash; ends every refusal of a hash.
const ACCEPTED: &str = "accepted are argon2id (`$argon2id$...`, made by `livedash hash-password`) and bcrypt \
     (`$2y$...` or `$2b$...`, made by `htpasswd -nB user`)";

/// Which algorithm a stored hash uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// An argon2id PHC string.
    Argon2id,
    /// A `$2y$` / `$2b$` bcrypt hash with this cost.
    Bcrypt(u32),
}

/// A stored hash and its scheme.
pub struct Stored {
    /// The hash as written in the users file.
    pub hash: String,
    /// Its algorithm.
    pub scheme: Scheme,
}

impl Stored {
    /// Whether `password` matches. Slow by design.
    pub fn matches(&self, password: &str) -> bool {
        match self.scheme {
            Scheme::Argon2id => password_auth::verify_password(password, &self.hash).is_ok(),
            Scheme::Bcrypt(_) => bcrypt::verify(password, &self.hash).unwrap_or(false),
        }
    }

    /// What checking a password against this hash costs: its scheme and parameters.
    pub fn kind(&self) -> Kind {
        match self.scheme {
            Scheme::Bcrypt(cost) => Kind::Bcrypt(cost),
            Scheme::Argon2id => argon2id_kind(&self.hash).unwrap_or(Kind::DEFAULT_ARGON2ID),
        }
    }

    /// A hash of `kind` that nothing matches: checked in place of an account's hash (for an
    /// unknown user, and for the kinds other than a known user's own), so that a check costs the
    /// same whoever is named. An argon2id stand-in is made without hashing (random salt and
    /// output of the kind's lengths: checking it costs exactly what a real one of the kind does);
    /// a bcrypt one hashes a random password at the kind's cost.
    pub fn stand_in(kind: &Kind) -> Self {
        match *kind {
            Kind::Bcrypt(cost) => match bcrypt::hash(random_text(), cost) {
                Ok(hash) => Self { hash, scheme: Scheme::Bcrypt(cost) },
                Err(e) => {
                    tracing::warn!(error = %e, "could not make a bcrypt stand-in hash; using argon2id");
                    Self { hash: password_auth::generate_hash(random_text()), scheme: Scheme::Argon2id }
                }
            },
            Kind::Argon2id { version, m, t, p, salt, output } => {
                let b64 = |len: usize| {
                    let mut bytes = vec![0u8; len];
                    // Without randomness a fixed pattern does: the output still matches no password.
                    let _ = getrandom::fill(&mut bytes);
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
                };
                let hash = format!("$argon2id$v={version}$m={m},t={t},p={p}${}${}", b64(salt), b64(output));
                Self { hash, scheme: Scheme::Argon2id }
            }
        }
    }
}

/// What a check against a hash costs, which the scheme and its parameters decide: two hashes of
/// one kind take the same time to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// argon2id: the version, memory in KiB, passes, lanes, and the salt's and output's lengths
    /// in bytes.
    Argon2id {
        /// 16 or 19.
        version: u32,
        /// Memory in KiB.
        m: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
        /// Salt length in bytes.
        salt: usize,
        /// Output length in bytes.
        output: usize,
    },
    /// bcrypt at this cost.
    Bcrypt(u32),
}

impl Kind {
    /// The kind `livedash hash-password` makes (password-auth's defaults: OWASP's argon2id).
    pub const DEFAULT_ARGON2ID: Kind = Kind::Argon2id { version: 19, m: 19_456, t: 2, p: 1, salt: 16, output: 32 };
}

/// 32 random hex digits (a fixed text if the OS has no randomness: the stand-in hash is never
/// allowed to match anything, so its password need not be secret).
fn random_text() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return "livedash-unknown-user-stand-in".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scheme of an accepted `hash`, or why it is refused (never quoting it).
pub fn check_hash(hash: &str) -> Result<Scheme, String> {
    if hash.is_empty() {
        return Err(format!("the password hash after ':' is missing; {ACCEPTED}"));
    }
    if hash.starts_with(char::is_whitespace) {
        return Err(format!("whitespace between ':' and the password hash; {ACCEPTED}"));
    }
    if hash.starts_with("$argon2id$") {
        return if argon2id_well_formed(hash) {
            Ok(Scheme::Argon2id)
        } else {
            Err("the argon2id hash is malformed; make a new one with `livedash hash-password`".to_owned())
        };
    }
    if hash.starts_with("$argon2") {
        return Err(format!("only the argon2id variant of argon2 is accepted; {ACCEPTED}"));
    }
    if hash.starts_with("$2y$") || hash.starts_with("$2b$") {
        return bcrypt_cost(hash).map(Scheme::Bcrypt);
    }
    if hash.starts_with("$2") {
        return Err(format!("this bcrypt version is not accepted; {ACCEPTED}"));
    }
    if !hash.starts_with('$') && !hash.starts_with('{') {
        return Err(format!("this looks like a plain-text password, which is never accepted; {ACCEPTED}"));
    }
    Err(format!("unsupported password hash format; {ACCEPTED}"))
}

/// Whether an `$argon2id$` string is a PHC hash the verifier can use: parsable, version 16 or 19,
/// only the parameters argon2 knows, `m`, `t` and `p` within argon2's limits, salt and output present.
fn argon2id_well_formed(hash: &str) -> bool {
    password_auth::is_hash_obsolete(hash).is_ok() && argon2id_kind(hash).is_some()
}

/// The kind (cost) of an `$argon2id$` PHC string, if it is well formed (see
/// [`argon2id_well_formed`]); a string without `v=` is version 16.
fn argon2id_kind(hash: &str) -> Option<Kind> {
    let mut fields: Vec<&str> = hash.split('$').skip(2).collect();
    let mut version = 16;
    if let Some(v) = fields.first().and_then(|f| f.strip_prefix("v=")) {
        version = match v {
            "16" => 16,
            "19" => 19,
            _ => return None,
        };
        fields.remove(0);
    }
    let [params, salt, output] = fields.as_slice() else {
        return None;
    };
    if salt.is_empty() || output.len() < 6 {
        return None;
    }
    let (mut m, mut t, mut p) = (None, None, None);
    for param in params.split(',') {
        let (key, value) = param.split_once('=')?;
        let number = value.parse::<u32>().ok();
        match key {
            "m" => m = number,
            "t" => t = number,
            "p" => p = number,
            "keyid" | "data" => {}
            _ => return None,
        }
    }
    let (m, t, p) = (m?, t?, p?);
    if !(t >= 1 && (1..=0xFF_FFFF).contains(&p) && u64::from(m) >= 8 * u64::from(p)) {
        return None;
    }
    // Base64 without padding: 4 characters per 3 bytes.
    let bytes = |b64: &str| b64.len() * 3 / 4;
    Some(Kind::Argon2id { version, m, t, p, salt: bytes(salt), output: bytes(output) })
}

/// The cost of a `$2y$` / `$2b$` hash in `htpasswd -B` form, or why it is refused.
fn bcrypt_cost(hash: &str) -> Result<u32, String> {
    const HOW: &str = "make a new one with `htpasswd -nB user` or `livedash hash-password`";
    let malformed = || format!("the bcrypt hash is malformed (it must be 60 characters); {HOW}");
    if hash.len() != 60 || !hash.is_ascii() || hash.as_bytes().get(6) != Some(&b'$') {
        return Err(malformed());
    }
    let cost = hash.get(4..6).and_then(|c| c.parse::<u32>().ok()).ok_or_else(malformed)?;
    if !(4..=31).contains(&cost) {
        return Err(format!("the bcrypt cost must be between 4 and 31; {HOW}"));
    }
    hash.parse::<bcrypt::HashParts>().map_err(|_| malformed())?;
    Ok(cost)
}

/// An argon2id PHC hash of `password` with default parameters (for `livedash hash-password`).
pub fn hash_password(password: &str) -> String {
    password_auth::generate_hash(password)
}

/// Reads a new password for `livedash hash-password`: on a terminal, asks twice without echo
/// (prompts go to the terminal, not stdout) and fails if the answers differ; otherwise reads one
/// line from stdin, without its line ending. Refuses an empty password.
pub fn read_new_password() -> io::Result<String> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return read_password_line(&mut stdin.lock());
    }
    let first = rpassword::prompt_password("Password: ")?;
    if first.is_empty() {
        return Err(empty_password());
    }
    let second = rpassword::prompt_password("Repeat password: ")?;
    if first != second {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the two passwords differ"));
    }
    Ok(first)
}

/// One line of `reader` without its `\n` or `\r\n`; an empty one is refused.
fn read_password_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if let Some(rest) = line.strip_suffix('\n') {
        let rest = rest.strip_suffix('\r').unwrap_or(rest);
        line.truncate(rest.len());
    }
    if line.is_empty() {
        return Err(empty_password());
    }
    Ok(line)
}

fn empty_password() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "the password is empty; an empty password is not allowed")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::users::tests::{alice_hash, bcrypt_with, bob_hash, error_on_line_4};

    /// Argon2i of "password", from password-auth's own tests.
    const ARGON2I: &str =
        "$argon2i$v=19$m=65536,t=1,p=1$c29tZXNhbHQAAAAAAAAAAA$+r0d29hqEB0yasKr55ZgICsQGSkl0v0kgwhd+U3wyRo";

    #[test]
    fn bad_hashes_name_the_line_and_not_the_hash() {
        let good_bcrypt = bob_hash();
        let cost_3 = format!("$2y$03${}", &good_bcrypt[7..]);
        let cost_32 = format!("$2y$32${}", &good_bcrypt[7..]);
        let mut truncated_argon = alice_hash().to_owned();
        truncated_argon.truncate(truncated_argon.rfind('$').unwrap());
        let cases: Vec<(String, &str)> = vec![
            ("hunter2-plain".into(), "plain-text"),
            ("$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/".into(), "livedash hash-password"),
            ("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=".into(), "htpasswd -nB user"),
            (bcrypt_with(bcrypt::Version::TwoA, "pw", 4), "htpasswd -nB user"),
            (bcrypt_with(bcrypt::Version::TwoX, "pw", 4), "htpasswd -nB user"),
            (
                "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"
                    .into(),
                "argon2id",
            ),
            ("$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0".into(), "argon2id"),
            ("".into(), "missing"),
            (format!(" {}", alice_hash()), "whitespace"),
            (ARGON2I.into(), "only the argon2id"),
            (ARGON2I.replace("$argon2i$", "$argon2d$"), "only the argon2id"),
            (truncated_argon, "malformed"),
            (
                "$argon2id$v=19$m=19456,t=2,p=1$not base64!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                "malformed",
            ),
            (alice_hash().replace("m=19456", "m=4"), "malformed"),
            (alice_hash().replace("t=2", "t=0"), "malformed"),
            (alice_hash().replace("v=19", "v=20"), "malformed"),
            (alice_hash().replace(",p=1", ",p=1,x=3"), "malformed"),
            (good_bcrypt[..59].to_owned(), "60 characters"),
            (format!("{good_bcrypt}x"), "60 characters"),
            (format!("{good_bcrypt}:extra"), "the third field (the role)"),
            (cost_3, "between 4 and 31"),
            (cost_32, "between 4 and 31"),
            (format!("$2y$04${}", "*".repeat(53)), "malformed"),
        ];
        for (hash, expected) in cases {
            let (line, message) = error_on_line_4(&format!("carol:{hash}"));
            assert_eq!(line, 4);
            assert!(message.contains(expected), "{hash:?}: {message}");
            if !hash.is_empty() {
                assert!(!message.contains(hash.trim()), "{message} contains the hash");
            }
        }
    }

    #[test]
    fn refusals_say_which_formats_are_accepted() {
        let (_, message) = error_on_line_4("carol:hunter2");
        assert!(message.contains("argon2id"), "{message}");
        assert!(message.contains("bcrypt"), "{message}");
        assert!(message.contains("livedash hash-password"), "{message}");
        assert!(message.contains("htpasswd -nB user"), "{message}");
    }

    #[test]
    fn hash_password_makes_accepted_argon2id() {
        let hash = hash_password("pw");
        assert!(hash.starts_with("$argon2id$v=19$"));
        assert_eq!(check_hash(&hash), Ok(Scheme::Argon2id));
        assert!(password_auth::verify_password("pw", &hash).is_ok());
    }

    #[test]
    fn password_line_drops_only_the_line_ending() {
        let read = |input: &str| read_password_line(&mut io::Cursor::new(input.as_bytes().to_vec()));
        assert_eq!(read("pw\n").unwrap(), "pw");
        assert_eq!(read("pw\r\n").unwrap(), "pw");
        assert_eq!(read("pw").unwrap(), "pw");
        assert_eq!(read(" p w \t\n").unwrap(), " p w \t");
        assert_eq!(read("first\nsecond\n").unwrap(), "first");
        assert_eq!(read("pw\r").unwrap(), "pw\r");
        for empty in ["", "\n", "\r\n"] {
            let err = read(empty).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("empty"), "{err}");
        }
    }
}
