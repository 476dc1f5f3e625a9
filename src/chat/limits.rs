//! The size limits of Slack and Discord messages, and the helpers that keep text within them.
//!
//! This room owns how long a text is as the platforms count it ([`units`]: UTF-16 code units,
//! which is never less than their count), how text is cut ([`truncate`]) and packed into pieces
//! of a bounded size ([`join_within`], [`lines_within`]), and the checks that a built payload
//! keeps every limit ([`check_slack`], [`check_discord`]). The builders in `slack.rs` and
//! `discord.rs` keep the limits by construction; the checks say which limit a payload breaks, so
//! the tests (and the delivery code, before it posts) can tell.

use serde_json::Value;

/// Slack: blocks in one message.
pub const SLACK_BLOCKS: usize = 50;
/// Slack: the text of a `section` block (mrkdwn).
pub const SLACK_SECTION: usize = 3000;
/// Slack: the plain text of a `header` block.
pub const SLACK_HEADER: usize = 150;
/// Slack: elements in one `context` block.
pub const SLACK_CONTEXT_ELEMENTS: usize = 10;
/// Slack: the text of one `context` element.
pub const SLACK_CONTEXT_TEXT: usize = 3000;
/// Slack: the top-level `text`, the notification and fallback summary.
pub const SLACK_FALLBACK: usize = 3000;

/// Discord: the message `content`.
pub const DISCORD_CONTENT: usize = 2000;
/// Discord: embeds in one message.
pub const DISCORD_EMBEDS: usize = 10;
/// Discord: an embed's title.
pub const DISCORD_TITLE: usize = 256;
/// Discord: an embed's description.
pub const DISCORD_DESCRIPTION: usize = 4096;
/// Discord: fields in one embed.
pub const DISCORD_FIELDS: usize = 25;
/// Discord: a field's name.
pub const DISCORD_FIELD_NAME: usize = 256;
/// Discord: a field's value.
pub const DISCORD_FIELD_VALUE: usize = 1024;
/// Discord: an embed's footer text.
pub const DISCORD_FOOTER: usize = 2048;
/// Discord: an embed's author name.
pub const DISCORD_AUTHOR: usize = 256;
/// Discord: the sum of every embed text of one message (titles, descriptions, field names and
/// values, footers, author names).
pub const DISCORD_EMBED_TOTAL: usize = 6000;

/// The length of `s` as the platforms count it, taken conservatively: UTF-16 code units (a
/// Hangul syllable is one, an emoji outside the BMP two; never fewer than the characters).
pub fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s` cut to at most `max_units` (see [`units`]) at a character boundary, ending with `…` when
/// anything was cut. Cut plain text before escaping it, so an entity or escape is never split.
pub fn truncate(s: &str, max_units: usize) -> String {
    if units(s) <= max_units {
        return s.to_string();
    }
    let Some(room) = max_units.checked_sub(1) else {
        return String::new();
    };
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push('…');
    out
}

/// `text` escaped by `escape` and within `max_units`: the plain text is cut first (with
/// [`truncate`]), as little as needed for its escaped form to fit, so an escape or entity is
/// never split and the result always fits (it is empty only when nothing fits).
pub fn fit(text: &str, max_units: usize, escape: impl Fn(&str) -> String) -> String {
    let whole = escape(text);
    if units(&whole) <= max_units {
        return whole;
    }
    // The longest cut whose escaped form fits: cuts grow with `room`, so search it.
    let (mut lo, mut hi) = (0, max_units.min(units(text)));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if units(&escape(&truncate(text, mid))) <= max_units {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    escape(&truncate(text, lo))
}

/// `items` joined with `sep` into pieces of at most `max_units` each, the first starting with
/// `first` and the next ones with `next` (e.g. `미제출: ` and `미제출 (계속): `). An item longer
/// than a piece can hold is truncated. No piece is empty; no items give no pieces.
pub fn join_within(
    first: &str,
    next: &str,
    items: &[String],
    sep: &str,
    max_units: usize,
) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = first.to_string();
    let mut count = 0;
    for item in items {
        let sep_here = if count == 0 { "" } else { sep };
        if count > 0 && units(&current) + units(sep_here) + units(item) > max_units {
            pieces.push(std::mem::replace(&mut current, next.to_string()));
            count = 0;
        }
        let sep_here = if count == 0 { "" } else { sep };
        let room = max_units.saturating_sub(units(&current) + units(sep_here));
        current.push_str(sep_here);
        current.push_str(&truncate(item, room));
        count += 1;
    }
    if count > 0 {
        pieces.push(current);
    }
    pieces
}

/// `lines` joined with newlines into pieces of at most `max_units` each, keeping lines whole
/// (a line longer than a piece is truncated). No lines give no pieces.
pub fn lines_within(lines: &[String], max_units: usize) -> Vec<String> {
    join_within("", "", lines, "\n", max_units)
}

/// A link target for a platform's link syntax: only an http(s) address, with each character of
/// `encode` (those that would end the platform's link early), spaces and control characters
/// percent-encoded or dropped; `None` for any other address or one longer than `max_units`.
pub fn http_target(url: &str, encode: &[(char, &str)], max_units: usize) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if let Some((_, with)) = encode.iter().find(|(e, _)| *e == c) {
            out.push_str(with);
        } else if c == ' ' {
            out.push_str("%20");
        } else if !c.is_control() {
            out.push(c);
        }
    }
    (units(&out) <= max_units).then_some(out)
}

/// Whether a Slack payload (a webhook message or a `chat.postMessage` body) keeps every limit:
/// the fallback `text`, the number of blocks, and each block's text. `Err` names the limit.
pub fn check_slack(payload: &Value) -> Result<(), String> {
    let text = payload
        .get("text")
        .and_then(Value::as_str)
        .ok_or("the fallback `text` is missing")?;
    within("the fallback `text`", text, SLACK_FALLBACK)?;
    let Some(blocks) = payload.get("blocks") else {
        return Ok(());
    };
    let blocks = blocks.as_array().ok_or("`blocks` is not an array")?;
    if blocks.len() > SLACK_BLOCKS {
        return Err(format!(
            "{} blocks, more than {SLACK_BLOCKS} in one message",
            blocks.len()
        ));
    }
    for (i, block) in blocks.iter().enumerate() {
        check_slack_block(block).map_err(|e| format!("block {i}: {e}"))?;
    }
    Ok(())
}

/// One Slack block: its type known to us, its texts present, non-empty and within bounds.
fn check_slack_block(block: &Value) -> Result<(), String> {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "header" => {
            let text = block.get("text").ok_or("header without text")?;
            if text.get("type").and_then(Value::as_str) != Some("plain_text") {
                return Err("a header's text must be plain_text".to_string());
            }
            text_within("header text", text, SLACK_HEADER)
        }
        "section" => {
            let text = block.get("text").ok_or("section without text")?;
            text_within("section text", text, SLACK_SECTION)
        }
        "context" => {
            let elements = block
                .get("elements")
                .and_then(Value::as_array)
                .ok_or("context without elements")?;
            if elements.is_empty() || elements.len() > SLACK_CONTEXT_ELEMENTS {
                return Err(format!(
                    "context with {} elements (1 to {SLACK_CONTEXT_ELEMENTS})",
                    elements.len()
                ));
            }
            elements
                .iter()
                .try_for_each(|e| text_within("context element", e, SLACK_CONTEXT_TEXT))
        }
        "divider" => Ok(()),
        other => Err(format!("unexpected block type {other:?}")),
    }
}

/// A Slack text object's `text`: present, non-empty (Slack refuses empty texts), within `max`.
fn text_within(what: &str, object: &Value, max: usize) -> Result<(), String> {
    let text = object
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what} is missing"))?;
    if text.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    within(what, text, max)
}

/// `Err` naming `what` when `text` is longer than `max` units.
fn within(what: &str, text: &str, max: usize) -> Result<(), String> {
    let n = units(text);
    if n > max {
        return Err(format!("{what} is {n} units long, more than {max}"));
    }
    Ok(())
}

/// Whether a Discord webhook payload keeps every limit: `content`, the number of embeds, each
/// embed's title, description, fields, footer and author, and the sum of the embed texts. It
/// also refuses a payload that is empty or lets Discord parse mentions (`allowed_mentions`
/// must be `{"parse": []}`), as every payload we build must. `Err` names what is wrong.
pub fn check_discord(payload: &Value) -> Result<(), String> {
    let parse = payload
        .pointer("/allowed_mentions/parse")
        .and_then(Value::as_array);
    if parse.is_none_or(|p| !p.is_empty()) {
        return Err("`allowed_mentions` must be {\"parse\": []}".to_string());
    }
    let content = payload.get("content").and_then(Value::as_str).unwrap_or("");
    within("content", content, DISCORD_CONTENT)?;
    let embeds: &[Value] = match payload.get("embeds") {
        None => &[],
        Some(e) => e.as_array().ok_or("`embeds` is not an array")?,
    };
    if content.trim().is_empty() && embeds.is_empty() {
        return Err("an empty message (no content, no embeds)".to_string());
    }
    if embeds.len() > DISCORD_EMBEDS {
        return Err(format!(
            "{} embeds, more than {DISCORD_EMBEDS} in one message",
            embeds.len()
        ));
    }
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        total += check_embed(embed).map_err(|e| format!("embed {i}: {e}"))?;
    }
    if total > DISCORD_EMBED_TOTAL {
        return Err(format!(
            "the embeds hold {total} units of text, more than {DISCORD_EMBED_TOTAL} in one message"
        ));
    }
    Ok(())
}

/// One Discord embed within its limits; its text units, for the message's sum.
fn check_embed(embed: &Value) -> Result<usize, String> {
    let text = |pointer: &str| embed.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let mut total = 0;
    for (what, pointer, max) in [
        ("title", "/title", DISCORD_TITLE),
        ("description", "/description", DISCORD_DESCRIPTION),
        ("footer", "/footer/text", DISCORD_FOOTER),
        ("author name", "/author/name", DISCORD_AUTHOR),
    ] {
        within(what, text(pointer), max)?;
        total += units(text(pointer));
    }
    let fields: &[Value] = match embed.get("fields") {
        None => &[],
        Some(f) => f.as_array().ok_or("`fields` is not an array")?,
    };
    if fields.len() > DISCORD_FIELDS {
        return Err(format!(
            "{} fields, more than {DISCORD_FIELDS}",
            fields.len()
        ));
    }
    for field in fields {
        let name = field.get("name").and_then(Value::as_str).unwrap_or("");
        let value = field.get("value").and_then(Value::as_str).unwrap_or("");
        if name.trim().is_empty() || value.trim().is_empty() {
            return Err("a field without a name or a value".to_string());
        }
        within("field name", name, DISCORD_FIELD_NAME)?;
        within("field value", value, DISCORD_FIELD_VALUE)?;
        total += units(name) + units(value);
    }
    if total == 0 {
        return Err("an embed without any text".to_string());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units_count_utf16_so_emoji_weigh_two() {
        assert_eq!(units("abc"), 3);
        assert_eq!(units("글또"), 2);
        assert_eq!(units("✍️"), 2);
        assert_eq!(units("😀"), 2);
    }

    #[test]
    fn truncate_cuts_at_a_char_boundary_and_marks_the_cut() {
        assert_eq!(truncate("글또 10기", 10), "글또 10기");
        assert_eq!(truncate("가나다라마바사", 4), "가나다…");
        assert_eq!(units(&truncate("가나다라마바사", 4)), 4);
        // An emoji of two units is not split in half.
        assert_eq!(truncate("ab😀cd", 4), "ab…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("abc", 1), "…");
        // The cut does not leave a space before the ellipsis.
        assert_eq!(truncate("ab cdef", 4), "ab…");
    }

    #[test]
    fn fit_cuts_before_escaping_so_no_entity_is_split() {
        let amp = |s: &str| s.replace('&', "&amp;");
        let out = fit("a&b&c&d", 9, amp);
        assert!(units(&out) <= 9, "{out}");
        assert_eq!(out, "a&amp;b…");
        assert_eq!(fit("a&b", 9, amp), "a&amp;b");
    }

    #[test]
    fn join_within_keeps_every_item_once_and_every_piece_short() {
        let names: Vec<String> = (0..500).map(|i| format!("회원{i:03}")).collect();
        let pieces = join_within("미제출: ", "미제출 (계속): ", &names, ", ", 300);
        assert!(pieces.len() > 5, "{}", pieces.len());
        assert!(pieces.iter().all(|p| units(p) <= 300));
        assert!(pieces[0].starts_with("미제출: 회원000, "));
        assert!(pieces[1].starts_with("미제출 (계속): "));
        let back: Vec<&str> = pieces
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let prefix = if i == 0 {
                    "미제출: "
                } else {
                    "미제출 (계속): "
                };
                p.strip_prefix(prefix).unwrap_or("").split(", ")
            })
            .collect();
        assert_eq!(back, names.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(join_within("a: ", "b: ", &[], ", ", 10).is_empty());
    }

    #[test]
    fn lines_within_truncates_only_a_line_that_cannot_fit_alone() {
        let lines = vec!["a".repeat(5), "b".repeat(20), "c".repeat(3)];
        let pieces = lines_within(&lines, 10);
        assert_eq!(pieces, vec!["aaaaa", "bbbbbbbbb…", "ccc"]);
    }

    #[test]
    fn check_slack_names_the_limit_broken() {
        let ok = json!({"text": "요약", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "제목"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "본문"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "작게"}]},
        ]});
        assert_eq!(check_slack(&ok), Ok(()));
        let long_header = json!({"text": "x", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "가".repeat(151)}}]});
        assert!(check_slack(&long_header)
            .unwrap_err()
            .contains("header text"));
        let long_section = json!({"text": "x", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "a".repeat(3001)}}]});
        assert!(check_slack(&long_section)
            .unwrap_err()
            .contains("section text is 3001"));
        let block = json!({"type": "divider"});
        let many = json!({"text": "x", "blocks": vec![block; 51]});
        assert!(check_slack(&many).unwrap_err().contains("51 blocks"));
        let no_text = json!({"blocks": []});
        assert!(check_slack(&no_text).unwrap_err().contains("fallback"));
        let empty = json!({"text": "x", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": " "}}]});
        assert!(check_slack(&empty).unwrap_err().contains("empty"));
        let element = json!({"type": "mrkdwn", "text": "a"});
        let wide = json!({"text": "x", "blocks": [
            {"type": "context", "elements": vec![element; 11]}]});
        assert!(check_slack(&wide).unwrap_err().contains("11 elements"));
    }

    #[test]
    fn check_discord_names_the_limit_broken() {
        let none = json!({"parse": []});
        let ok = json!({"content": "안녕", "embeds": [{"title": "t", "description": "d"}],
            "allowed_mentions": none});
        assert_eq!(check_discord(&ok), Ok(()));
        let pings = json!({"content": "안녕", "allowed_mentions": {"parse": ["everyone"]}});
        assert!(check_discord(&pings)
            .unwrap_err()
            .contains("allowed_mentions"));
        let unset = json!({"content": "안녕"});
        assert!(check_discord(&unset).is_err());
        let long = json!({"content": "a".repeat(2001), "allowed_mentions": none});
        assert!(check_discord(&long).unwrap_err().contains("content"));
        let embed = json!({"description": "d".repeat(1000)});
        let eleven = json!({"embeds": vec![embed.clone(); 11], "allowed_mentions": none});
        assert!(check_discord(&eleven).unwrap_err().contains("11 embeds"));
        let seven = json!({"embeds": vec![embed; 7], "allowed_mentions": none});
        assert!(check_discord(&seven).unwrap_err().contains("7000 units"));
        let title = json!({"embeds": [{"title": "t".repeat(257)}], "allowed_mentions": none});
        assert!(check_discord(&title).unwrap_err().contains("title"));
        let field = json!({"embeds": [{"fields": [{"name": "n", "value": "v".repeat(1025)}]}],
            "allowed_mentions": none});
        assert!(check_discord(&field).unwrap_err().contains("field value"));
        let empty = json!({"content": "", "allowed_mentions": none});
        assert!(check_discord(&empty).unwrap_err().contains("empty"));
    }
}
