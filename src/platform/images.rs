//! Images made small enough to store and send: decoded by the browser
//! (`createImageBitmap`, off the main thread where it can), scaled to a long
//! side of at most 2048 px on an `OffscreenCanvas`, and encoded again
//! (`convertToBlob`, asynchronous), lowering quality and then size step by
//! step until the result is under the target.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The longest side an image is sent with (vision models scale larger
/// images down themselves; the bytes would be wasted).
pub const MAX_SIDE: u32 = 2048;

/// What a stored and sent image should weigh at most.
pub const TARGET_BYTES: f64 = 1.5 * 1024.0 * 1024.0;

/// Encoder qualities tried in turn, then the same again at a smaller size.
const QUALITIES: [f64; 3] = [0.85, 0.72, 0.6];

/// An image ready to store: its bytes as a `Blob`, type and pixel size.
pub struct Downscaled {
    pub blob: web_sys::Blob,
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
}

fn js_error(error: wasm_bindgen::JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| {
            error
                .dyn_ref::<web_sys::DomException>()
                .map(|e| e.message())
        })
        .unwrap_or_else(|| format!("{error:?}"))
}

/// `width × height` scaled so that neither side exceeds `max`.
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max {
        return (width, height);
    }
    let scale = |side: u32| ((u64::from(side) * u64::from(max)) / u64::from(long)).max(1) as u32;
    (scale(width), scale(height))
}

/// `image` (of type `mime`) made small enough to store and send. A GIF is
/// kept as it is (its frames would be lost), and so is any image that is
/// already small enough in pixels and bytes.
pub async fn downscale(image: &web_sys::Blob, mime: &str) -> Result<Downscaled, String> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(image)
            .map_err(js_error)?,
    )
    .await
    .map_err(|e| format!("the image could not be read: {}", js_error(e)))?
    .unchecked_into();
    let (width, height) = (bitmap.width(), bitmap.height());
    let small = width.max(height) <= MAX_SIDE && image.size() <= TARGET_BYTES;
    if mime == "image/gif" || small {
        bitmap.close();
        return Ok(Downscaled {
            blob: image.clone(),
            mime_type: mime.to_owned(),
            width,
            height,
        });
    }
    // JPEG for photos; WebP keeps the transparency a PNG or WebP may have.
    let wanted = if mime == "image/jpeg" {
        "image/jpeg"
    } else {
        "image/webp"
    };
    let mut side = MAX_SIDE.min(width.max(height));
    let mut best: Option<Downscaled> = None;
    for _ in 0..3 {
        let (w, h) = fit(width, height, side);
        let canvas = web_sys::OffscreenCanvas::new(w, h).map_err(js_error)?;
        let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
            .get_context("2d")
            .map_err(js_error)?
            .ok_or("no 2d canvas")?
            .unchecked_into();
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w.into(), h.into())
            .map_err(js_error)?;
        for quality in QUALITIES {
            let options = web_sys::ImageEncodeOptions::new();
            options.set_type(wanted);
            options.set_quality(quality);
            let blob: web_sys::Blob = JsFuture::from(
                canvas
                    .convert_to_blob_with_options(&options)
                    .map_err(js_error)?,
            )
            .await
            .map_err(js_error)?
            .unchecked_into();
            // A browser without a WebP encoder answers with PNG.
            let mime_type = blob.type_();
            let fits = blob.size() <= TARGET_BYTES;
            let smaller = best.as_ref().is_none_or(|b| blob.size() < b.blob.size());
            if smaller {
                best = Some(Downscaled {
                    blob,
                    mime_type,
                    width: w,
                    height: h,
                });
            }
            if fits {
                bitmap.close();
                return best.ok_or_else(|| "no image".to_owned());
            }
        }
        side = side * 3 / 4;
    }
    bitmap.close();
    best.ok_or_else(|| "the image could not be encoded".to_owned())
}
