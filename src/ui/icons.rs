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

/// Two overlapping sheets: copy.
pub fn copy() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M5 1h8a1 1 0 0 1 1 1v9h-1.5V2.5H5zM2 4h8a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1m.5 1.5v8h7v-8z" />
        </svg>
    }
}

/// A pencil: edit.
pub fn pencil() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M11.3 1.3a1 1 0 0 1 1.4 0l2 2a1 1 0 0 1 0 1.4L5.4 14H2v-3.4zM3.5 11.2v1.3h1.3l6.7-6.7-1.3-1.3z" />
        </svg>
    }
}

/// A circular arrow: ask again.
pub fn again() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M8 2.5a5.5 5.5 0 1 0 5.3 7h-1.6A4 4 0 1 1 8 4a4 4 0 0 1 2.8 1.2L9 7h5V2l-2 2A5.5 5.5 0 0 0 8 2.5" />
        </svg>
    }
}

/// A fork: branch the conversation here.
pub fn branch() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M4 1.5a2 2 0 0 1 .75 3.86v5.28A2 2 0 1 1 3.25 10.64V5.36A2 2 0 0 1 4 1.5m8 0a2 2 0 0 1 .75 3.86V7a2.5 2.5 0 0 1-2.5 2.5h-3.5a1 1 0 0 0-1 1v.1l-1.5-.1V10a2.5 2.5 0 0 1 2.5-2h3.5a1 1 0 0 0 1-1V5.36A2 2 0 0 1 12 1.5" />
        </svg>
    }
}
