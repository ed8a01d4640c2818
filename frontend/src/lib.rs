//! The browser entry point: hydrates the server-rendered dashboard. Nothing else lives here.

// The view types of a whole page nest deeply in a release build (no erased components).
#![recursion_limit = "256"]

/// Called by the hydration script that the server puts in the page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::init_base_path();
    leptos::mount::hydrate_body(app::App);
}
