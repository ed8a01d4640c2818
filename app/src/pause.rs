//! Pause: the view stops changing while the connection goes on. Frames that arrive meanwhile are
//! held, in order, and applied at once on resume, so nothing received is lost. At most
//! [`MAX_HELD`] are held: past that the view resumes by itself rather than grow without bound.

use leptos::prelude::*;
use livedash::Frame;

use crate::model::Model;

/// The most frames held while paused.
pub const MAX_HELD: usize = 20_000;

/// Whether the view is paused, and what arrived meanwhile.
#[derive(Clone, Copy)]
pub struct Pause {
    /// Paused now.
    pub paused: RwSignal<bool>,
    /// How many frames are held.
    pub held_count: RwSignal<usize>,
    held: StoredValue<Vec<Frame>>,
}

impl Pause {
    /// Not paused.
    pub fn new() -> Self {
        Self { paused: RwSignal::new(false), held_count: RwSignal::new(0), held: StoredValue::new(Vec::new()) }
    }

    /// Applies `frame` to `model` now, or holds it while paused.
    pub fn deliver(self, model: RwSignal<Model>, frame: Frame) {
        if !self.paused.get_untracked() {
            model.update(|m| m.apply(frame));
            return;
        }
        let held = self.held.try_update_value(|held| {
            held.push(frame);
            held.len()
        });
        self.held_count.set(held.unwrap_or_default());
        if held.unwrap_or_default() >= MAX_HELD {
            self.resume(model);
        }
    }

    /// Pauses, or resumes applying everything held.
    pub fn toggle(self, model: RwSignal<Model>) {
        if self.paused.get_untracked() {
            self.resume(model);
        } else {
            self.paused.set(true);
        }
    }

    fn resume(self, model: RwSignal<Model>) {
        let held = self.held.try_update_value(std::mem::take).unwrap_or_default();
        model.update(|m| held.into_iter().for_each(|frame| m.apply(frame)));
        self.held_count.set(0);
        self.paused.set(false);
    }
}

impl Default for Pause {
    fn default() -> Self {
        Self::new()
    }
}

/// The Pause / Resume button in the top bar.
#[component]
pub fn PauseToggle(model: RwSignal<Model>, pause: Pause) -> impl IntoView {
    let text = move || {
        if pause.paused.get() { format!("Resume ({} new)", pause.held_count.get()) } else { "Pause".to_owned() }
    };
    view! {
        <button
            type="button"
            class="bar-button pause-toggle"
            aria-pressed=move || pause.paused.get().to_string()
            title="Freeze the view; the connection goes on and nothing received is lost"
            on:click=move |_| pause.toggle(model)
        >
            {text}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livedash::{Sample, raw_json};
    use std::sync::Arc;

    fn sample(seq: u64) -> Frame {
        Frame::Sample(Sample {
            seq,
            source: Arc::from("a"),
            ts_ms: seq,
            data: raw_json(&serde_json::json!({"x": seq})),
        })
    }

    #[test]
    fn a_paused_view_holds_frames_and_applies_them_all_on_resume() {
        let owner = Owner::new();
        owner.with(|| {
            let model = RwSignal::new(Model::default());
            let pause = Pause::new();
            pause.deliver(model, sample(1));
            pause.toggle(model);
            pause.deliver(model, sample(2));
            pause.deliver(model, sample(3));
            assert_eq!(model.with_untracked(|m| m.last_seq), 1, "frozen");
            assert_eq!(pause.held_count.get_untracked(), 2);
            pause.toggle(model);
            assert_eq!(model.with_untracked(|m| m.last_seq), 3, "nothing lost");
            assert!(!pause.paused.get_untracked());
        });
    }
}
