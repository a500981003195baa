//! What a file is, as Confab takes it: an image, a text file or a PDF, told
//! from its type and, since browsers often give "" or
//! `application/octet-stream` (or `video/mp2t` for a `.ts`), its extension.

use thiserror::Error;

use crate::units;

/// The kinds of file a message can carry; each goes on the wire its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentKind {
    /// PNG, JPEG, WebP or GIF: downscaled by the browser, sent as an image.
    Image,
    /// UTF-8 text (CSV, Markdown, source code…): sent as text.
    Text,
    Pdf,
}

/// The largest image taken before downscaling. A phone photo is 3–12 MB
/// and a screenshot of a large display under 20; the browser decodes it
/// whole to downscale it, and beyond this that is slow on a small machine.
pub const MAX_IMAGE_BYTES: u64 = 30 << 20;

/// The largest text file or PDF. They go to the model as they are, and
/// 10 MB of text is millions of tokens, more than any model's context.
pub const MAX_FILE_BYTES: u64 = 10 << 20;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum AttachError {
    #[error(
        "Cannot attach {name} ({mime}): Confab takes images (PNG, JPEG, WebP, GIF), text files and PDFs."
    )]
    Unsupported { name: String, mime: String },
    #[error(
        "Cannot attach {name}: it is {}, and files of its kind can be at most {}.",
        units::bytes(*size as f64),
        units::bytes(*limit as f64)
    )]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error(
        "Cannot attach {name}: it is not UTF-8 text, so it cannot be read as a text file. Save it as UTF-8 and attach it again."
    )]
    NotText { name: String },
    #[error("Cannot attach {name}: the browser could not read it ({detail}). Choose it again.")]
    Unreadable { name: String, detail: String },
}

/// Extensions of text files, matched when the type says nothing useful.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "xml",
    "html",
    "htm",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "log",
    "rs",
    "py",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "java",
    "kt",
    "kts",
    "scala",
    "c",
    "h",
    "cpp",
    "hpp",
    "cc",
    "cxx",
    "cs",
    "rb",
    "php",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "sql",
    "swift",
    "css",
    "scss",
    "sass",
    "less",
    "r",
    "lua",
    "pl",
    "pm",
    "hs",
    "ex",
    "exs",
    "erl",
    "clj",
    "dart",
    "vue",
    "svelte",
    "tex",
    "bib",
    "rst",
    "adoc",
    "org",
    "diff",
    "patch",
    "graphql",
    "proto",
    "dockerfile",
    "makefile",
    "gitignore",
];

/// Types of text outside `text/*`.
const TEXT_TYPES: &[&str] = &[
    "application/json",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/javascript",
    "application/x-javascript",
    "application/typescript",
    "application/x-sh",
    "application/x-shellscript",
    "application/sql",
    "application/x-ndjson",
    "application/ld+json",
    "application/x-httpd-php",
];

/// The type without parameters, lowercase (`Text/CSV; charset=utf-8` →
/// `text/csv`).
fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The extension of `name`, lowercase (`Makefile` counts as `makefile`).
fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => base.to_ascii_lowercase(),
    }
}

/// The image type for a type or an extension, spelled canonically.
fn image_type(mime: &str, ext: &str) -> Option<&'static str> {
    match (mime, ext) {
        ("image/png", _) => Some("image/png"),
        ("image/jpeg" | "image/jpg" | "image/pjpeg", _) => Some("image/jpeg"),
        ("image/webp", _) => Some("image/webp"),
        ("image/gif", _) => Some("image/gif"),
        ("" | "application/octet-stream", "png") => Some("image/png"),
        ("" | "application/octet-stream", "jpg" | "jpeg") => Some("image/jpeg"),
        ("" | "application/octet-stream", "webp") => Some("image/webp"),
        ("" | "application/octet-stream", "gif") => Some("image/gif"),
        _ => None,
    }
}

fn is_text_type(mime: &str) -> bool {
    mime.starts_with("text/")
        || TEXT_TYPES.contains(&mime)
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
}

/// What `name`, given as `mime` by the browser, is; or why it cannot be
/// attached.
pub fn classify(name: &str, mime: &str) -> Result<AttachmentKind, AttachError> {
    let (mime, ext) = (essence(mime), extension(name));
    if image_type(&mime, &ext).is_some() {
        Ok(AttachmentKind::Image)
    } else if mime == "application/pdf" || ext == "pdf" {
        Ok(AttachmentKind::Pdf)
    } else if TEXT_EXTENSIONS.contains(&ext.as_str()) || is_text_type(&mime) {
        Ok(AttachmentKind::Text)
    } else {
        Err(AttachError::Unsupported {
            name: name.to_owned(),
            mime: if mime.is_empty() {
                "unknown type".to_owned()
            } else {
                mime
            },
        })
    }
}

/// The type a reference stores for `name` given as `given`: the browser's
/// when it says something, else one from the extension (a `.csv` with ""
/// is `text/csv`, a `.rs` is `text/plain`).
pub fn normalized_mime(name: &str, given: &str) -> String {
    let (mime, ext) = (essence(given), extension(name));
    if let Some(image) = image_type(&mime, &ext) {
        return image.to_owned();
    }
    if mime == "application/pdf" || ext == "pdf" {
        return "application/pdf".to_owned();
    }
    if is_text_type(&mime) {
        return mime;
    }
    let by_extension = match ext.as_str() {
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        ext if TEXT_EXTENSIONS.contains(&ext) => "text/plain",
        _ if mime.is_empty() => "application/octet-stream",
        _ => return mime,
    };
    by_extension.to_owned()
}

/// The largest file of `kind` taken.
pub fn limit(kind: AttachmentKind) -> u64 {
    match kind {
        AttachmentKind::Image => MAX_IMAGE_BYTES,
        AttachmentKind::Text | AttachmentKind::Pdf => MAX_FILE_BYTES,
    }
}

/// Refuses a file over its kind's limit (checked before an image is even
/// decoded).
pub fn check_size(name: &str, kind: AttachmentKind, size: u64) -> Result<(), AttachError> {
    let limit = limit(kind);
    if size > limit {
        return Err(AttachError::TooLarge {
            name: name.to_owned(),
            size,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttachmentKind::*;

    #[test]
    fn kinds_come_from_the_type_or_the_extension() {
        for (name, mime, kind) in [
            ("shot.png", "image/png", Image),
            ("photo.JPG", "", Image),
            ("photo", "image/jpg", Image),
            ("anim.gif", "application/octet-stream", Image),
            ("paper.pdf", "", Pdf),
            ("paper", "application/pdf", Pdf),
            ("data.csv", "", Text),
            ("data.csv", "application/vnd.ms-excel", Text),
            ("main.rs", "application/octet-stream", Text),
            ("index.ts", "video/mp2t", Text),
            ("Makefile", "", Text),
            ("notes", "text/plain; charset=utf-8", Text),
            ("x", "application/geo+json", Text),
        ] {
            assert_eq!(classify(name, mime), Ok(kind), "{name} {mime}");
        }
    }

    #[test]
    fn anything_else_is_refused_by_name_and_type() {
        let error = classify(
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Cannot attach report.docx (application/vnd.openxmlformats-officedocument.wordprocessingml.document): \
             Confab takes images (PNG, JPEG, WebP, GIF), text files and PDFs."
        );
        assert!(
            classify("a.bin", "")
                .unwrap_err()
                .to_string()
                .contains("(unknown type)")
        );
        assert!(classify("clip.mp4", "video/mp4").is_err());
        assert!(classify("icon.bmp", "image/bmp").is_err());
    }

    #[test]
    fn the_stored_type_is_canonical() {
        for (name, given, stored) in [
            ("data.csv", "", "text/csv"),
            (
                "data.tsv",
                "application/octet-stream",
                "text/tab-separated-values",
            ),
            ("main.rs", "", "text/plain"),
            ("index.ts", "video/mp2t", "text/plain"),
            ("README.md", "", "text/markdown"),
            ("x.json", "", "application/json"),
            ("a.txt", "Text/Plain; charset=UTF-8", "text/plain"),
            ("p.jpeg", "image/jpg", "image/jpeg"),
            ("p.jpeg", "", "image/jpeg"),
            ("doc", "application/pdf", "application/pdf"),
            ("what", "", "application/octet-stream"),
        ] {
            assert_eq!(normalized_mime(name, given), stored, "{name} {given}");
        }
    }

    #[test]
    fn sizes_over_the_limit_are_refused_with_both_figures() {
        assert_eq!(check_size("a.png", Image, MAX_IMAGE_BYTES), Ok(()));
        let error = check_size("big.pdf", Pdf, 12 << 20).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Cannot attach big.pdf: it is 12.0 MB, and files of its kind can be at most 10.0 MB."
        );
        assert!(check_size("a.txt", Text, MAX_FILE_BYTES + 1).is_err());
    }
}
