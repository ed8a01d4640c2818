//! The tokens in memory: made, checked, expired, revoked.
use super::*;

#[tokio::test]
async fn a_token_works_until_revoked_and_a_wrong_one_never() {
    let tokens = Tokens::default();
    let (secret, token) = tokens.create("ann", Role::Viewer, "wall", None).await;
    assert!(secret.starts_with(PREFIX));
    assert_eq!(tokens.check(&secret).await.map(|t| t.handle), Some(token.handle));
    assert!(tokens.check(&format!("{secret}x")).await.is_none());
    assert!(tokens.check("ldt_").await.is_none());
    assert!(tokens.check(&secret.replace(PREFIX, "xxx_")).await.is_none());
    assert_eq!(tokens.list(Some("ann")).await.len(), 1);
    assert!(tokens.list(Some("bob")).await.is_empty());
    assert!(tokens.revoke(token.handle).await.is_some());
    assert!(tokens.check(&secret).await.is_none());
}

#[tokio::test]
async fn an_expired_token_stops() {
    let tokens = Tokens::default();
    let (secret, _) = tokens.create("ann", Role::Admin, "short", Some(Duration::from_millis(30))).await;
    assert!(tokens.check(&secret).await.is_some());
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(tokens.check(&secret).await.is_none());
}
