//! `gallery.json`: the data the static website renders, rewritten after every catalog insert.
//!
//! The website is plain files in the output bucket (S3 website endpoint, CloudFront, or
//! `photopipe serve`), with no server-side code and no database access, so the catalog step
//! publishes what it needs as one JSON document next to `index.html`:
//!
//! ```json
//! {"generated_at": "2024-05-01T12:00:00Z",
//!  "photos": [{"file_name": "IMG 1.jpg", "thumbnail": "thumbnails/IMG_1.jpg-0123456789abcdef.jpg",
//!              "upload_date": "2024-05-01", "upload_time": "11:59:58",
//!              "original_size": 2345678, "thumbnail_size": 12345, "width": 256, "height": 192}]}
//! ```
//!
//! `photos` is newest first; `thumbnail` is a URL path relative to the site root; `width` and
//! `height` are the thumbnail's, so the page can reserve space before it loads. `file_name`
//! is the user's text: the website must escape it.

use crate::keys;
use crate::model::CatalogRow;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gallery {
    /// RFC 3339 UTC.
    pub generated_at: String,
    pub photos: Vec<Photo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub file_name: String,
    pub thumbnail: String,
    pub upload_date: String,
    pub upload_time: String,
    pub original_size: u64,
    pub thumbnail_size: u64,
    pub width: u32,
    pub height: u32,
}

/// The gallery of `rows` (already newest first). Rows whose thumbnail key is not a safe
/// URL path are left out rather than linked.
pub fn build(rows: Vec<CatalogRow>, generated_at: String) -> Gallery {
    let photos = rows
        .into_iter()
        .filter(|row| keys::is_url_safe(&row.thumbnail_key))
        .map(|row| Photo {
            file_name: row.file_name,
            thumbnail: row.thumbnail_key,
            upload_date: row.upload_date,
            upload_time: row.upload_time,
            original_size: row.original_size,
            thumbnail_size: row.thumbnail_size,
            width: row.thumbnail_width,
            height: row.thumbnail_height,
        })
        .collect();
    Gallery {
        generated_at,
        photos,
    }
}
