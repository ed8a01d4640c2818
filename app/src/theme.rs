//! Light and dark, and the wall-screen view: the page follows the system's `prefers-color-scheme`
//! unless the person chose a theme with the toggle, which is remembered per browser (`localStorage`) and applied as
//! `data-theme` on `<html>` by [`PREPAINT_SCRIPT`] before the first paint, so there is no flash of
//! the wrong theme. The colours themselves are in `style/main.css` (`light-dark()`).

use leptos::prelude::*;

/// The key the choice is remembered under.
pub const STORAGE_KEY: &str = "livedash-theme";

/// Runs in `<head>` (with the response's CSP nonce) before anything is painted: applies a stored
/// theme choice, and the wall-screen view when the URL asks for it (`?kiosk`). It is the only
/// script that is not the WebAssembly's loader.
pub const PREPAINT_SCRIPT: &str = "try{var t=localStorage.getItem(\"livedash-theme\");\
if(t===\"light\"||t===\"dark\")document.documentElement.dataset.theme=t}catch(e){}\
if(new URLSearchParams(location.search).has(\"kiosk\"))document.documentElement.classList.add(\"kiosk\")";

/// What the person chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow the system.
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// The next one the toggle offers.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }

    /// Its name, as stored and as shown.
    pub fn name(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The choice stored under `value`.
    pub fn from_stored(value: Option<&str>) -> Self {
        match value {
            Some("light") => Self::Light,
            Some("dark") => Self::Dark,
            _ => Self::System,
        }
    }
}

/// The toggle in the top bar: system, light, dark, round again.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    // Rendered as "system" on the server and at hydration; the stored choice comes right after.
    let choice = RwSignal::new(Theme::System);
    Effect::new(move |_| choice.set(stored()));
    let label = move || format!("Theme: {}", choice.get().name());
    let pick_next = move |_| {
        let next = choice.get_untracked().next();
        choice.set(next);
        apply(next);
    };
    view! {
        <button type="button" class="theme-toggle" data-theme-choice=move || choice.get().name() on:click=pick_next title="Colour theme: follow the system, light or dark">
            {label}
        </button>
    }
}

/// The stored choice (in the browser).
fn stored() -> Theme {
    #[cfg(feature = "hydrate")]
    {
        let value = window().local_storage().ok().flatten().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        Theme::from_stored(value.as_deref())
    }
    #[cfg(not(feature = "hydrate"))]
    Theme::System
}

/// Remembers `theme` and applies it to the page at once.
fn apply(theme: Theme) {
    #[cfg(feature = "hydrate")]
    {
        let storage = window().local_storage().ok().flatten();
        let root = document().document_element();
        match theme {
            Theme::System => {
                if let Some(s) = storage {
                    let _ = s.remove_item(STORAGE_KEY);
                }
                if let Some(root) = root {
                    let _ = root.remove_attribute("data-theme");
                }
            }
            Theme::Light | Theme::Dark => {
                if let Some(s) = storage {
                    let _ = s.set_item(STORAGE_KEY, theme.name());
                }
                if let Some(root) = root {
                    let _ = root.set_attribute("data-theme", theme.name());
                }
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = theme;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toggle_goes_round_and_reads_what_it_stored() {
        let all = [Theme::System, Theme::Light, Theme::Dark];
        for theme in all {
            assert_eq!(Theme::from_stored(Some(theme.name())), theme);
        }
        assert_eq!(Theme::System.next().next().next(), Theme::System);
        assert_eq!(Theme::from_stored(Some("purple")), Theme::System);
        assert_eq!(Theme::from_stored(None), Theme::System);
        assert!(PREPAINT_SCRIPT.contains(STORAGE_KEY));
    }
}
