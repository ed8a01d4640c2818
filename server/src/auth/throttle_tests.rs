//! Tests of [`super::throttle`]: budgets, who is blocked and why, and what a peer may block.

use super::blocked::{LONGEST_WAIT, MOST_BLOCKED};
use super::credentials::NONCE_LEN;
use super::subject::Subject;
use super::throttle::*;
use std::net::IpAddr;
use std::time::Duration;

fn limits(per_ip: u32, per_pair: u32, per_user: u32) -> LoginLimits {
    LoginLimits {
        per_ip_per_minute: per_minute(per_ip),
        per_ip_user_per_minute: per_minute(per_pair),
        per_user_per_minute: per_minute(per_user),
        per_device_per_minute: per_minute(2),
        refusals_per_ip_per_minute: per_minute(3),
    }
}

#[test]
fn an_attack_on_a_user_does_not_reach_a_device_that_proved_itself() {
    let throttle = Throttle::new(limits(100, 100, 3));
    let attacker = |i: u8| Who::Untrusted { group: IpAddr::from([10, 0, 0, i]), user: "admin" };
    for i in 0..3 {
        assert!(throttle.check(attacker(i)).is_ok());
    }
    assert!(throttle.check(attacker(9)).is_err(), "the user's budget is spent");
    assert!(throttle.blocked(attacker(10)).is_some(), "every untrusted client of that user waits");
    let device = Who::Device([7; NONCE_LEN]);
    assert_eq!(throttle.blocked(device), None, "the device is not");
    assert!(throttle.check(device).is_ok() && throttle.check(device).is_ok());
    assert!(throttle.check(device).is_err(), "it has a budget of its own");
    assert!(throttle.blocked(Who::Device([8; NONCE_LEN])).is_none(), "per device");
}

#[test]
fn one_address_spends_its_pair_budget_before_the_users() {
    let throttle = Throttle::new(limits(100, 2, 30));
    let from = |i: u8| Who::Untrusted { group: IpAddr::from([10, 0, 0, i]), user: "admin" };
    assert!(throttle.check(from(1)).is_ok() && throttle.check(from(1)).is_ok());
    assert!(throttle.check(from(1)).is_err());
    assert!(throttle.blocked(from(1)).is_some());
    assert!(throttle.blocked(from(2)).is_none(), "another address is not blocked");
    let other_user = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "bob" };
    assert!(throttle.blocked(other_user).is_none(), "nor the address for another user");
}

#[test]
fn budget_keys_name_their_subjects_and_read_back() {
    let throttle = Throttle::new(limits(10, 5, 30));
    let v6: IpAddr = "2001:db8::".parse().expect("address");
    let keys: Vec<String> =
        throttle.budgets(Who::Untrusted { group: v6, user: "ad|min" }).into_iter().map(|b| b.key).collect();
    assert_eq!(keys, ["g|2001:db8::", "w|2001:db8::", "p|2001:db8::|ad|min", "u|ad|min"]);
    let per_minute: Vec<u32> =
        throttle.budgets(Who::Untrusted { group: v6, user: "x" }).into_iter().map(|b| b.per_minute).collect();
    assert_eq!(per_minute, [10, 20, 5, 30]);
    let device = throttle.budgets(Who::Device([0xab; NONCE_LEN]));
    assert!(device[0].key.starts_with("d|") && device[0].key.len() == 2 + 2 * NONCE_LEN, "{}", device[0].key);
    assert!(!device[0].key.contains(&"ab".repeat(NONCE_LEN)), "the nonce is hashed: {}", device[0].key);
    for key in keys.iter().chain([&device[0].key]) {
        assert_eq!(Subject::parse(key).map(|s| s.key()).as_deref(), Some(key.as_str()), "{key}");
    }
    for bad in ["", "g|", "g|not-an-ip", "p|10.0.0.1", "d|abc", "x|y", "d|zz", "|"] {
        assert!(Subject::parse(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn the_64s_of_one_48_share_a_budget_of_their_48() {
    let throttle = Throttle::new(limits(10, 5, 1000));
    let from = |net: u16, user: &'static str| Who::Untrusted {
        group: IpAddr::from([0x2001, 0xdb8, 1, net, 0, 0, 0, 0]),
        user,
    };
    // Before: each /64 had a budget of its own, so 20 /64s got 200 attempts.
    for net in 0..20 {
        assert!(throttle.check(from(net, "admin")).is_ok(), "/64 number {net}");
    }
    assert!(throttle.check(from(20, "admin")).is_err(), "a fresh /64 of the same /48");
    let blocked = throttle.blocked_by(from(21, "bob")).expect("the /48 is blocked");
    assert!(!blocked.only_user, "not a user block: {blocked:?}");
    let elsewhere = Who::Untrusted { group: IpAddr::from([0x2001, 0xdb8, 2, 0, 0, 0, 0, 0]), user: "admin" };
    assert!(throttle.blocked(elsewhere).is_none() && throttle.check(elsewhere).is_ok(), "another /48");
    // The shared store names the /48 too, and a peer's block of it is honoured here.
    let keys: Vec<String> = throttle.budgets(from(3, "admin")).into_iter().map(|b| b.key).collect();
    assert_eq!(keys, ["g|2001:db8:1:3::", "w|2001:db8:1::", "p|2001:db8:1:3::|admin", "u|admin"]);
    assert_eq!(throttle.budgets(from(3, "admin"))[1].per_minute, 20);
    let other = Who::Untrusted { group: IpAddr::from([0x2001, 0xdb8, 3, 7, 0, 0, 0, 0]), user: "admin" };
    throttle.block_key("w|2001:db8:3::", Duration::from_secs(30));
    assert!(throttle.blocked(other).is_some());
}

#[test]
fn a_user_blocked_alone_is_told_apart_from_the_clients_own_blocks() {
    let throttle = Throttle::new(limits(100, 2, 3));
    let from = |i: u8| Who::Untrusted { group: IpAddr::from([10, 0, 0, i]), user: "admin" };
    for i in 0..3 {
        assert!(throttle.check(from(i)).is_ok());
    }
    assert!(throttle.check(from(3)).is_err(), "the user's budget is spent");
    assert_eq!(throttle.blocked_by(from(9)).map(|b| b.only_user), Some(true));
    // The pair of an address that guessed too much is its own block.
    assert!(throttle.check_client(IpAddr::from([10, 0, 0, 1]), "admin").is_ok());
    assert!(throttle.check_client(IpAddr::from([10, 0, 0, 1]), "admin").is_err());
    assert_eq!(throttle.blocked_by(from(1)).map(|b| b.only_user), Some(false));
}

#[test]
fn a_subject_blocked_by_a_peer_is_refused_here() {
    let throttle = Throttle::new(limits(10, 5, 30));
    let who = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "admin" };
    assert!(throttle.blocked(who).is_none());
    throttle.block_key("u|admin", Duration::from_secs(20));
    throttle.block_key("u|admin", Duration::from_secs(5));
    let wait = throttle.blocked(who).expect("blocked");
    assert!(wait > Duration::from_secs(19), "the longer wait stands: {wait:?}");
    throttle.block_key("nonsense", Duration::from_secs(5));
    assert!(throttle.blocked(Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "bob" }).is_none());
}

#[test]
fn a_peer_cannot_block_for_longer_than_a_budget_can_and_the_map_stays_bounded() {
    let throttle = Throttle::new(limits(10, 5, 30));
    let who = Who::Untrusted { group: IpAddr::from([10, 0, 0, 1]), user: "admin" };
    throttle.block_key("u|admin", Duration::from_secs(100 * 365 * 24 * 3600));
    let wait = throttle.blocked(who).expect("blocked");
    assert!(wait <= LONGEST_WAIT && wait > LONGEST_WAIT - Duration::from_secs(5), "capped: {wait:?}");
    for i in 0..(MOST_BLOCKED as u32 + 1000) {
        throttle.block_key(&format!("u|flood{i}"), Duration::from_secs(1 + u64::from(i % 30)));
    }
    assert!(throttle.blocked_len() <= MOST_BLOCKED, "bounded");
    assert!(throttle.blocked(who).is_some(), "the longest wait was kept");
}

#[test]
fn refusals_without_credentials_run_out_per_address() {
    let throttle = Throttle::new(limits(10, 5, 30));
    let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
    for _ in 0..3 {
        assert!(throttle.refuse(a).is_ok());
    }
    assert!(throttle.refuse(a).is_err());
    assert!(throttle.refuse(a).is_err(), "still blocked");
    assert!(throttle.refuse(b).is_ok());
}
