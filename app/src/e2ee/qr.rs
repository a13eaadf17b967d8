//! Safety numbers as QR codes: each person's page draws a code saying whose
//! it is and the number ([`payload`], [`svg`]); the other person's page
//! reads it from their camera ([`read`]) and says whether it matches
//! theirs ([`judge`]). In the browser only this module's callers in the
//! lazily loaded part reach it (it is not cryptography: the number is
//! public; what matters is that both people see the same one).

/// What a person's code holds: `PARLEY-SN1 <their id> <the 60 digits>`,
/// all in QR's alphanumeric alphabet (digits, capitals, spaces), the most
/// compact for it.
pub fn payload(me: i64, digits: &str) -> String {
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    format!("{PREFIX} {me} {digits}")
}

const PREFIX: &str = "PARLEY-SN1";

/// What a scanned code says about the conversation's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The other person's code, with the number this page worked out.
    Matches,
    /// The other person's code, with another number: a key differs.
    Differs,
    /// The reader's own code (on another of their screens).
    Own,
    /// Someone else's code, or not a safety code at all.
    Foreign,
}

/// Reads `scanned` as `other`'s code, for `me`, whose page worked out `digits`.
pub fn judge(scanned: &str, me: i64, other: i64, digits: &str) -> Scan {
    let mut parts = scanned.trim().split(' ');
    let (Some(PREFIX), Some(whose), Some(number), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Scan::Foreign;
    };
    match whose.parse::<i64>() {
        Ok(id) if id == me => Scan::Own,
        Ok(id) if id == other && payload(other, digits) == scanned.trim() => Scan::Matches,
        Ok(id) if id == other && number.len() == 60 && number.chars().all(|c| c.is_ascii_digit()) => {
            Scan::Differs
        }
        _ => Scan::Foreign,
    }
}

/// `text` as a QR code: its width in modules, and each module (row by
/// row, `true` dark). Medium error correction: a code on a screen, filmed
/// by a camera, survives glare over part of it.
pub fn modules(text: &str) -> (usize, Vec<bool>) {
    use qrcodegen::{QrCode, QrCodeEcc};
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).expect("a safety code fits in a QR code");
    let size = code.size();
    let dark = (0..size).flat_map(|y| (0..size).map(move |x| (x, y))).map(|(x, y)| code.get_module(x, y));
    (size as usize, dark.collect())
}

/// Modules of light margin around a code, as readers expect.
const QUIET: usize = 4;

/// `text`'s QR code as SVG: a white square with the dark modules as one
/// path, scaled to whatever size it is shown at (crisp edges).
pub fn svg(text: &str) -> String {
    let (size, dark) = modules(text);
    let side = size + 2 * QUIET;
    let mut path = String::new();
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (x, y) = (i % size + QUIET, i / size + QUIET);
        path.push_str(&format!("M{x},{y}h1v1h-1z"));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

/// The text of every QR code found in a greyscale image (`luma`, row by
/// row, `width` by `height`). In the browser a part of its own, fetched
/// when a first scan starts (the reader is most of this module's size).
#[cfg_attr(feature = "hydrate", leptos::lazy)]
pub fn read(width: usize, height: usize, luma: Vec<u8>) -> Vec<String> {
    if width == 0 || height == 0 || luma.len() < width * height {
        return Vec::new();
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    image.detect_grids().iter().filter_map(|grid| grid.decode().ok()).map(|(_, text)| text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: &str = "12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890";

    /// A code drawn `scale` pixels a module, with its quiet zone, as a camera might see it.
    fn picture(text: &str, scale: usize) -> (usize, Vec<u8>) {
        let (size, dark) = modules(text);
        let side = (size + 2 * QUIET) * scale;
        let mut luma = vec![255u8; side * side];
        for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
            let (x, y) = ((i % size + QUIET) * scale, (i / size + QUIET) * scale);
            for dy in 0..scale {
                luma[(y + dy) * side + x..(y + dy) * side + x + scale].fill(40);
            }
        }
        (side, luma)
    }

    #[test]
    fn a_drawn_safety_code_is_read_back() {
        let text = payload(7, DIGITS);
        assert_eq!(text, format!("PARLEY-SN1 7 {}", DIGITS.replace(' ', "")));
        let (side, luma) = picture(&text, 5);
        assert_eq!(read(side, side, luma), vec![text]);
    }

    #[test]
    fn the_svg_draws_every_dark_module() {
        let text = payload(7, DIGITS);
        let (_, dark) = modules(&text);
        let drawn = svg(&text).matches('z').count();
        assert_eq!(drawn, dark.iter().filter(|d| **d).count());
    }

    #[test]
    fn a_scan_tells_a_match_from_another_number_ones_own_code_and_anything_else() {
        let theirs = payload(9, DIGITS);
        assert_eq!(judge(&theirs, 7, 9, DIGITS), Scan::Matches);
        let other_number = DIGITS.replacen('1', "2", 1);
        assert_eq!(judge(&theirs, 7, 9, &other_number), Scan::Differs);
        assert_eq!(judge(&payload(7, DIGITS), 7, 9, DIGITS), Scan::Own);
        assert_eq!(judge(&payload(8, DIGITS), 7, 9, DIGITS), Scan::Foreign);
        assert_eq!(judge("https://example.com", 7, 9, DIGITS), Scan::Foreign);
        assert_eq!(judge("PARLEY-SN1 9 123", 7, 9, DIGITS), Scan::Foreign);
    }
}
