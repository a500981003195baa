//! Icons as inline SVG drawn in `currentColor`: emoji would depend on the
//! system having a colour emoji font (minimal Linux installs and headless
//! Chromium show empty boxes) and would ignore the theme's colours.
//! Decorative: the element around each icon carries its accessible name.

use leptos::prelude::*;

/// A push pin, for pinned conversations.
pub fn pin() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M5 1h6v1.5l-1 1V7l2.5 2.5V11H8.75v4h-1.5v-4H3.5V9.5L6 7V3.5l-1-1z" />
        </svg>
    }
}

/// A raised thumb; `down` turns it over for a bad rating.
pub fn thumb(down: bool) -> impl IntoView {
    // A plain class string: a `class:` directive costs about 2 KB gzipped.
    let class = if down { "icon down" } else { "icon" };
    view! {
        <svg class=class viewBox="0 0 16 16" aria-hidden="true">
            <path d="M1 7h3v8H1zM5 7l3-5.5c1 0 2 .8 1.6 2.1L9 6.5h4.5c.9 0 1.5.8 1.3 1.7l-1.2 5.6c-.2.7-.7 1.2-1.4 1.2H5z" />
        </svg>
    }
}

/// A paper clip, for attaching files.
pub fn paperclip() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M10.5 3.5v7a2.5 2.5 0 0 1-5 0V3a1.5 1.5 0 0 1 3 0v7a.5.5 0 0 1-1 0V4H6.5v6a1.5 1.5 0 0 0 3 0V3a2.5 2.5 0 0 0-5 0v7.5a3.5 3.5 0 0 0 7 0v-7z" />
        </svg>
    }
}
