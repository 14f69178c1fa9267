//! Step 1: what kind of file this is, from its first bytes. File names and extensions are
//! never consulted: a JPEG named `.png` is a JPEG, and a text file named `.jpg` is text.

use crate::{Error, Result};

/// The formats photopipe recognises. HEIF and AVIF are recognised so they get a precise
/// `unsupported_format` error rather than "not an image".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Tiff,
    Bmp,
    Heif,
    Avif,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Jpeg => "jpeg",
            InputFormat::Png => "png",
            InputFormat::Webp => "webp",
            InputFormat::Gif => "gif",
            InputFormat::Tiff => "tiff",
            InputFormat::Bmp => "bmp",
            InputFormat::Heif => "heif",
            InputFormat::Avif => "avif",
        }
    }
}

impl std::fmt::Display for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies the format from magic bytes. Needs at most the first 32 bytes.
pub fn sniff(head: &[u8]) -> Result<InputFormat> {
    if head.is_empty() {
        return Err(Error::empty());
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    let format = if starts(&[0xFF, 0xD8, 0xFF]) {
        InputFormat::Jpeg
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        InputFormat::Png
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        InputFormat::Webp
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        InputFormat::Gif
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        InputFormat::Tiff
    } else if starts(b"BM") && head.len() >= 18 {
        InputFormat::Bmp
    } else if let Some(format) = iso_bmff_brand(head) {
        format
    } else {
        return Err(Error::unsupported(format!(
            "not an image: the content starts with {} (JPEG, PNG, WebP, GIF, TIFF and BMP are read)",
            describe_start(head)
        )));
    };
    Ok(format)
}

/// HEIF and AVIF are ISO-BMFF files whose `ftyp` box names the brand.
fn iso_bmff_brand(head: &[u8]) -> Option<InputFormat> {
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return None;
    }
    match &head[8..12] {
        b"avif" | b"avis" => Some(InputFormat::Avif),
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
            Some(InputFormat::Heif)
        }
        _ => None,
    }
}

/// A short, safe description of unknown content for error messages.
fn describe_start(head: &[u8]) -> String {
    let sample = &head[..head.len().min(8)];
    if sample
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || b.is_ascii_whitespace())
    {
        let text: String = sample.iter().map(|&b| b as char).collect();
        format!("text {:?}", text.trim_end())
    } else {
        let hex: Vec<String> = sample.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}
