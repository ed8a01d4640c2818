//! Authentication across the instances of a cluster, with a real Redis and no sticky sessions: a
//! ticket minted on one instance is accepted once on another and never twice anywhere; a login
//! budget is one budget for all of them (and a subject found spent on one is refused on the
//! others, even with a right password they have cached); a device cookie from one is honoured
//! by the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use common::cluster::{Watch, counting_upstream, instance};
use common::redis_server::Redis;
use common::{PASSWORD, basic, get_from, handshake, start_with, ticket};

fn at(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

async fn socket_status(addr: std::net::SocketAddr, ticket: &str) -> u16 {
    handshake(addr, &format!("/ws?ticket={ticket}"), &[]).await.status
}

#[tokio::test]
async fn a_ticket_from_one_instance_works_once_on_another_and_never_twice_anywhere() {
    let Some(mut redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let a = start_with(instance(&redis, "tickets", upstream)).await;
    let b = start_with(instance(&redis, "tickets", upstream)).await;
    let on_a = Watch::open(a.addr, "").await;
    assert!(on_a.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| c.shared)).await);
    let t = ticket(a.addr).await;
    assert_eq!(socket_status(b.addr, &t).await, 101, "minted on A, accepted on B");
    assert_eq!(socket_status(b.addr, &t).await, 401, "not twice on B");
    assert_eq!(socket_status(a.addr, &t).await, 401, "nor then on A");
    let t = ticket(b.addr).await;
    assert_eq!(socket_status(a.addr, &t).await, 101, "and the other way round");

    // Without Redis a ticket is only good where it was minted (once), never elsewhere: nobody
    // could tell the other instance it was used.
    redis.kill();
    assert!(on_a.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| !c.shared)).await);
    let on_b = Watch::open(b.addr, "").await;
    assert!(on_b.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| !c.shared)).await);
    let t = ticket(a.addr).await;
    assert_eq!(socket_status(b.addr, &t).await, 401, "B cannot know whether A's ticket was used");
    assert_eq!(socket_status(a.addr, &t).await, 101, "A can");
    assert_eq!(socket_status(a.addr, &t).await, 401, "once");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn one_login_budget_for_all_instances_and_device_cookies_good_on_each() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let config = || {
        let mut c = instance(&redis, "budgets", upstream);
        c.login_attempts_per_ip = NonZeroU32::new(4).unwrap();
        c
    };
    let (a, b) = (start_with(config()).await, start_with(config()).await);
    let on_a = Watch::open(a.addr, "").await;
    assert!(on_a.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| c.shared)).await);
    let right = basic("admin", PASSWORD);
    // A browser logs in on A and gets a device cookie; the right password is now cached on B too.
    let (status, cookie) = get_from(at(10), a.addr, "/", &[("Authorization", &right)]).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a device cookie").split(';').next().unwrap().to_owned();
    assert_eq!(get_from(at(11), b.addr, "/api/ws-ticket", &[("Authorization", &right)]).await.0, 200);

    // An attacker alternates instances: four guesses a minute from its address, for both.
    let attacker = at(2);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let target = if i % 2 == 0 { a.addr } else { b.addr };
        let wrong = basic("admin", &format!("guess-{i}"));
        statuses.push(get_from(attacker, target, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0);
    }
    assert_eq!(statuses[..4], [401; 4], "{statuses:?}");
    assert_eq!(statuses[4..], [429; 2], "the budget is one for both instances: {statuses:?}");
    // Even the right password, cached on B, is refused to the address that spent its budget.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_from(attacker, b.addr, "/api/ws-ticket", &[("Authorization", &right)]).await.0, 429);
    assert_eq!(get_from(attacker, a.addr, "/api/ws-ticket", &[("Authorization", &right)]).await.0, 429);

    // The device cookie minted by A is honoured by B.
    let with_cookie = [("Authorization", right.as_str()), ("Cookie", cookie.as_str())];
    let (status, renewed) = get_from(at(12), b.addr, "/api/ws-ticket", &with_cookie).await;
    assert_eq!(status, 200);
    assert!(renewed.is_none(), "B reads A's cookie as valid: no new one");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_right_password_does_not_use_up_the_budget_however_many_instances_verify_it() {
    let Some(redis) = Redis::start() else { return };
    let (upstream, _) = counting_upstream().await;
    let config = || {
        let mut c = instance(&redis, "refund", upstream);
        c.login_attempts_per_ip = NonZeroU32::new(4).unwrap();
        c
    };
    let instances = [start_with(config()).await, start_with(config()).await, start_with(config()).await];
    let on_first = Watch::open(instances[0].addr, "").await;
    assert!(on_first.until(Duration::from_secs(5), |w| w.cluster().is_some_and(|c| c.shared)).await);
    // One user's first login on each instance: each verifies the password once.
    let user = at(20);
    let right = basic("admin", PASSWORD);
    for i in &instances {
        assert_eq!(get_from(user, i.addr, "/api/ws-ticket", &[("Authorization", &right)]).await.0, 200);
    }
    // Three verifications of a right password took nothing: four wrong guesses still get 401.
    let mut statuses = Vec::new();
    for n in 0..5 {
        let wrong = basic("admin", &format!("typo-{n}"));
        statuses.push(get_from(user, instances[n % 3].addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429], "only the guesses count, across the instances");
    for i in instances {
        i.stop().await;
    }
}
