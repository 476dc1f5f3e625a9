//! Choosing the encoding and decoding once: a byte-order mark wins, then the HTTP `charset`,
//! then the XML prolog's `encoding`, then UTF-8 — with the Korean aliases encoding_rs lacks
//! (`cp949`, `ks_c_5601`, …), and a fallback to another candidate when the declared charset
//! does not fit the bytes. A document that declares nothing and is not UTF-8 has its encoding
//! detected (Mozilla's `chardetng`, made for unlabelled legacy web content: windows-1252,
//! Shift_JIS, EUC-JP, GBK, KOI8-R, EUC-KR …), and UTF-16 without a byte-order mark is told by
//! its first `<`. What the decoding had to overrule or detect is said among the repairs.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// Maps a charset label to an encoding, including the Korean aliases encoding_rs lacks.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let l = label
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    match l.as_str() {
        "cp949" | "ms949" | "uhc" | "x-windows-949" | "ks_c_5601" | "ksc5601" | "ksc_5601"
        | "euckr" => Some(encoding_rs::EUC_KR),
        _ => Encoding::for_label(l.as_bytes()),
    }
}

/// An HTML page's text: the HTTP `charset`, else a `<meta charset>` (or `http-equiv`) in the
/// first 2 KiB, else UTF-8. Bytes that do not fit become U+FFFD; a page is never refused.
pub fn decode_html(body: &[u8], http_charset: Option<&str>) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    let meta = head.find("charset=").map(|i| {
        head[i + 8..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .collect::<String>()
    });
    let encoding = http_charset
        .and_then(encoding_for_label)
        .or_else(|| meta.as_deref().and_then(encoding_for_label))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

/// The `charset` parameter of a Content-Type header.
pub fn charset_of_content_type(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

fn prolog_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(512)];
    let start = head.windows(5).position(|w| w == b"<?xml")?;
    let end = head[start..].windows(2).position(|w| w == b"?>")? + start;
    let decl = std::str::from_utf8(&head[start..end]).ok()?;
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = &rest[1..];
    rest.find(quote).map(|e| &rest[..e])
}

/// Decodes once: BOM, then HTTP charset, then the prolog, then UTF-8; falls back to the other
/// candidate when the chosen one produces malformed sequences and the other does not. A body
/// that is the UTF-8 it says it is becomes the text without a copy (and is validated once, by
/// encoding_rs's vectorised check).
pub(super) fn decode<'a>(
    bytes: &'a [u8],
    http_charset: Option<&str>,
    repairs: &mut Vec<String>,
) -> (Cow<'a, str>, &'static Encoding) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, enc);
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        repairs.push(format!(
            "no byte-order mark, but the document starts with '<' in {}: decoded as such",
            enc.name()
        ));
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return (text, enc);
    }
    let http = http_charset.and_then(encoding_for_label);
    let prolog = prolog_encoding(bytes).and_then(encoding_for_label);
    // UTF-16 declared without a BOM in an ASCII-readable prolog is a lie: read as UTF-8.
    let declared = http
        .or(prolog)
        .map(|e| {
            if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
                encoding_rs::UTF_8
            } else {
                e
            }
        })
        .unwrap_or(encoding_rs::UTF_8);
    // A single-byte charset decodes any bytes without error; when the bytes are valid UTF-8 with
    // non-ASCII text in them, the declaration is the usual server default, not the truth.
    let single_byte = declared.is_single_byte() && declared != encoding_rs::UTF_8;
    if single_byte && !bytes.is_ascii() && Encoding::utf8_valid_up_to(bytes) == bytes.len() {
        repairs.push(format!(
            "declared charset {} does not fit the bytes; decoded as UTF-8",
            declared.name()
        ));
        let (text, _) = encoding_rs::UTF_8.decode_without_bom_handling(bytes);
        return (text, encoding_rs::UTF_8);
    }
    let (text, had_errors) = declared.decode_without_bom_handling(bytes);
    if !had_errors {
        return (text, declared);
    }
    let (text, enc) = overrule(bytes, declared, http, prolog, repairs);
    (Cow::Owned(text), enc)
}

/// The bytes do not fit the `declared` charset: with nothing declared, the detected encoding;
/// else the first candidate that fits (the prolog's, the HTTP one, UTF-8, the detected one,
/// EUC-KR), or the declared one with U+FFFD where nothing fits.
fn overrule(
    bytes: &[u8],
    declared: &'static Encoding,
    http: Option<&'static Encoding>,
    prolog: Option<&'static Encoding>,
    repairs: &mut Vec<String>,
) -> (String, &'static Encoding) {
    let detected = detect(bytes);
    if http.is_none() && prolog.is_none() {
        repairs.push(format!(
            "no charset was declared and the bytes are not UTF-8: detected {}",
            detected.name()
        ));
        let (text, _) = detected.decode_without_bom_handling(bytes);
        return (text.into_owned(), detected);
    }
    // The declared charset is wrong: try the other candidates, UTF-8, the detected one, EUC-KR.
    for alt in [
        prolog,
        http,
        Some(encoding_rs::UTF_8),
        Some(detected),
        Some(encoding_rs::EUC_KR),
    ]
    .into_iter()
    .flatten()
    {
        if alt == declared {
            continue;
        }
        let (t, errs) = alt.decode_without_bom_handling(bytes);
        if !errs {
            repairs.push(format!(
                "declared charset {} does not fit the bytes; decoded as {}",
                declared.name(),
                alt.name()
            ));
            return (t.into_owned(), alt);
        }
    }
    repairs.push(format!(
        "invalid {} byte sequences replaced with U+FFFD",
        declared.name()
    ));
    let (text, _) = declared.decode_without_bom_handling(bytes);
    (text.into_owned(), declared)
}

/// UTF-16 without a byte-order mark, told by the document's first character, `<`, written in
/// two bytes with a NUL (`3C 00` little-endian, `00 3C` big-endian).
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<', 0, b, 0, ..] if *b != 0 => Some(encoding_rs::UTF_16LE),
        [0, b'<', 0, b, ..] if *b != 0 => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
}

/// The encoding the bytes are most likely in, UTF-8 aside (they are known not to be UTF-8).
/// The club is Korean: bytes that read cleanly as EUC-KR, nearly all of their non-ASCII text
/// Hangul syllables, are EUC-KR even when there are too few of them for the detector to be
/// sure (two bytes, `가`, look like Latin-2 to it); anything else is the detector's call.
fn detect(bytes: &[u8]) -> &'static Encoding {
    if reads_as_korean(bytes) {
        return encoding_rs::EUC_KR;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// Do the bytes decode as EUC-KR without error, with at least 90% of the non-ASCII characters
/// Hangul syllables?
fn reads_as_korean(bytes: &[u8]) -> bool {
    let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(bytes);
    if had_errors {
        return false;
    }
    let (mut hangul, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if ('\u{ac00}'..='\u{d7a3}').contains(&c) {
            hangul += 1;
        } else {
            other += 1;
        }
    }
    hangul > 0 && hangul >= 9 * other
}

#[cfg(test)]
mod tests {
    use crate::parse::parse;
    use chrono_tz::Asia::Seoul;

    #[test]
    fn euc_kr_declared_in_prolog_is_decoded_once() {
        let body = "<?xml version=\"1.0\" encoding=\"CP949\"?><rss version=\"2.0\"><channel><title>혜진의 블로그</title><item><title>첫 글</title><link>https://hyejin.dev/1</link></item></channel></rss>";
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(body);
        let parsed = parse(&bytes, None, None, Seoul).unwrap();
        assert_eq!(parsed.encoding, "EUC-KR");
        assert_eq!(parsed.feed.title.unwrap().content, "혜진의 블로그");
        assert_eq!(
            parsed.feed.entries[0].title.as_ref().unwrap().content,
            "첫 글"
        );
    }

    #[test]
    fn http_charset_wins_over_a_missing_prolog_and_wrong_one_falls_back() {
        let body = "<rss version=\"2.0\"><channel><title>한글</title></channel></rss>";
        let (bytes, _, _) = encoding_rs::EUC_KR.encode(body);
        let parsed = parse(&bytes, Some("euc-kr"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글");
        // Declared EUC-KR but really UTF-8.
        let parsed = parse(body.as_bytes(), Some("ks_c_5601-1987"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글");
        assert!(
            parsed.repairs.iter().any(|r| r.contains("does not fit")),
            "{:?}",
            parsed.repairs
        );
    }

    #[test]
    fn regression_undeclared_legacy_encodings_are_detected_and_said() {
        let cases = [
            (encoding_rs::WINDOWS_1252, "Notícias: ação e opinião"),
            (
                encoding_rs::SHIFT_JIS,
                "日本語のニュース、今日の天気と明日の予定",
            ),
            (encoding_rs::GBK, "中文新闻标题：今天的天气和明天的计划安排"),
            (
                encoding_rs::EUC_KR,
                "혜진의 블로그: 첫 글과 두 번째 글의 이야기",
            ),
            (encoding_rs::KOI8_R, "Новости дня: погода и планы на завтра"),
        ];
        for (enc, title) in cases {
            let doc =
                format!("<rss version=\"2.0\"><channel><title>{title}</title></channel></rss>");
            let (bytes, _, _) = enc.encode(&doc);
            let parsed = parse(&bytes, None, None, Seoul).unwrap();
            assert_eq!(parsed.feed.title.unwrap().content, title, "{}", enc.name());
            // KOI8-U is KOI8-R with a few Ukrainian letters: Russian text reads the same.
            let same = parsed.encoding == enc.name()
                || (enc == encoding_rs::KOI8_R && parsed.encoding == "KOI8-U");
            assert!(same, "{} read as {}", enc.name(), parsed.encoding);
            assert!(
                parsed.repairs.iter().any(|r| r.contains("detected")),
                "{:?}",
                parsed.repairs
            );
        }
    }

    #[test]
    fn regression_utf16_without_a_bom_is_decoded_as_utf16() {
        let doc = "<rss version=\"2.0\"><channel><title>한글 UTF-16</title></channel></rss>";
        let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, name) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
            let parsed = parse(&bytes, None, None, Seoul).unwrap();
            assert_eq!(parsed.encoding, name);
            assert_eq!(parsed.feed.title.unwrap().content, "한글 UTF-16");
        }
    }

    #[test]
    fn a_latin_1_header_on_utf8_korean_is_overruled() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>한글 제목</title></channel></rss>";
        let parsed = parse(doc.as_bytes(), Some("iso-8859-1"), None, Seoul).unwrap();
        assert_eq!(parsed.feed.title.unwrap().content, "한글 제목");
        assert_eq!(parsed.encoding, "UTF-8");
    }
}
