//! The one shutdown signal: flipped once by [`Switch::stop`], awaited by the server loop, every
//! socket and every source through [`Shutdown`].

use tokio::sync::watch;

/// Says stop, once, to every [`Shutdown`] made from it.
#[derive(Debug)]
pub struct Switch(watch::Sender<bool>);

/// Where a task learns that the server is shutting down. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A switch and the first signal it drives.
pub fn channel() -> (Switch, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Switch(tx), Shutdown(rx))
}

impl Switch {
    /// Asks everything to stop. Idempotent; cannot fail, whether or not anyone still listens.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves once the switch says stop (or is gone, when nobody can say it any more).
    pub async fn stopped(&mut self) {
        // Either outcome means stop; the borrowed value is dropped here, not held across awaits.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether stopping has begun.
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_hears_the_switch_once_it_flips() {
        let (switch, shutdown) = channel();
        let mut a = shutdown.clone();
        assert!(!a.is_stopping());
        let waiting = tokio::spawn(async move { a.stopped().await });
        switch.stop();
        waiting.await.expect("the waiting task ends");
        let mut late = shutdown;
        assert!(late.is_stopping());
        late.stopped().await;
    }

    #[tokio::test]
    async fn a_dropped_switch_means_stop() {
        let (switch, mut shutdown) = channel();
        drop(switch);
        shutdown.stopped().await;
    }
}
