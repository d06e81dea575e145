use super::*;
use crate::store::memory::MemoryStore;

fn logins() -> PendingLogins {
    PendingLogins::new(
        Arc::new(MemoryStore::new()),
        Namespace::new("https://login.example.com", "c"),
        Duration::from_secs(600),
    )
}

fn pending() -> PendingLogin {
    PendingLogin {
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        return_to: "/x".into(),
        created_at: now_unix(),
        prompt_none: false,
        max_age: None,
        acr_values: None,
        step_up: false,
        replaces: None,
    }
}

#[tokio::test]
async fn a_pending_login_opens_once_and_only_in_its_browser() {
    let p = logins();
    let (browser, other) = (crypto::random_token(), crypto::random_token());
    p.save(&browser, "state-1", &pending()).await.expect("save");
    p.save(&browser, "state-2", &pending()).await.expect("save");

    let taken = p.take(Some(&browser), "state-1").await.expect("first use");
    assert_eq!(taken.return_to, "/x");
    assert!(matches!(
        p.take(Some(&browser), "state-1").await,
        Err(PendingError::UnknownState)
    ));
    assert!(matches!(
        p.take(Some(&other), "state-2").await,
        Err(PendingError::OtherBrowser)
    ));
    // The other browser's attempt used the state up too.
    assert!(matches!(
        p.take(Some(&browser), "state-2").await,
        Err(PendingError::UnknownState)
    ));
    assert!(matches!(
        p.take(None, "state-3").await,
        Err(PendingError::NoLoginCookie)
    ));
}

#[tokio::test]
async fn a_pending_login_past_its_timeout_is_refused() {
    let p = logins();
    let browser = crypto::random_token();
    let mut old = pending();
    old.created_at -= 601;
    p.save(&browser, "state", &old).await.expect("save");
    assert!(matches!(
        p.take(Some(&browser), "state").await,
        Err(PendingError::UnknownState)
    ));
}
