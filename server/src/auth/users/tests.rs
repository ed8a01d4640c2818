//! The users file's tests, and the fixtures the password tests share: good files with both kinds
//! of hash, and a bad line placed on line 4 to check what the error names.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::auth::password::hash_password;
use std::sync::OnceLock;

pub(crate) const ALICE_PW: &str = "correct horse battery staple";
pub(crate) const BOB_PW: &str = "hunter2 but longer";

pub(crate) fn path() -> &'static Path {
    Path::new("/etc/livedash/users")
}

pub(crate) fn alice_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(ALICE_PW))
}

pub(crate) fn bcrypt_with(version: bcrypt::Version, password: &str, cost: u32) -> String {
    bcrypt::hash_with_result(password, cost).unwrap().format_for_version(version)
}

pub(crate) fn bob_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| bcrypt_with(bcrypt::Version::TwoY, BOB_PW, 4))
}

pub(crate) fn good_file() -> String {
    format!(
        "# livedash users\n\n   # indented comment\nalice:{}\r\n  \t \nbob:{}   \n# end\n",
        alice_hash(),
        bob_hash()
    )
}

/// The error for `bad` placed on line 4, after a comment, a blank line and a good account.
pub(crate) fn error_on_line_4(bad: &str) -> (usize, String) {
    let text = format!("# header\n\nalice:{}\n{bad}\nbob:{}\n", alice_hash(), bob_hash());
    match Users::parse(&text, path()) {
        Err(UsersError::Line { line, reason, path: p }) => {
            assert_eq!(p, path());
            let message = UsersError::Line { path: p, line, reason }.to_string();
            assert!(message.contains("/etc/livedash/users"), "{message}");
            assert!(message.contains("line 4"), "{message}");
            (line, message)
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("{bad:?} was accepted"),
    }
}

#[test]
fn parses_comments_blank_lines_and_both_schemes() {
    let users = Users::parse(&good_file(), path()).unwrap();
    assert_eq!(users.len(), 2);
    assert!(!users.is_empty());
    assert_eq!(users.names().collect::<Vec<_>>(), ["alice", "bob"]);
    assert!(bob_hash().starts_with("$2y$04$"));
}

#[test]
fn verifies_argon2id_and_bcrypt() {
    let users = Users::parse(&good_file(), path()).unwrap();
    assert!(users.verify("alice", ALICE_PW));
    assert!(!users.verify("alice", "wrong"));
    assert!(!users.verify("alice", BOB_PW));
    assert!(users.verify("bob", BOB_PW));
    assert!(!users.verify("bob", "wrong"));
    assert!(!users.verify("bob", ALICE_PW));
    assert!(!users.verify("carol", ALICE_PW));
    assert!(!users.verify("Alice", ALICE_PW));
    assert!(!users.verify("alice ", ALICE_PW));
    assert!(!users.verify("", ""));
}

#[test]
fn accepts_2b_bcrypt_and_64_character_names() {
    let name = "n".repeat(64);
    let text = format!("{name}:{}\n", bcrypt_with(bcrypt::Version::TwoB, "pw", 4));
    let users = Users::parse(&text, path()).unwrap();
    assert!(users.verify(&name, "pw"));
    assert!(!users.verify(&name, "pW"));
}

#[test]
fn empty_file_has_no_users() {
    let users = Users::parse("# nobody yet\n\n", path()).unwrap();
    assert!(users.is_empty());
    assert_eq!(users.len(), 0);
    assert!(!users.verify("admin", "x"));
}

#[test]
fn bad_names_name_the_line_and_not_the_hash() {
    let hash = alice_hash();
    let long = "x".repeat(65);
    for bad in [
        format!(":{hash}"),
        format!("{long}:{hash}"),
        format!("ad min:{hash}"),
        format!("ad\tmin:{hash}"),
        format!(" admin:{hash}"),
        format!("ad\u{7f}min:{hash}"),
        format!("ad\u{1b}min:{hash}"),
    ] {
        let (line, message) = error_on_line_4(&bad);
        assert_eq!(line, 4);
        assert!(!message.contains(hash), "{message}");
        assert!(!message.contains("$argon2id$"), "{message}");
    }
}

#[test]
fn a_line_without_colon_is_not_quoted() {
    for bad in ["supersecretpassword", "$argon2id$v=19$m=19456,t=2,p=1$abc$def"] {
        let (line, message) = error_on_line_4(bad);
        assert_eq!(line, 4);
        assert!(!message.contains(bad), "{message}");
        assert!(message.contains("name:hash"), "{message}");
    }
}

#[test]
fn the_first_bad_line_is_reported() {
    let text = format!("alice:{}\nbob:plain\ncarol:also-plain\n ad min:x\n", alice_hash());
    match Users::parse(&text, path()) {
        Err(UsersError::Line { line, .. }) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicates_are_refused() {
    let (line, message) = error_on_line_4(&format!("alice:{}", bob_hash()));
    assert_eq!(line, 4);
    assert!(message.contains("user alice appears twice, first on line 3"), "{message}");
    assert!(!message.contains(bob_hash()), "{message}");
    assert!(!message.contains(alice_hash()), "{message}");
}

#[test]
fn names_are_compared_exactly() {
    let text = format!("alice:{}\nAlice:{}\n", bob_hash(), bcrypt_with(bcrypt::Version::TwoY, "other", 4));
    let users = Users::parse(&text, path()).unwrap();
    assert!(users.verify("alice", BOB_PW));
    assert!(!users.verify("Alice", BOB_PW));
    assert!(users.verify("Alice", "other"));
}

#[test]
fn version_changes_with_the_hash() {
    let users = Users::parse(&good_file(), path()).unwrap();
    let again = Users::parse(&good_file(), path()).unwrap();
    let alice = users.version_of("alice").unwrap();
    assert_eq!(again.version_of("alice"), Some(alice));
    let expected: [u8; 32] = Sha256::digest(alice_hash().as_bytes()).into();
    assert_eq!(alice, expected);
    assert_ne!(users.version_of("bob"), Some(alice));
    assert_eq!(users.version_of("carol"), None);
    assert_eq!(users.version_of("Alice"), None);

    // Same password, new hash (new salt): a different version.
    let rehashed = Users::parse(&format!("alice:{}\n", hash_password(ALICE_PW)), path()).unwrap();
    assert!(rehashed.verify("alice", ALICE_PW));
    assert_ne!(rehashed.version_of("alice"), Some(alice));
    // Trailing whitespace is not part of the hash.
    let spaced = Users::parse(&format!("alice:{} \t\r\n", alice_hash()), path()).unwrap();
    assert_eq!(spaced.version_of("alice"), Some(alice));
}

#[test]
fn single_account_verifies() {
    let users = Users::single("admin", "s3cret pass");
    assert_eq!(users.len(), 1);
    assert_eq!(users.names().collect::<Vec<_>>(), ["admin"]);
    assert!(users.verify("admin", "s3cret pass"));
    assert!(!users.verify("admin", "s3cret pas"));
    assert!(!users.verify("root", "s3cret pass"));
    assert!(users.version_of("admin").is_some());
    assert!(users.version_of("root").is_none());
}

/// argon2id of `CAROL_PW` with parameters that are not the default (m=64, t=1).
const CAROL_HASH: &str =
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rw415aN7L/03f9ICpOHnbWXLsQ8Hql/OZ+6II1vdWV4";
const CAROL_PW: &str = "carol pass";

/// alice (argon2id, default), bob (bcrypt 4), carol (argon2id, m=64 t=1), dave (bcrypt 5), erin
/// (bcrypt 4 again: no kind of its own).
fn mixed_file() -> Users {
    let text = format!(
        "alice:{}\nbob:{}\ncarol:{CAROL_HASH}\ndave:{}\nerin:{}\n",
        alice_hash(),
        bob_hash(),
        bcrypt_with(bcrypt::Version::TwoY, "dave pass", 5),
        bcrypt_with(bcrypt::Version::TwoY, "erin pass", 4),
    );
    Users::parse(&text, path()).unwrap()
}

#[test]
fn stand_ins_cover_every_kind_of_the_file() {
    let users = mixed_file();
    let kinds: Vec<Kind> = users.stand_ins.iter().map(|(k, _)| *k).collect();
    let carol = Kind::Argon2id { version: 19, m: 64, t: 1, p: 1, salt: 16, output: 32 };
    // Before: one stand-in, copied from the first account (argon2id at the defaults) only.
    assert_eq!(kinds, [carol, Kind::DEFAULT_ARGON2ID, Kind::Bcrypt(4), Kind::Bcrypt(5)]);
    for (kind, stand_in) in &users.stand_ins {
        assert_eq!(stand_in.kind(), *kind, "a stand-in costs what its kind does");
        assert_eq!(check_hash(&stand_in.hash).map(|_| ()), Ok(()), "a stand-in is a hash the file could hold");
        for password in [ALICE_PW, BOB_PW, CAROL_PW, ""] {
            assert!(!stand_in.matches(password));
        }
    }
    // An empty file still checks one hash, of the default kind.
    let empty = Users::parse("", path()).unwrap();
    assert_eq!(empty.stand_ins.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [Kind::DEFAULT_ARGON2ID]);
    let single = Users::single("admin", "pw");
    assert_eq!(single.stand_ins.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [Kind::DEFAULT_ARGON2ID]);
}

#[test]
fn a_real_and_an_unknown_name_run_the_same_kinds() {
    // Counted, not timed: a timing assertion in a unit test is flaky on a busy machine (the probe,
    // scripts/probe-security.sh, measures the time). Every name runs one hash of each kind.
    let users = mixed_file();
    let kinds_of = |user: &str| users.hashes_for(user).map(|(stored, _)| stored.kind()).collect::<Vec<_>>();
    let all: Vec<Kind> = users.stand_ins.iter().map(|(k, _)| *k).collect();
    for user in ["alice", "bob", "carol", "dave", "erin", "nobody", ""] {
        assert_eq!(kinds_of(user), all, "{user}");
        let own = users.hashes_for(user).filter(|(_, own)| *own).count();
        assert_eq!(own, usize::from(users.account(user).is_some()), "{user}: its own hash once, or none");
    }
    let before = users.hash_checks();
    assert!(!users.verify("carol", "wrong"));
    assert_eq!(users.hash_checks() - before, 4);
    assert!(!users.verify("nobody", "wrong"));
    assert!(!users.verify("nobody", CAROL_PW));
    assert_eq!(users.hash_checks() - before, 12);
    // Each account is still checked against its own hash.
    assert!(users.verify("carol", CAROL_PW));
    assert!(users.verify("dave", "dave pass"));
    assert!(users.verify("erin", "erin pass") && !users.verify("erin", BOB_PW));
    assert!(users.verify("bob", BOB_PW) && users.verify("alice", ALICE_PW));
}

#[test]
fn debug_shows_no_hashes() {
    let users = Users::parse(&good_file(), path()).unwrap();
    let debug = format!("{users:?}");
    assert!(debug.contains("alice") && debug.contains("bob"), "{debug}");
    assert!(!debug.contains('$'), "{debug}");
}

#[test]
fn load_reads_a_file_and_names_a_missing_one() {
    let dir = std::env::temp_dir();
    let file = dir.join(format!("livedash-users-test-{}", std::process::id()));
    std::fs::write(&file, good_file()).unwrap();
    let loaded = Users::load(&file);
    std::fs::remove_file(&file).unwrap();
    assert!(loaded.unwrap().verify("bob", BOB_PW));

    let missing = dir.join("livedash-no-such-dir/users");
    let err = Users::load(&missing).unwrap_err();
    assert!(matches!(err, UsersError::Read { ref source, .. } if source.kind() == io::ErrorKind::NotFound));
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
}

#[test]
fn load_reports_bad_lines_with_the_path() {
    let file = std::env::temp_dir().join(format!("livedash-users-bad-{}", std::process::id()));
    std::fs::write(&file, "# x\nalice:plaintext\n").unwrap();
    let err = Users::load(&file).unwrap_err();
    std::fs::remove_file(&file).unwrap();
    let message = err.to_string();
    assert!(message.contains(&file.display().to_string()) && message.contains("line 2"), "{message}");
    assert!(!message.contains("plaintext"), "{message}");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let users = Users::parse(&format!("\u{feff}bob:{}\n", bob_hash()), path()).unwrap();
    assert!(users.verify("bob", BOB_PW));
}

#[test]
fn the_third_field_is_the_role_and_two_fields_mean_admin() {
    let text = format!("old:{}\nwall:{}:viewer\nboss:{}:admin\n", alice_hash(), alice_hash(), alice_hash());
    let users = Users::parse(&text, Path::new("/etc/livedash/users")).expect("valid");
    assert_eq!(users.role_of("old"), Some(Role::Admin), "an earlier version's line keeps its powers");
    assert_eq!(users.role_of("wall"), Some(Role::Viewer));
    assert_eq!(users.role_of("boss"), Some(Role::Admin));
    assert_eq!(users.role_of("nobody"), None);
    assert!(users.verify("wall", ALICE_PW), "the role is not part of the hash");
}
