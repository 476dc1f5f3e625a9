//! Discord messages: the weekly digest and the reminders as webhook payloads (content and
//! embeds).
//!
//! This room owns what the club reads in Discord: [`digest`] turns the digest model into
//! webhook payloads (one embed per team, more messages when the week is long), [`reminder`]
//! names the members still pending (by name: the roster has no Discord ids) and [`tally`] gives
//! the operators' count. Text from a feed or the roster is made one line, cut to a bounded
//! length and [`escape`]d, so it can form no markdown, masked link or mention; on top of that
//! every payload carries `allowed_mentions: {"parse": []}`, so Discord pings nobody whatever
//! the text says. Each payload keeps Discord's limits by construction (see `limits.rs`).
//! Nothing here does I/O.

use serde_json::{json, Value};

use super::limits::{self, units};
use super::slack::name_lists;
use crate::normalise::one_line;
use crate::render::digest::Digest;
use crate::render::remind::{Reminder, Tally};
use crate::render::view::{PostView, RoundView, TeamView};

/// A post title, in units before escaping.
const TITLE_UNITS: usize = 200;
/// A member's or a team's name.
const NAME_UNITS: usize = 80;
/// A feed address, an error, a reason.
const DETAIL_UNITS: usize = 300;
/// A link longer than this is shown as text only (a line must fit any embed).
const URL_UNITS: usize = 1000;
/// A line of names, well under a description.
const LINE_UNITS: usize = 1000;
/// The longest line an embed is given: with a title and the footer it fits a fresh message.
const LINE_MAX: usize = 2000;
/// What the email says of a week without posts.
const EMPTY_WEEK: &str =
    "이번 주에는 새 글이 없었어요. 쉬어 가는 주도 필요하죠. 다음 주에 만나요! ✍️";

/// Escapes text for Discord markdown and defuses mentions: a backslash before `\ * _ ~ `` ` ``
/// | > < # - [ ] ( )` (so no emphasis, spoiler, quote, heading, list, masked link or
/// `<@…>`/`<#…>`/`<@&…>` mention can form), before the `:` of `://` (no bare link), before a
/// `+` or the `.` of `1.` that would open a list at the start of a line, and a zero-width
/// space (U+200B) after the `@` of `@everyone` and `@here`.
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    for (i, &c) in chars.iter().enumerate() {
        let rest = &chars[i + 1..];
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            ':' if rest.starts_with(&['/', '/']) => out.push_str("\\:"),
            '+' if line_start => out.push_str("\\+"),
            '.' if opens_ordered_list(&chars[..i]) => out.push_str("\\."),
            '@' if starts_with_ignore_case(rest, "everyone")
                || starts_with_ignore_case(rest, "here") =>
            {
                out.push('@');
                out.push('\u{200B}');
            }
            c => out.push(c),
        }
        line_start = c == '\n' || (line_start && c == ' ');
    }
    out
}

/// Whether `before` is a line's start followed by digits only (so a `.` now opens `1. `).
fn opens_ordered_list(before: &[char]) -> bool {
    let line = match before.iter().rposition(|&c| c == '\n') {
        Some(p) => &before[p + 1..],
        None => before,
    };
    let digits: Vec<&char> = line.iter().skip_while(|c| **c == ' ').collect();
    !digits.is_empty() && digits.iter().all(|c| c.is_ascii_digit())
}

/// Whether `chars` starts with the ASCII word `word`, in any case.
fn starts_with_ignore_case(chars: &[char], word: &str) -> bool {
    chars.len() >= word.len()
        && chars
            .iter()
            .zip(word.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

/// Text from outside (a feed, the roster) as Discord shows it: one line, at most `max` units
/// before escaping, escaped.
fn clean(text: &str, max: usize) -> String {
    limits::fit(&one_line(text), max, escape)
}

/// A masked link's target: only an http(s) address, with `(`, `)`, spaces, `<` and `>`
/// percent-encoded so the link cannot end early; `None` otherwise or when too long.
fn link_target(url: &str) -> Option<String> {
    let encode = [('(', "%28"), (')', "%29"), ('<', "%3C"), ('>', "%3E")];
    limits::http_target(url, &encode, URL_UNITS)
}

/// An embed to be: its title, the title it takes when continued in another embed, and its
/// description's lines (each far shorter than a description).
struct Section {
    title: String,
    cont: String,
    lines: Vec<String>,
}

/// One embed being filled.
struct Embed {
    title: String,
    lines: Vec<String>,
    /// Units of the title and the description so far.
    units: usize,
}

impl Embed {
    fn description(&self) -> String {
        self.lines.join("\n")
    }
}

/// Fills messages with embeds line by line, in order, within every limit: at most
/// [`limits::DISCORD_EMBEDS`] embeds and `budget` units of embed text per message (the footer
/// is reserved), a description within [`limits::DISCORD_DESCRIPTION`].
struct Packer {
    messages: Vec<Vec<Embed>>,
    embeds: Vec<Embed>,
    total: usize,
    budget: usize,
}

impl Packer {
    fn new(footer: &str) -> Packer {
        Packer {
            messages: Vec::new(),
            embeds: Vec::new(),
            total: 0,
            budget: limits::DISCORD_EMBED_TOTAL - units(footer),
        }
    }

    /// Opens an embed titled `title` able to take a line of `first` units, in a new message if
    /// this one is full.
    fn open(&mut self, title: String, first: usize) {
        let need = units(&title) + first;
        if self.embeds.len() == limits::DISCORD_EMBEDS || self.total + need > self.budget {
            self.flush();
        }
        self.total += units(&title);
        let u = units(&title);
        self.embeds.push(Embed {
            title,
            lines: Vec::new(),
            units: u,
        });
    }

    /// Adds a line to the last embed when it fits there and in the message.
    fn try_push(&mut self, line: &str) -> bool {
        let Some(embed) = self.embeds.last_mut() else {
            return false;
        };
        let sep = usize::from(!embed.lines.is_empty());
        let n = units(line) + sep;
        let description = embed.units - units(&embed.title);
        if description + n > limits::DISCORD_DESCRIPTION || self.total + n > self.budget {
            return false;
        }
        embed.lines.push(line.to_string());
        embed.units += n;
        self.total += n;
        true
    }

    /// Adds a section's embed, continued in more embeds (and messages) as its lines need. A
    /// line is at most [`LINE_MAX`] units, so it always fits a fresh embed.
    fn add(&mut self, section: Section) {
        let lines: Vec<String> = section
            .lines
            .iter()
            .map(|l| limits::truncate(l, LINE_MAX))
            .collect();
        self.open(section.title, lines.first().map_or(0, |l| units(l)));
        for line in lines {
            if !self.try_push(&line) {
                self.open(section.cont.clone(), units(&line));
                self.try_push(&line);
            }
        }
    }

    fn flush(&mut self) {
        if !self.embeds.is_empty() {
            self.messages.push(std::mem::take(&mut self.embeds));
            self.total = 0;
        }
    }

    fn finish(mut self) -> Vec<Vec<Embed>> {
        self.flush();
        if self.messages.is_empty() {
            self.messages.push(Vec::new());
        }
        self.messages
    }
}

/// The payloads of one message or a series: each with `content` (its `(2/3)` after the first
/// line when there are several), its share of the sections as embeds, the footer on its last
/// embed, and mentions switched off.
fn messages(content: &[String], sections: Vec<Section>, footer: &str) -> Vec<Value> {
    let mut packer = Packer::new(footer);
    for s in sections {
        packer.add(s);
    }
    let messages = packer.finish();
    let n = messages.len();
    messages
        .into_iter()
        .enumerate()
        .map(|(i, embeds)| {
            let mut lines = content.to_vec();
            if n > 1 {
                if let Some(first) = lines.first_mut() {
                    first.push_str(&format!(" ({}/{n})", i + 1));
                }
            }
            let count = embeds.len();
            let embeds: Vec<Value> = embeds
                .into_iter()
                .enumerate()
                .map(|(j, e)| {
                    let mut embed = json!({"title": e.title});
                    if !e.lines.is_empty() {
                        embed["description"] = json!(e.description());
                    }
                    if j + 1 == count && !footer.is_empty() {
                        embed["footer"] = json!({"text": footer});
                    }
                    embed
                })
                .collect();
            let content = limits::truncate(&lines.join("\n"), limits::DISCORD_CONTENT);
            json!({"content": content, "embeds": embeds, "allowed_mentions": {"parse": []}})
        })
        .collect()
}

/// The weekly digest as webhook payloads, in sending order. The content is the subject (bold)
/// and the period; the embeds are, for the operators, the feeds in trouble and the unverified
/// rounds, then each round due in the week with its counts (and names where shown), then one
/// embed per team with a line per post, `• [title](url) — author · date · N분`. The footer
/// names the page and the feed. A long week is split into several messages, every post in
/// exactly one, each message's content marked `(2/3)` and a team continued in another embed
/// titled `team · N편 (계속)`.
pub fn digest(d: &Digest) -> Vec<Value> {
    let mut sections = Vec::new();
    if d.operators {
        sections.extend(health_sections(d));
    }
    for r in &d.rounds {
        sections.push(round_section(r, d.show_names, d.operators));
    }
    if d.post_count == 0 {
        sections.push(Section {
            title: "새 글".to_string(),
            cont: "새 글".to_string(),
            lines: vec![EMPTY_WEEK.to_string()],
        });
    }
    sections.extend(d.teams.iter().map(team_section));
    let content = [
        format!("**{}**", clean(&d.subject, 300)),
        clean(&d.period, DETAIL_UNITS),
    ];
    let footer = limits::truncate(
        &one_line(&format!(
            "모아보기 {} · RSS 피드 {}",
            d.page_url, d.feed_url
        )),
        limits::DISCORD_FOOTER.min(600),
    );
    messages(&content, sections, &footer)
}

/// A team's embed: its posts, one line each.
fn team_section(team: &TeamView) -> Section {
    let name = clean(&team.team, NAME_UNITS);
    let count = team.posts.len();
    Section {
        title: format!("{name} · {count}편"),
        cont: format!("{name} · {count}편 (계속)"),
        lines: team.posts.iter().map(post_line).collect(),
    }
}

/// `• [title](url) — author · date · N분` (the title alone, in bold, without a link).
fn post_line(p: &PostView) -> String {
    let mut title = clean(&p.title, TITLE_UNITS);
    if title.trim().is_empty() {
        title = "(제목 없음)".to_string();
    }
    let headline = match p.link.as_deref().and_then(link_target) {
        Some(url) => format!("[{title}]({url})"),
        None => format!("**{title}**"),
    };
    let mut about = vec![clean(&p.author, NAME_UNITS), clean(&p.date, NAME_UNITS)];
    if let Some(m) = p.minutes {
        about.push(format!("{m}분"));
    }
    if p.extra {
        about.push("직접 기록한 글".to_string());
    }
    format!("• {headline} — {}", about.join(" · "))
}

/// A round due in the week: counts first, then the names this audience may see.
fn round_section(r: &RoundView, show_names: bool, operators: bool) -> Section {
    let title = format!("{}회차 마감 · {}", r.number, one_line(&r.due));
    let mut counts = format!(
        "제출 **{}** · 패스 **{}** · 미제출 **{}**",
        r.submitted, r.pass, r.missed
    );
    if r.unverified > 0 {
        counts.push_str(&format!(" · 판정 보류 **{}**", r.unverified));
    }
    if r.pending > 0 {
        counts.push_str(&format!(" · 진행 중 **{}**", r.pending));
    }
    counts.push_str(&format!(
        " ({}명 중 {}명 제출, {}%)",
        r.members, r.submitted, r.percent
    ));
    let mut lines = vec![counts];
    if show_names {
        for (label, names, shown) in name_lists(r, operators) {
            if !shown || names.is_empty() {
                continue;
            }
            let names: Vec<String> = names.iter().map(|n| clean(n, NAME_UNITS)).collect();
            let first = format!("{}: ", escape(label));
            let next = format!("{} (계속): ", escape(label));
            lines.extend(limits::join_within(&first, &next, &names, ", ", LINE_UNITS));
        }
    }
    Section {
        title: limits::truncate(&title, limits::DISCORD_TITLE),
        cont: limits::truncate(&format!("{title} (계속)"), limits::DISCORD_TITLE),
        lines,
    }
}

/// The operators' feed status: the feeds in trouble, and the rounds left unverified.
fn health_sections(d: &Digest) -> Vec<Section> {
    let mut lines = vec![if d.trouble.is_empty() {
        "4회 이상 연속으로 실패한 피드는 없어요.".to_string()
    } else {
        format!(
            "4회 이상 연속으로 가져오지 못한 피드가 {}개 있어요.",
            d.trouble.len()
        )
    }];
    lines.extend(d.trouble.iter().map(|t| {
        format!(
            "• **{}** ({}): {}회 연속 실패, 마지막 성공 {} — {} — {}",
            clean(&t.name, NAME_UNITS),
            clean(&t.member, NAME_UNITS),
            t.failures,
            clean(&t.last_success, NAME_UNITS),
            clean(&t.feed, DETAIL_UNITS),
            clean(&t.error, DETAIL_UNITS),
        )
    }));
    let mut sections = vec![Section {
        title: "피드 상태".to_string(),
        cont: "피드 상태 (계속)".to_string(),
        lines,
    }];
    if !d.unverified.is_empty() {
        let mut lines = vec![format!(
            "피드를 읽지 못해 판정하지 못한 회차가 {}건 있어요 (벌금 없음, 피드를 읽으면 다시 판정해요).",
            d.unverified.len()
        )];
        lines.extend(d.unverified.iter().map(|u| {
            format!(
                "• **{}** ({}) {}회차 — {} — {}",
                clean(&u.name, NAME_UNITS),
                clean(&u.member, NAME_UNITS),
                u.round,
                clean(&u.feed, DETAIL_UNITS),
                clean(&u.why, DETAIL_UNITS),
            )
        }));
        sections.push(Section {
            title: "판정 보류".to_string(),
            cont: "판정 보류 (계속)".to_string(),
            lines,
        });
    }
    sections
}

/// The reminder before a round closes: the headline, how long is left and the page in the
/// content, then one embed per team naming its pending members (names only: Discord ids are
/// not in the roster, and no one is pinged).
pub fn reminder(r: &Reminder) -> Vec<Value> {
    let closes = clean(&r.closes, NAME_UNITS);
    let left = clean(&r.time_left, NAME_UNITS);
    let mut content = vec![format!("**{}**", clean(&r.headline(), 300))];
    if r.pending == 0 {
        content.push(format!("모두 올렸어요: {}명 전원.", r.judged));
    } else {
        content.push(format!(
            "**{closes}** 마감까지 {left} 남았어요. 아직 글이 확인되지 않은 분들이에요 ({}명 중 {}명).",
            r.judged, r.pending
        ));
    }
    if let Some(page) = link_target(&r.page_url) {
        content.push(format!("진행 상황: <{page}>"));
    }
    let sections = r
        .teams
        .iter()
        .map(|team| {
            let name = clean(&team.team, NAME_UNITS);
            let names: Vec<String> = team
                .members
                .iter()
                .map(|m| clean(&m.name, NAME_UNITS))
                .collect();
            Section {
                title: format!("{name} ({}명)", names.len()),
                cont: format!("{name} (계속)"),
                lines: limits::join_within("", "", &names, ", ", LINE_UNITS),
            }
        })
        .collect();
    messages(&content, sections, "")
}

/// The operators' count after a reminder run ([`Tally::text`]), as a webhook payload.
pub fn tally(t: &Tally) -> Value {
    json!({"content": t.text(), "allowed_mentions": {"parse": []}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::slack::tests::{
        assert_once_in_order, digest_of, joined, long_title, operators_digest, post, reminder_of,
        week,
    };
    use crate::render::remind::{PendingMember, RemindTeam};

    /// Every embed's description of the payloads, in order.
    fn descriptions(payloads: &[Value]) -> Vec<String> {
        payloads
            .iter()
            .flat_map(|p| p["embeds"].as_array().cloned().unwrap_or_default())
            .map(|e| e["description"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Every embed's title of the payloads, in order.
    fn titles(payloads: &[Value]) -> Vec<String> {
        payloads
            .iter()
            .flat_map(|p| p["embeds"].as_array().cloned().unwrap_or_default())
            .map(|e| e["title"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn escape_defuses_markdown_mentions_and_links() {
        assert_eq!(
            escape("**굵게** _a_ ~b~ `c` ||d||"),
            r"\*\*굵게\*\* \_a\_ \~b\~ \`c\` \|\|d\|\|"
        );
        assert_eq!(
            escape("[click](https://evil.example)"),
            r"\[click\]\(https\://evil.example\)"
        );
        assert_eq!(
            escape("<@123> <#456> <@&789>"),
            r"\<@123\> \<\#456\> \<@&789\>"
        );
        assert_eq!(
            escape("@everyone @Here 메일@here.kr"),
            "@\u{200B}everyone @\u{200B}Here 메일@\u{200B}here.kr"
        );
        assert_eq!(escape("# 제목"), r"\# 제목");
        assert_eq!(escape("> 인용 - 목록"), r"\> 인용 \- 목록");
        assert_eq!(escape("+ 목록"), r"\+ 목록");
        assert_eq!(escape("1. 첫째, 2.5배 빠른"), r"1\. 첫째, 2.5배 빠른");
        assert_eq!(escape(r"a\b"), r"a\\b");
        assert_eq!(escape("C++ 3:2"), "C++ 3:2");
    }

    #[test]
    fn a_long_week_is_split_within_every_limit_each_post_once_in_order() {
        let d = week(4, 80, long_title);
        let payloads = digest(&d);
        let n = payloads.len();
        assert!(n > 1, "{n} messages");
        for (i, p) in payloads.iter().enumerate() {
            assert_eq!(limits::check_discord(p), Ok(()), "message {i}");
            let content = p["content"].as_str().unwrap();
            assert!(
                content.starts_with(&format!(
                    "**\\[글또 10기\\] 이번 주 새 글 80편 · 2024\\-W46** ({}/{n})\n",
                    i + 1
                )),
                "{content}"
            );
            assert!(content.ends_with("11월 11일 \\(월\\) – 11월 17일 \\(일\\)"));
            let last = p["embeds"].as_array().unwrap().last().unwrap();
            assert_eq!(
                last["footer"]["text"],
                "모아보기 https://geultto.example/agg/ · RSS 피드 https://geultto.example/agg/atom.xml"
            );
        }
        let urls: Vec<String> = d
            .teams
            .iter()
            .flat_map(|t| &t.posts)
            .filter_map(|p| p.link.clone())
            .collect();
        assert_once_in_order(&joined(&payloads), &urls);
        let lines: usize = descriptions(&payloads)
            .iter()
            .map(|d| d.lines().count())
            .sum();
        assert_eq!(lines, 80);
        let titles = titles(&payloads);
        assert_eq!(titles[0], "데이터팀 · 20편");
        assert!(
            titles.iter().any(|t| t.ends_with("20편 (계속)")),
            "{titles:?}"
        );
    }

    #[test]
    fn a_twelve_post_week_is_one_message_with_an_embed_per_team() {
        let d = week(3, 12, |i| format!("{i}번째 글: 스프링 트랜잭션 전파 정리"));
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_discord(&payloads[0]), Ok(()));
        assert_eq!(
            titles(&payloads),
            ["데이터팀 · 4편", "백엔드팀 · 4편", "프론트엔드팀 · 4편"]
        );
        let first = descriptions(&payloads)[0]
            .lines()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            first,
            "• [0번째 글: 스프링 트랜잭션 전파 정리](https://blog.example/000/post) — 회원000 · 11월 14일 \\(목\\) · 3분"
        );
    }

    #[test]
    fn hostile_titles_ping_nobody_and_make_no_link() {
        let hostile = [
            "<!channel>",
            "@here 긴급",
            "@everyone 보세요",
            "<@U123>",
            "<https://evil.example|click>",
            "[click](https://evil.example)",
            "*굵게* _기울임_ `코드` | 파이프",
            "줄\n바꿈\r\n제목",
            &"가".repeat(5000),
        ];
        let mut posts: Vec<PostView> = hostile
            .iter()
            .enumerate()
            .map(|(i, t)| post("@everyone 팀", i, t))
            .collect();
        posts[0].author = "<@&42> [x](https://evil.example)".to_string();
        let d = digest_of(
            vec![TeamView {
                team: "@everyone 팀".to_string(),
                posts,
            }],
            Vec::new(),
        );
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_discord(&payloads[0]), Ok(()));
        assert_eq!(payloads[0]["allowed_mentions"], json!({"parse": []}));
        let lines: Vec<String> = descriptions(&payloads)[0]
            .lines()
            .map(str::to_string)
            .collect();
        let line = |i: usize, title: &str, author: &str| {
            format!("• [{title}](https://blog.example/{i:03}/post) — {author} · 11월 14일 \\(목\\) · 3분")
        };
        let who = |i: usize| format!("회원{i:03}");
        assert_eq!(
            lines[0],
            line(
                0,
                r"\<!channel\>",
                "\\<@&42\\> \\[x\\]\\(https\\://evil.example\\)"
            )
        );
        assert_eq!(lines[1], line(1, "@\u{200B}here 긴급", &who(1)));
        assert_eq!(lines[2], line(2, "@\u{200B}everyone 보세요", &who(2)));
        assert_eq!(lines[3], line(3, r"\<@U123\>", &who(3)));
        assert_eq!(
            lines[4],
            line(4, r"\<https\://evil.example\|click\>", &who(4))
        );
        assert_eq!(
            lines[5],
            line(5, r"\[click\]\(https\://evil.example\)", &who(5))
        );
        assert_eq!(
            lines[6],
            line(6, r"\*굵게\* \_기울임\_ \`코드\` \| 파이프", &who(6))
        );
        assert_eq!(lines[7], line(7, "줄 바꿈 제목", &who(7)));
        assert!(lines[8].starts_with("• [가가"));
        assert!(lines[8].contains("가…](https://blog.example/008/post)"));
        assert_eq!(lines.len(), 9);
        assert_eq!(titles(&payloads)[0], "@\u{200B}everyone 팀 · 9편");
        let all = joined(&payloads);
        for bad in [
            "<@U123>",
            "<@&42>",
            "<https://evil",
            "[click](https://evil",
            "(https://evil",
            "@everyone",
            "@here",
        ] {
            assert!(!all.contains(bad), "{bad} survived");
        }
    }

    #[test]
    fn link_targets_cannot_end_a_masked_link_early() {
        let mut a = post("팀", 1, "제목");
        a.link = Some("https://a.example/wiki/Rust_(언어) 2".to_string());
        let mut b = post("팀", 2, "링크 없음");
        b.link = None;
        let mut c = post("팀", 3, "스크립트");
        c.link = Some("javascript:alert(1)".to_string());
        let d = digest_of(
            vec![TeamView {
                team: "팀".to_string(),
                posts: vec![a, b, c],
            }],
            Vec::new(),
        );
        let desc = descriptions(&digest(&d))[0].clone();
        let lines: Vec<&str> = desc.lines().collect();
        assert!(
            lines[0].starts_with("• [제목](https://a.example/wiki/Rust_%28언어%29%202) — "),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("• **링크 없음** — "));
        assert!(lines[2].starts_with("• **스크립트** — "));
    }

    #[test]
    fn the_operators_digest_lists_feeds_in_trouble_unverified_rounds_and_names() {
        let payloads = digest(&operators_digest());
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_discord(&payloads[0]), Ok(()));
        assert_eq!(
            titles(&payloads),
            [
                "피드 상태",
                "판정 보류",
                "5회차 마감 · 11월 17일 (일)",
                "데이터 · 1편"
            ]
        );
        let d = descriptions(&payloads);
        assert_eq!(
            d[0],
            "4회 이상 연속으로 가져오지 못한 피드가 1개 있어요.\n• **박지훈** (jihoon): 6회 연속 실패, 마지막 성공 2024\\-11\\-02 — https\\://velog.io/rss/jihoon — HTTP 503 from velog.io"
        );
        assert!(d[1].ends_with(
            "• **최유나** (yuna) 5회차 — https\\://yuna.example/feed.xml — 마감 뒤로 읽지 못함"
        ));
        let round: Vec<&str> = d[2].lines().collect();
        assert_eq!(
            round[0],
            "제출 **30** · 패스 **3** · 미제출 **5** · 판정 보류 **2** (40명 중 30명 제출, 75%)"
        );
        assert_eq!(round[1], "미제출: 미제출자1, 미제출자2");
        assert_eq!(round[2], "분량 미달: 짧은글1, 짧은글2");
        assert_eq!(round[3], "늦게 올라와 확인이 필요한 글 \\(feeds.toml의 overrides로 결정해 주세요\\): 늦은글1, 늦은글2");
        assert_eq!(round[4], "패스: 패스한1, 패스한2");
        assert_eq!(
            round[5],
            "판정 보류 \\(피드를 읽지 못함\\): 보류된1, 보류된2"
        );
        assert_eq!(payloads[0]["content"], "**\\[글또 10기\\] 운영진 주간 점검 · 2024\\-W46**\n11월 11일 \\(월\\) – 11월 17일 \\(일\\)");
    }

    #[test]
    fn many_feeds_in_trouble_continue_in_further_embeds_and_messages() {
        let mut d = operators_digest();
        let t = d.trouble[0].clone();
        d.trouble = (0..200)
            .map(|i| {
                let mut t = t.clone();
                t.member = format!("member{i:03}");
                t.error = "connection reset by peer while reading the response body ".repeat(3);
                t
            })
            .collect();
        let payloads = digest(&d);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| limits::check_discord(p).is_ok()));
        let all = joined(&payloads);
        for i in 0..200 {
            assert_eq!(all.matches(&format!("(member{i:03})")).count(), 1);
        }
        assert!(titles(&payloads).contains(&"피드 상태 (계속)".to_string()));
    }

    #[test]
    fn an_empty_week_is_one_short_friendly_message() {
        let payloads = digest(&digest_of(Vec::new(), Vec::new()));
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_discord(&payloads[0]), Ok(()));
        assert_eq!(titles(&payloads), ["새 글"]);
        assert_eq!(descriptions(&payloads), [EMPTY_WEEK]);
    }

    #[test]
    fn the_reminder_names_members_and_pings_no_one() {
        let mut r = reminder_of();
        r.teams[2].members[0].name = "@everyone".to_string();
        let payloads = reminder(&r);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_discord(&payloads[0]), Ok(()));
        assert_eq!(
            payloads[0]["content"],
            "**\\[글또 10기\\] 5회차 마감까지 23시간 12분 · 아직 5명**\n\
             **11월 24일 \\(일\\) 24:00** 마감까지 23시간 12분 남았어요. 아직 글이 확인되지 않은 분들이에요 (40명 중 5명).\n\
             진행 상황: <https://geultto.example/agg/>"
        );
        assert_eq!(
            titles(&payloads),
            ["데이터 (2명)", "백엔드 (1명)", "인프라 (2명)"]
        );
        assert_eq!(
            descriptions(&payloads),
            ["김민지, 정태훈", "박지훈", "@\u{200B}everyone, 최유나"]
        );
        let all = joined(&payloads);
        assert!(!all.contains("<@") && !all.contains("U01MINJI"));
    }

    #[test]
    fn a_reminder_of_a_large_team_continues_in_another_embed() {
        let mut r = reminder_of();
        r.teams = vec![RemindTeam {
            team: "대형팀".to_string(),
            members: (0..900)
                .map(|i| PendingMember {
                    id: format!("m{i}"),
                    name: format!("회원이름{i:03}"),
                    slack_id: None,
                    email: None,
                })
                .collect(),
        }];
        let payloads = reminder(&r);
        assert!(payloads.iter().all(|p| limits::check_discord(p).is_ok()));
        assert!(payloads.len() > 1);
        let all = joined(&payloads);
        for i in 0..900 {
            assert_eq!(all.matches(&format!("회원이름{i:03}")).count(), 1);
        }
        assert_eq!(titles(&payloads)[1], "대형팀 (계속)");
    }

    #[test]
    fn the_tally_is_the_count_text() {
        let t = Tally {
            round: 5,
            reminded: 23,
            judged: 412,
            direct: 20,
            mails: 15,
        };
        let p = tally(&t);
        assert_eq!(limits::check_discord(&p), Ok(()));
        assert_eq!(
            p["content"],
            "5회차 리마인드: 412명 중 23명 (DM 20명, 메일 15명)"
        );
    }
}
