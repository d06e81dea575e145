use std::sync::atomic::AtomicUsize;

use super::*;
use crate::store::memory::MemoryStore;

#[derive(Debug)]
enum Failed {
    Store,
    Busy,
}

impl From<StoreError> for Failed {
    fn from(_: StoreError) -> Self {
        Failed::Store
    }
}

impl From<Busy> for Failed {
    fn from(_: Busy) -> Self {
        Failed::Busy
    }
}

#[tokio::test]
async fn concurrent_requests_do_the_work_once_and_all_get_its_result() {
    let flights = Flights::new(Arc::new(MemoryStore::new()), Duration::from_secs(5));
    let (result, runs) = (Mutex::new(None::<u32>), AtomicUsize::new(0));
    let (flights, result, runs) = (&flights, &result, &runs);
    let one = || async move {
        let done = move || async move { Ok::<_, Failed>(*lock(result)) };
        let work = move |held: Held| async move {
            runs.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
            *lock(result) = Some(7);
            flights.release(&held).await?;
            Ok(7)
        };
        flights.run("k", "k:lock".into(), done, work).await
    };
    let all = futures_util::future::join_all((0..8).map(|_| one())).await;
    assert!(all.iter().all(|r| matches!(r, Ok(7))), "{all:?}");
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_lock_held_elsewhere_for_longer_than_the_wait_is_busy() {
    let store = Arc::new(MemoryStore::new());
    // Another replica's lock, which it does not release while we wait.
    let theirs = Duration::from_secs(10);
    assert!(
        store
            .put_if_absent("k:lock", "theirs", theirs)
            .await
            .unwrap()
    );
    let flights = Flights::new(store, Duration::from_millis(120));
    let done = || async { Ok::<Option<()>, Failed>(None) };
    let work = |_: Held| async { Ok(()) };
    let result = flights.run("k", "k:lock".into(), done, work).await;
    assert!(matches!(result, Err(Failed::Busy)), "{result:?}");
}
