//! Adapters over browser APIs. Nothing else in the web shell touches
//! localStorage, fetch or the clock directly.

pub mod blobs;
pub mod bulk_store;
pub mod clock;
pub mod files;
pub mod http;
pub mod images;
pub mod local_storage;
pub mod locks;
pub mod render_worker;
pub mod service_worker;
pub mod storage_manager;

pub use clock::BrowserClock;
pub use local_storage::LocalStorageKv;
