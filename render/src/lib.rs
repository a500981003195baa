//! What Confab renders off the main thread, loaded only when a reply first
//! needs it: [`highlight`] splits code into token ranges of a few fixed
//! kinds, [`math`] turns TeX into a tree of MathML nodes. Neither produces
//! markup: the browser shell builds elements from these values itself
//! (element and class names from the fixed tables here, the model's text
//! only ever as text nodes).
//!
//! The crate is plain Rust, tested on the host. `src/bin/worker.rs` wraps it
//! in a Web Worker; the main app depends on it only for the name tables
//! ([`highlight::TokenKind::class`], [`math::Element::name`], ...), which is
//! all the linker keeps there.

pub mod highlight;
pub mod math;
