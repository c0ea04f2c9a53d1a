impl Drop for Sender {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock().panic_if_poisoned();
        state.sender_open = false;
        let receiver_open = state.receiver_open;
        drop(state);
        if receiver_open {
            self.shared.receiver_waker.wake();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock().panic_if_poisoned();
        state.receiver_open = false;
        let sender_open = state.sender_open;
        drop(state);
        if sender_open {
            self.shared.sender_waker.wake();
        }
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_closed() {
            f.debug_tuple("Sender").field(&"Closed").finish()
        } else {
            f.debug_tuple("Sender").field(&"Open").finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        task::{Wake, Waker},
    };

    use super::*;

    async fn recv(rx: &mut Receiver) -> Option<Result<Bytes, crate::Error>> {
        futures_util::future::poll_fn(|cx| rx.poll_next(cx)).await
    }

    #[tokio::test]
    async fn error_queued_behind_accepted_data() {
        let (mut tx, mut rx) = channel(false);
        tx.try_send_data(Bytes::from_static(b"data")).unwrap();
        tx.send_error(crate::Error::new_incomplete());
        drop(tx);

        assert_eq!(recv(&mut rx).await.unwrap().unwrap(), "data");
        assert!(recv(&mut rx).await.unwrap().is_err());
        assert!(recv(&mut rx).await.is_none());
    }

    // SLUICE PATCH: chunks that arrive together wait together, in order, up to a count
    // and a byte bound; the sender is woken when room opens, not per chunk.
    #[test]
    fn several_chunks_wait_in_order_within_bounds() {
        struct Count(AtomicUsize);

        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }

        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);

        let (mut tx, mut rx) = channel(false);
        for i in 0..MAX_QUEUED {
            assert!(tx.poll_ready(&mut cx).is_ready(), "chunk {i} has room");
            tx.try_send_data(Bytes::from(format!("c{i}"))).unwrap();
        }
        assert!(tx.poll_ready(&mut cx).is_pending(), "full by count");
        assert!(tx.try_send_data(Bytes::from_static(b"x")).is_err());
        tx.send_error(crate::Error::new_incomplete());

        let wakes = count.0.load(Ordering::Relaxed);
        for i in 0..MAX_QUEUED {
            match rx.poll_next(&mut cx) {
                Poll::Ready(Some(Ok(chunk))) => assert_eq!(chunk, format!("c{i}")),
                other => panic!("chunk {i}: {other:?}"),
            }
        }
        // The full queue's first take woke the waiting sender; later takes did not.
        assert_eq!(count.0.load(Ordering::Relaxed), wakes + 1);
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(Err(_)))));

        // By bytes: a big first chunk always fits; nothing waits behind it.
        let (mut tx, mut rx) = channel(false);
        tx.try_send_data(Bytes::from(vec![0u8; MAX_QUEUED_BYTES])).unwrap();
        assert!(tx.poll_ready(&mut cx).is_pending(), "full by bytes");
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(Ok(c))) if c.len() == MAX_QUEUED_BYTES));
        assert!(tx.poll_ready(&mut cx).is_ready());
        tx.try_send_data(Bytes::from_static(b"a")).unwrap();
        tx.try_send_data(Bytes::from_static(b"b")).unwrap();
        drop(tx);
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(Ok(c))) if c == "a"));
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(Ok(c))) if c == "b"));
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(None)));
    }

    #[tokio::test]
    async fn trailers_follow_data_close() {
        let (mut tx, mut rx) = channel(false);
        let mut trailers = HeaderMap::new();
        trailers.insert("x-trailer", "value".parse().unwrap());
        tx.try_send_trailers(trailers).unwrap();
        drop(tx);

        assert!(recv(&mut rx).await.is_none());
        assert_eq!(rx.take_trailers().unwrap()["x-trailer"], "value");
    }

    #[test]
    fn drop_wakes_only_an_open_peer() {
        struct Count(AtomicUsize);

        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }

        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let wakes = || count.0.load(Ordering::Relaxed);

        // A receiver dropped after the sender does not wake the sender's stale waker.
        let (mut tx, rx) = channel(true);
        assert!(tx.poll_ready(&mut cx).is_pending());
        drop(tx);
        drop(rx);
        assert_eq!(wakes(), 0);

        // Nor does a sender dropped after the receiver.
        let (tx, mut rx) = channel(false);
        assert!(rx.poll_next(&mut cx).is_pending());
        drop(rx);
        drop(tx);
        assert_eq!(wakes(), 0);

        // An open peer is still woken to observe the close.
        let (mut tx, rx) = channel(true);
        assert!(tx.poll_ready(&mut cx).is_pending());
        drop(rx);
        assert_eq!(wakes(), 1);
        let (tx, mut rx) = channel(false);
        assert!(rx.poll_next(&mut cx).is_pending());
        drop(tx);
        assert_eq!(wakes(), 2);
    }
}
