//! Running the button: a thread that sleeps in `poll(2)` on a
//! [`ButtonSource`], classifies its edges and delivers [`ButtonEvent`]s.
//!
//! The thread wakes only when an input has an edge, when a held button
//! reaches the long-hold threshold, or when it is asked to stop: an idle
//! button costs no CPU. Stopping is clean and prompt: [`ButtonWatcher::stop`]
//! closes a pipe the thread also polls, then joins it.

use std::io::{PipeReader, PipeWriter};
use std::os::fd::AsFd;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::BoardError;
use crate::button::{ButtonClassifier, ButtonEvent, ButtonTiming};
use crate::source::{ButtonSource, EdgeInput, Flow, monotonic_now};

/// A running button thread. Dropping it stops the thread too.
#[derive(Debug)]
pub struct ButtonWatcher {
    stop: Option<PipeWriter>,
    thread: Option<JoinHandle<Result<(), BoardError>>>,
}

impl ButtonWatcher {
    /// Starts watching `source`; `on_event` is called on the watcher thread
    /// for every gesture. It should return quickly (hand the event over to
    /// another task, e.g. with tokio's `mpsc::Sender::try_send`).
    pub fn spawn<F>(
        source: ButtonSource,
        timing: ButtonTiming,
        on_event: F,
    ) -> Result<ButtonWatcher, BoardError>
    where
        F: FnMut(ButtonEvent) + Send + 'static,
    {
        let (stop_rx, stop_tx) =
            std::io::pipe().map_err(|e| BoardError::Button(format!("stop pipe: {e}")))?;
        let inputs = source.into_inputs();
        let thread = std::thread::Builder::new()
            .name("foyer-button".into())
            .spawn(move || run(inputs, timing, stop_rx, on_event))
            .map_err(|e| BoardError::Button(format!("spawn: {e}")))?;
        Ok(ButtonWatcher {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Starts watching `source` and delivers gestures on a bounded channel of
    /// `capacity` (at least 1). If the receiver lags and the channel is full,
    /// new gestures are dropped (with a warning) rather than blocking the
    /// button thread; once the receiver is dropped they are discarded.
    pub fn with_channel(
        source: ButtonSource,
        timing: ButtonTiming,
        capacity: usize,
    ) -> Result<(ButtonWatcher, Receiver<ButtonEvent>), BoardError> {
        let (tx, rx): (SyncSender<ButtonEvent>, _) = sync_channel(capacity.max(1));
        let watcher =
            ButtonWatcher::spawn(source, timing, move |event| match tx.try_send(event) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(?event, "button event dropped: receiver is not keeping up")
                }
            })?;
        Ok((watcher, rx))
    }

    /// Whether the thread has ended (stopped, or all inputs closed, or failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops the thread and waits for it; returns the error that ended it
    /// early, if one did.
    pub fn stop(mut self) -> Result<(), BoardError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), BoardError> {
        drop(self.stop.take()); // the thread sees the pipe hang up
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| BoardError::Button("thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for ButtonWatcher {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!(error = %e, "button watcher ended with an error");
        }
    }
}

/// The watcher loop. Returns when asked to stop, when every input has
/// closed, or on the first read error.
fn run<F: FnMut(ButtonEvent)>(
    mut inputs: Vec<Box<dyn EdgeInput>>,
    timing: ButtonTiming,
    stop: PipeReader,
    mut on_event: F,
) -> Result<(), BoardError> {
    let mut classifier = ButtonClassifier::new(timing);
    let mut edges = Vec::new();
    // First pass before sleeping: an input may already hold edges (a button
    // held at power-on, lines written before we started).
    let mut ready: Vec<bool> = vec![true; inputs.len()];
    loop {
        let mut closed = Vec::new();
        for (i, input) in inputs.iter_mut().enumerate() {
            if !ready.get(i).copied().unwrap_or(false) {
                continue;
            }
            edges.clear();
            let flow = input.read_edges(&mut edges)?;
            for edge in edges.drain(..) {
                if let Some(event) = classifier.edge(edge) {
                    on_event(event);
                }
            }
            if flow == Flow::Closed {
                tracing::debug!(input = %input.describe(), "button input closed");
                closed.push(i);
            }
        }
        for i in closed.into_iter().rev() {
            inputs.remove(i);
        }
        if let Some(event) = classifier.tick(monotonic_now()) {
            on_event(event);
        }
        if inputs.is_empty() {
            return Ok(());
        }

        let timeout = match classifier.deadline() {
            None => PollTimeout::NONE,
            Some(deadline) => {
                let wait = deadline.saturating_sub(monotonic_now());
                // Round up so we do not wake a hair before the deadline.
                let ms = wait.as_micros().div_ceil(1000);
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        };
        let (stopped, revents) = {
            let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(inputs.len() + 1);
            fds.push(PollFd::new(stop.as_fd(), PollFlags::POLLIN));
            for input in &inputs {
                fds.push(PollFd::new(input.fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(BoardError::Button(format!("poll: {e}"))),
            }
            let fired = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
            let stopped = fds.first().is_some_and(fired);
            (
                stopped,
                fds.iter().skip(1).map(fired).collect::<Vec<bool>>(),
            )
        };
        if stopped {
            return Ok(());
        }
        ready = revents;
    }
}
