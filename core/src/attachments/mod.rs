//! Files in messages: what can be attached ([`kind`]), CSV/TSV previews
//! ([`csv`]), the bookkeeping of their stored bytes ([`blobs`]) and files
//! arriving inside replies ([`offload`]). The bytes never go into a
//! conversation; its events hold [`AttachmentRef`]s.

pub mod blobs;
pub mod csv;
pub mod kind;
pub mod offload;

pub use blobs::{BlobError, BlobMeta, BlobStore, MemoryBlobStore};
pub use kind::{AttachError, AttachmentKind, classify, normalized_mime};
pub use offload::offload_inline;

pub use crate::storage::NewBlob;

use crate::bytes::sha256_hex;
use crate::session::AttachmentRef;
use crate::storage::inline::default_name;

/// A file the user attaches, checked and described: its kind, the type it is
/// stored as, its hash, and for CSV/TSV a preview table. `dimensions` are an
/// image's pixel size (the browser measures it when it downscales).
pub fn new_attachment(
    name: &str,
    given_mime: &str,
    bytes: &[u8],
    dimensions: Option<(u32, u32)>,
) -> Result<(AttachmentRef, AttachmentKind), AttachError> {
    let kind = classify(name, given_mime)?;
    let mime_type = normalized_mime(name, given_mime);
    let name = match name.trim() {
        // A pasted screenshot may come without a name.
        "" => default_name(&mime_type, 1),
        name => name.to_owned(),
    };
    kind::check_size(&name, kind, bytes.len() as u64)?;
    if kind == AttachmentKind::Text && std::str::from_utf8(bytes).is_err() {
        return Err(AttachError::NotText { name });
    }
    let table = match mime_type.as_str() {
        "text/csv" | "text/tab-separated-values" => csv::preview(bytes, &name),
        _ => None,
    };
    let attachment = AttachmentRef {
        sha256: sha256_hex(bytes),
        name,
        mime_type,
        size: bytes.len() as u64,
        width: dimensions.map(|d| d.0),
        height: dimensions.map(|d| d.1),
        table,
        origin: None,
    };
    Ok((attachment, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_is_described_with_its_preview() {
        let bytes = b"city;temp\r\nParis;\"12,5\"\r\nLyon;14\r\n";
        let (attachment, kind) =
            new_attachment("weather.csv", "application/vnd.ms-excel", bytes, None).unwrap();
        assert_eq!(kind, AttachmentKind::Text);
        assert_eq!(attachment.mime_type, "text/csv");
        assert_eq!(attachment.size, bytes.len() as u64);
        assert_eq!(attachment.sha256, sha256_hex(bytes));
        let table = attachment.table.unwrap();
        assert_eq!((table.columns, table.rows), (2, 2));
        assert_eq!(table.head[0], ["Paris", "12,5"]);
    }

    #[test]
    fn images_keep_their_size_and_a_pasted_one_gets_a_name() {
        let (attachment, kind) = new_attachment("", "image/png", b"png", Some((640, 480))).unwrap();
        assert_eq!(kind, AttachmentKind::Image);
        assert_eq!(attachment.name, "image-1.png");
        assert_eq!(
            (attachment.width, attachment.height),
            (Some(640), Some(480))
        );
        assert_eq!(attachment.table, None);
    }

    #[test]
    fn refusals_name_the_file() {
        assert_eq!(
            new_attachment("notes.txt", "text/plain", b"caf\xe9", None),
            Err(AttachError::NotText {
                name: "notes.txt".into()
            })
        );
        let big = vec![b'a'; (kind::MAX_FILE_BYTES + 1) as usize];
        assert!(matches!(
            new_attachment("big.md", "", &big, None),
            Err(AttachError::TooLarge { .. })
        ));
        assert!(matches!(
            new_attachment("x.exe", "application/x-msdownload", b"MZ", None),
            Err(AttachError::Unsupported { .. })
        ));
        // A PDF is not checked as text.
        assert!(new_attachment("a.pdf", "", b"%PDF-\xff", None).is_ok());
    }
}
