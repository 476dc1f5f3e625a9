//! Slack messages: the weekly digest and the reminders as Block Kit payloads.
//!
//! This room owns what the club reads in Slack: [`digest`] turns the digest model into incoming
//! webhook payloads (split into several messages when the week is long), [`reminder`] names the
//! members still pending in the channel (mentioning those with a Slack id), [`direct`] builds a
//! member's own `chat.postMessage` body and [`tally`] the operators' count. Every text that
//! comes from a feed or the roster is made one line, cut to a bounded length and [`escape`]d, so
//! a title can neither ping a channel (`<!channel>`) nor form a link or a mention; links are
//! only made from the posts' own http(s) addresses. Each payload keeps Slack's limits by
//! construction (see `limits.rs`). Nothing here does I/O.

use serde_json::{json, Value};

use super::limits::{self, units};
use crate::normalise::one_line;
use crate::render::digest::Digest;
use crate::render::remind::{PendingMember, Reminder, Tally};
use crate::render::view::{PostView, RoundView, TeamView};

/// A post title, in units before escaping.
const TITLE_UNITS: usize = 200;
/// A member's or a team's name.
const NAME_UNITS: usize = 80;
/// A feed address, an error, a reason.
const DETAIL_UNITS: usize = 300;
/// A link longer than this is shown as text only (the section must stay within its limit).
const URL_UNITS: usize = 1500;
/// A section we fill with a list: well under [`limits::SLACK_SECTION`].
const SECTION_UNITS: usize = 2800;
/// What the email says of a week without posts.
const EMPTY_WEEK: &str =
    "이번 주에는 새 글이 없었어요. 쉬어 가는 주도 필요하죠. 다음 주에 만나요! ✍️";

/// Escapes text for Slack's mrkdwn and plain text: `&`, `<` and `>` become `&amp;`, `&lt;` and
/// `&gt;`, so no `<!channel>`, `<@U…>` or `<url|label>` can be formed. Nothing else changes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Text from outside (a feed, the roster) as Slack shows it: one line, at most `max` units
/// before escaping, escaped.
fn clean(text: &str, max: usize) -> String {
    limits::fit(&one_line(text), max, escape)
}

/// A link target: only an http(s) address, with the characters that would end Slack's
/// `<url|label>` (`|`, `<`, `>`) and spaces percent-encoded; `None` for anything else or an
/// address too long to show.
fn link_target(url: &str) -> Option<String> {
    limits::http_target(url, &[('|', "%7C"), ('<', "%3C"), ('>', "%3E")], URL_UNITS)
}

/// `<url|label>` for a good address (`label` already escaped), else the label alone.
fn link(url: &str, label: &str) -> String {
    match link_target(url) {
        Some(target) => format!("<{target}|{label}>"),
        None => label.to_string(),
    }
}

/// A mrkdwn text object, `verbatim` so Slack adds no links or mentions of its own (a bare
/// `@channel` or `#general` in a title stays text); the links we write stay links.
fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

/// A mrkdwn `section`.
fn section(text: String) -> Value {
    json!({"type": "section", "text": mrkdwn(text)})
}

/// A `context` of one mrkdwn element.
fn context(text: String) -> Value {
    json!({"type": "context", "elements": [mrkdwn(text)]})
}

/// Blocks that stay together in one message, and the block that re-introduces them when they
/// open a continuation message (e.g. `*데이터* · 20편 (계속)`).
struct Group {
    blocks: Vec<Value>,
    cont: Option<Value>,
}

impl Group {
    /// Blocks that need no introduction.
    fn plain(blocks: Vec<Value>) -> Group {
        Group { blocks, cont: None }
    }
}

/// Groups packed in order into message bodies of at most `room` blocks each (at least one
/// body, maybe empty). Every group is far smaller than `room` by construction.
fn pack(groups: Vec<Group>, room: usize) -> Vec<Vec<Value>> {
    let mut bodies: Vec<Vec<Value>> = Vec::new();
    let mut body: Vec<Value> = Vec::new();
    for group in groups {
        if !body.is_empty() && body.len() + group.blocks.len() > room {
            bodies.push(std::mem::take(&mut body));
        }
        if body.is_empty() && !bodies.is_empty() {
            if let Some(cont) = group.cont {
                body.push(cont);
            }
        }
        body.extend(group.blocks);
    }
    if !body.is_empty() || bodies.is_empty() {
        bodies.push(body);
    }
    bodies
}

/// The webhook payloads of one message or a series: each opens with a header of `title`
/// (with `(2/3)` when there are several) and the `head` blocks, carries its share of the
/// groups, and the last one closes with `tail`. The fallback text is the title and the count.
fn messages(title: &str, head: &[Value], groups: Vec<Group>, tail: &[Value]) -> Vec<Value> {
    let room = limits::SLACK_BLOCKS - 1 - head.len() - tail.len();
    let bodies = pack(groups, room);
    let n = bodies.len();
    let title = one_line(title);
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let label = if n > 1 {
                format!(" ({}/{n})", i + 1)
            } else {
                String::new()
            };
            let header = limits::fit(&title, limits::SLACK_HEADER - units(&label), escape);
            let fallback = limits::fit(&title, limits::SLACK_FALLBACK - units(&label), escape);
            let mut blocks = vec![json!({
                "type": "header",
                "text": {"type": "plain_text", "text": format!("{header}{label}"), "emoji": true},
            })];
            blocks.extend(head.iter().cloned());
            blocks.extend(body);
            if i + 1 == n {
                blocks.extend(tail.iter().cloned());
            }
            json!({
                "text": format!("{fallback}{label}"),
                "blocks": blocks,
                "unfurl_links": false,
                "unfurl_media": false,
            })
        })
        .collect()
}

/// The weekly digest as incoming webhook payloads, in sending order: the subject as a header
/// and the period under it; for the operators the feeds in trouble and the unverified rounds;
/// the rounds due in the week with their counts (and names where shown); the posts team by
/// team, one linked title and an author line each; the page and feed links at the end. A long
/// week is split into several messages, each post in exactly one, each message titled
/// `subject (2/3)` and a team continued on the next message introduced again.
pub fn digest(d: &Digest) -> Vec<Value> {
    let mut groups = Vec::new();
    if d.operators {
        groups.extend(health_groups(d));
    }
    for r in &d.rounds {
        groups.extend(round_groups(r, d.show_names, d.operators));
    }
    if d.post_count == 0 {
        groups.push(Group::plain(vec![section(EMPTY_WEEK.to_string())]));
    }
    for team in &d.teams {
        groups.extend(team_groups(team));
    }
    let mut links = Vec::new();
    if let Some(page) = link_target(&d.page_url) {
        links.push(format!("<{page}|모아보기>"));
    }
    if let Some(feed) = link_target(&d.feed_url) {
        links.push(format!("<{feed}|RSS 피드>"));
    }
    if links.is_empty() {
        links.push(clean(&d.club, NAME_UNITS));
    }
    let head = [context(clean(&d.period, DETAIL_UNITS))];
    messages(&d.subject, &head, groups, &[context(links.join(" · "))])
}

/// A team's posts: the team's section travels with its first post, and the later posts bring
/// `*team* · N편 (계속)` along when they open a message.
fn team_groups(team: &TeamView) -> Vec<Group> {
    let name = clean(&team.team, NAME_UNITS);
    let count = team.posts.len();
    let first = section(format!("*{name}* · {count}편"));
    if team.posts.is_empty() {
        return vec![Group::plain(vec![first])];
    }
    let cont = section(format!("*{name}* · {count}편 (계속)"));
    team.posts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let post = post_blocks(p);
            if i == 0 {
                Group::plain([vec![first.clone()], post].concat())
            } else {
                Group {
                    blocks: post,
                    cont: Some(cont.clone()),
                }
            }
        })
        .collect()
}

/// One post: its linked title in a section, its author, date and reading time in a context.
fn post_blocks(p: &PostView) -> Vec<Value> {
    let mut title = clean(&p.title, TITLE_UNITS);
    if title.trim().is_empty() {
        title = "(제목 없음)".to_string();
    }
    let headline = match &p.link {
        Some(url) => link(url, &title),
        None => title,
    };
    let mut about = vec![clean(&p.author, NAME_UNITS), clean(&p.date, NAME_UNITS)];
    if let Some(m) = p.minutes {
        about.push(format!("{m}분 읽기"));
    }
    if p.extra {
        about.push("직접 기록한 글".to_string());
    }
    vec![section(headline), context(about.join(" · "))]
}

/// A round due in the week: its counts, then the names this audience may see (the email's
/// lists), each list split over sections when long.
fn round_groups(r: &RoundView, show_names: bool, operators: bool) -> Vec<Group> {
    let title = format!("*{}회차 마감 · {}*", r.number, clean(&r.due, NAME_UNITS));
    let mut counts = format!(
        "제출 *{}* · 패스 *{}* · 미제출 *{}*",
        r.submitted, r.pass, r.missed
    );
    if r.unverified > 0 {
        counts.push_str(&format!(" · 판정 보류 *{}*", r.unverified));
    }
    if r.pending > 0 {
        counts.push_str(&format!(" · 진행 중 *{}*", r.pending));
    }
    counts.push_str(&format!(
        " ({}명 중 {}명 제출, {}%)",
        r.members, r.submitted, r.percent
    ));
    let mut groups = vec![Group::plain(vec![section(format!("{title}\n{counts}"))])];
    if !show_names {
        return groups;
    }
    let cont = section(format!("{title} (계속)"));
    for (label, names, shown) in name_lists(r, operators) {
        if !shown || names.is_empty() {
            continue;
        }
        let names: Vec<String> = names.iter().map(|n| clean(n, NAME_UNITS)).collect();
        let first = format!("{label}: ");
        let next = format!("{label} (계속): ");
        for piece in limits::join_within(&first, &next, &names, ", ", SECTION_UNITS) {
            groups.push(Group {
                blocks: vec![section(piece)],
                cont: Some(cont.clone()),
            });
        }
    }
    groups
}

/// The round's name lists as the email words them, and whether this audience sees each.
pub(super) fn name_lists(r: &RoundView, operators: bool) -> [(&'static str, &[String], bool); 5] {
    [
        ("미제출", &r.missed_names, true),
        ("분량 미달", &r.short_names, true),
        (
            "늦게 올라와 확인이 필요한 글 (feeds.toml의 overrides로 결정해 주세요)",
            &r.late_names,
            operators,
        ),
        ("패스", &r.pass_names, operators),
        (
            "판정 보류 (피드를 읽지 못함)",
            &r.unverified_names,
            operators,
        ),
    ]
}

/// The operators' feed status: feeds failing for 4 runs or more, and rounds left unverified
/// because a feed could not be read, one line each, in sections of bounded size.
fn health_groups(d: &Digest) -> Vec<Group> {
    let title = "*피드 상태*";
    let summary = if d.trouble.is_empty() {
        "4회 이상 연속으로 실패한 피드는 없어요.".to_string()
    } else {
        format!(
            "4회 이상 연속으로 가져오지 못한 피드가 {}개 있어요.",
            d.trouble.len()
        )
    };
    let mut groups = vec![Group::plain(vec![section(format!("{title}\n{summary}"))])];
    let cont = section(format!("{title} (계속)"));
    let trouble: Vec<String> = d
        .trouble
        .iter()
        .map(|t| {
            format!(
                "• *{}* ({}): {}회 연속 실패, 마지막 성공 {}\n    {} — {}",
                clean(&t.name, NAME_UNITS),
                clean(&t.member, NAME_UNITS),
                t.failures,
                clean(&t.last_success, NAME_UNITS),
                clean(&t.feed, DETAIL_UNITS),
                clean(&t.error, DETAIL_UNITS),
            )
        })
        .collect();
    let mut lines_of = |lines: &[String]| {
        for piece in limits::lines_within(lines, SECTION_UNITS) {
            groups.push(Group {
                blocks: vec![section(piece)],
                cont: Some(cont.clone()),
            });
        }
    };
    lines_of(&trouble);
    if !d.unverified.is_empty() {
        let mut lines = vec![format!(
            "피드를 읽지 못해 판정하지 못한 회차가 {}건 있어요 (벌금 없음, 피드를 읽으면 다시 판정해요).",
            d.unverified.len()
        )];
        lines.extend(d.unverified.iter().map(|u| {
            format!(
                "• *{}* ({}) {}회차: {} — {}",
                clean(&u.name, NAME_UNITS),
                clean(&u.member, NAME_UNITS),
                u.round,
                clean(&u.feed, DETAIL_UNITS),
                clean(&u.why, DETAIL_UNITS),
            )
        }));
        lines_of(&lines);
    }
    groups
}

/// A member as the channel reminder names them: `<@U…> 이름` with a Slack id, else the name.
fn member_label(m: &PendingMember) -> String {
    let name = clean(&m.name, NAME_UNITS);
    match m.slack_id.as_deref().filter(|id| is_slack_id(id)) {
        Some(id) => format!("<@{id}> {name}"),
        None => name,
    }
}

/// A Slack user id as the config accepts it (`U…`/`W…`, upper-case letters and digits): only
/// such an id is ever written inside `<@…>`.
fn is_slack_id(id: &str) -> bool {
    id.len() >= 3
        && id.starts_with(['U', 'W'])
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The channel reminder before a round closes: the headline, how long is left, the pending
/// members team by team (mentioned as `<@U…>` where the roster has their Slack id), and the
/// close and the page link at the end; several messages when the teams do not fit one.
pub fn reminder(r: &Reminder) -> Vec<Value> {
    let mut groups = Vec::new();
    let closes = clean(&r.closes, NAME_UNITS);
    let left = clean(&r.time_left, NAME_UNITS);
    let intro = if r.pending == 0 {
        format!("모두 올렸어요: {}명 전원.", r.judged)
    } else {
        format!(
            "*{closes}* 마감까지 {left} 남았어요. 아직 글이 확인되지 않은 분들이에요 ({}명 중 {}명).",
            r.judged, r.pending
        )
    };
    groups.push(Group::plain(vec![section(intro)]));
    for team in &r.teams {
        let name = clean(&team.team, NAME_UNITS);
        let members: Vec<String> = team.members.iter().map(member_label).collect();
        let first = format!("*{name}* ({}명)\n", members.len());
        let next = format!("*{name}* (계속)\n");
        for piece in limits::join_within(&first, &next, &members, ", ", SECTION_UNITS) {
            groups.push(Group::plain(vec![section(piece)]));
        }
    }
    let mut tail = format!("마감 {closes}");
    if let Some(page) = link_target(&r.page_url) {
        tail.push_str(&format!(" · <{page}|진행 상황>"));
    }
    messages(&r.headline(), &[], groups, &[context(tail)])
}

/// A member's own reminder as a `chat.postMessage` body (`channel` is their user id, which
/// opens the direct message): [`Reminder::personal_text`] as the text and in one section.
/// `None` when the member has no (valid) Slack id.
pub fn direct(r: &Reminder, m: &PendingMember) -> Option<Value> {
    let id = m.slack_id.as_deref().filter(|id| is_slack_id(id))?;
    let text = limits::fit(r.personal_text(m).trim(), SECTION_UNITS, escape);
    // The section is verbatim: the page address is linked by hand.
    let mut body = text.clone();
    if let Some(page) = link_target(&r.page_url) {
        body = body.replace(&escape(&r.page_url), &format!("<{page}>"));
    }
    Some(json!({
        "channel": id,
        "text": text,
        "blocks": [section(body)],
        "unfurl_links": false,
        "unfurl_media": false,
    }))
}

/// The operators' count after a reminder run ([`Tally::text`]), as a webhook payload.
pub fn tally(t: &Tally) -> Value {
    let text = escape(&t.text());
    json!({"text": text, "blocks": [section(text.clone())]})
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::render::remind::RemindTeam;
    use crate::render::view::{TroubleView, UnverifiedView};

    /// A post of `team` numbered `i`, linked to a unique address (no address is a prefix of
    /// another).
    pub(in crate::chat) fn post(team: &str, i: usize, title: &str) -> PostView {
        PostView {
            id: Some(i as i64),
            at: 1_700_000_000 + i as i64,
            title: title.to_string(),
            author: format!("회원{i:03}"),
            member: format!("m{i:03}"),
            team: team.to_string(),
            link: Some(format!("https://blog.example/{i:03}/post")),
            excerpt: String::new(),
            minutes: Some(3),
            date: "11월 14일 (목)".to_string(),
            iso_date: "2024-11-14".to_string(),
            extra: false,
        }
    }

    /// A round with counts and, when `names`, a few names in each list.
    pub(in crate::chat) fn round(names: bool) -> RoundView {
        let list = |prefix: &str| {
            if names {
                vec![format!("{prefix}1"), format!("{prefix}2")]
            } else {
                Vec::new()
            }
        };
        RoundView {
            number: 5,
            opens: "11월 4일".to_string(),
            due: "11월 17일 (일)".to_string(),
            state: "closed".to_string(),
            members: 40,
            submitted: 30,
            pass: 3,
            missed: 5,
            pending: 0,
            unverified: 2,
            missed_names: list("미제출자"),
            short_names: list("짧은글"),
            late_names: list("늦은글"),
            pass_names: list("패스한"),
            unverified_names: list("보류된"),
            percent: 75,
        }
    }

    /// A members' digest of `teams`, as `render::digest::model` would make it.
    pub(in crate::chat) fn digest_of(teams: Vec<TeamView>, rounds: Vec<RoundView>) -> Digest {
        let post_count = teams.iter().map(|t| t.posts.len()).sum();
        Digest {
            club: "글또 10기".to_string(),
            club_url: "https://geultto.example/".to_string(),
            feed_url: "https://geultto.example/agg/atom.xml".to_string(),
            page_url: "https://geultto.example/agg/".to_string(),
            week: "2024-W46".to_string(),
            period: "11월 11일 (월) – 11월 17일 (일)".to_string(),
            subject: format!("[글또 10기] 이번 주 새 글 {post_count}편 · 2024-W46"),
            preheader: String::new(),
            audience: "members".to_string(),
            operators: false,
            post_count,
            empty: post_count == 0 && rounds.is_empty(),
            teams,
            rounds,
            show_names: false,
            trouble: Vec::new(),
            unverified: Vec::new(),
            generated: "2024-11-18".to_string(),
            post_ids: Vec::new(),
        }
    }

    /// `count` posts spread over `teams` teams (team by team), titled by `title`.
    pub(in crate::chat) fn week(
        teams: usize,
        count: usize,
        title: impl Fn(usize) -> String,
    ) -> Digest {
        let per = count.div_ceil(teams);
        let views = (0..teams)
            .map(|t| {
                let name = format!(
                    "{}팀",
                    ["데이터", "백엔드", "프론트엔드", "인프라", "모바일"][t % 5]
                );
                let posts = (t * per..((t + 1) * per).min(count))
                    .map(|i| post(&name, i, &title(i)))
                    .collect();
                TeamView { team: name, posts }
            })
            .collect();
        digest_of(views, Vec::new())
    }

    /// A long Korean title, different for each post.
    pub(in crate::chat) fn long_title(i: usize) -> String {
        format!(
            "{i}번째 글: 대규모 트래픽을 견디는 분산 시스템 설계와 운영 경험, 그리고 장애 대응 과정에서 배운 교훈을 정리한 회고록 — 데이터 파이프라인과 관측 가능성까지"
        )
    }

    /// The operators' digest: feeds in trouble, unverified rounds, every name list.
    pub(in crate::chat) fn operators_digest() -> Digest {
        let mut d = digest_of(
            vec![TeamView {
                team: "데이터".to_string(),
                posts: vec![post("데이터", 1, "Parquet 파일 구조를 뜯어보자")],
            }],
            vec![round(true)],
        );
        d.operators = true;
        d.show_names = true;
        d.audience = "operators".to_string();
        d.subject = "[글또 10기] 운영진 주간 점검 · 2024-W46".to_string();
        d.trouble = vec![TroubleView {
            member: "jihoon".to_string(),
            name: "박지훈".to_string(),
            feed: "https://velog.io/rss/jihoon".to_string(),
            failures: 6,
            error: "HTTP 503 from velog.io".to_string(),
            last_success: "2024-11-02".to_string(),
            local: false,
        }];
        d.unverified = vec![UnverifiedView {
            member: "yuna".to_string(),
            name: "최유나".to_string(),
            round: 5,
            feed: "https://yuna.example/feed.xml".to_string(),
            why: "마감 뒤로 읽지 못함".to_string(),
        }];
        d
    }

    /// Round 5's reminder with three teams; the first member of each team has a Slack id.
    pub(in crate::chat) fn reminder_of() -> Reminder {
        let team = |name: &str, members: &[(&str, Option<&str>)]| RemindTeam {
            team: name.to_string(),
            members: members
                .iter()
                .map(|(n, id)| PendingMember {
                    id: n.to_string(),
                    name: n.to_string(),
                    slack_id: id.map(str::to_string),
                    email: None,
                })
                .collect(),
        };
        let teams = vec![
            team("데이터", &[("김민지", Some("U01MINJI")), ("정태훈", None)]),
            team("백엔드", &[("박지훈", Some("U02JIHOON"))]),
            team("인프라", &[("오성민", None), ("최유나", None)]),
        ];
        Reminder {
            club: "글또 10기".to_string(),
            round: 5,
            due: "11월 24일 (일)".to_string(),
            closes_at: "2024-11-25T00:00:00+09:00".to_string(),
            closes: "11월 24일 (일) 24:00".to_string(),
            time_left: "23시간 12분".to_string(),
            judged: 40,
            pending: 5,
            teams,
            page_url: "https://geultto.example/agg/".to_string(),
        }
    }

    /// The serialized payloads, one string.
    pub(in crate::chat) fn joined(payloads: &[Value]) -> String {
        payloads
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every mrkdwn or plain text of a payload's blocks, in order.
    fn texts(payload: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for block in payload["blocks"].as_array().into_iter().flatten() {
            if let Some(t) = block.pointer("/text/text").and_then(Value::as_str) {
                out.push(t.to_string());
            }
            for e in block["elements"].as_array().into_iter().flatten() {
                out.push(e["text"].as_str().unwrap_or("").to_string());
            }
        }
        out
    }

    /// Asserts each URL appears exactly once in `all`, in the order given.
    pub(in crate::chat) fn assert_once_in_order(all: &str, urls: &[String]) {
        let mut last = 0;
        for url in urls {
            assert_eq!(all.matches(url.as_str()).count(), 1, "{url}");
            let at = all.find(url.as_str()).unwrap();
            assert!(at > last, "{url} out of order");
            last = at;
        }
    }

    #[test]
    fn escape_turns_only_the_three_control_characters_into_entities() {
        assert_eq!(
            escape("a & b <!channel> c>d"),
            "a &amp; b &lt;!channel&gt; c&gt;d"
        );
        assert_eq!(
            escape("*굵게* _기울임_ `코드` | ~취소~ @here"),
            "*굵게* _기울임_ `코드` | ~취소~ @here"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn a_long_week_is_split_within_every_limit_each_post_once_in_order() {
        let d = week(4, 80, long_title);
        let payloads = digest(&d);
        assert!(payloads.len() > 1, "{} messages", payloads.len());
        let n = payloads.len();
        for (i, p) in payloads.iter().enumerate() {
            assert_eq!(limits::check_slack(p), Ok(()), "message {i}");
            let label = format!("({}/{n})", i + 1);
            assert!(
                p["text"].as_str().unwrap().ends_with(&label),
                "{}",
                p["text"]
            );
            assert!(p["text"]
                .as_str()
                .unwrap()
                .starts_with("[글또 10기] 이번 주 새 글 80편"));
            let header = p.pointer("/blocks/0/text/text").unwrap().as_str().unwrap();
            assert!(header.ends_with(&label), "{header}");
            assert_eq!(
                p.pointer("/blocks/1/elements/0/text").unwrap(),
                "11월 11일 (월) – 11월 17일 (일)"
            );
        }
        let urls: Vec<String> = d
            .teams
            .iter()
            .flat_map(|t| &t.posts)
            .filter_map(|p| p.link.clone())
            .collect();
        assert_eq!(urls.len(), 80);
        assert_eq!(
            joined(&payloads).matches("<https://blog.example/").count(),
            80
        );
        assert_once_in_order(&joined(&payloads), &urls);
        // A message that starts in the middle of a team says which team it continues.
        let second = texts(&payloads[1]);
        assert!(second[2].ends_with("편 (계속)"), "{:?}", &second[..3]);
        // Only the last message carries the links to the page and the feed.
        let closing = "<https://geultto.example/agg/|모아보기> · <https://geultto.example/agg/atom.xml|RSS 피드>";
        assert_eq!(joined(&payloads).matches(closing).count(), 1);
        assert_eq!(texts(&payloads[n - 1]).last().unwrap(), closing);
    }

    #[test]
    fn a_twelve_post_week_is_one_message() {
        let d = week(3, 12, |i| format!("{i}번째 글: 스프링 트랜잭션 전파 정리"));
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_slack(&payloads[0]), Ok(()));
        assert_eq!(
            payloads[0]["text"],
            "[글또 10기] 이번 주 새 글 12편 · 2024-W46"
        );
        let t = texts(&payloads[0]);
        assert_eq!(t[2], "*데이터팀* · 4편");
        assert_eq!(
            t[3],
            "<https://blog.example/000/post|0번째 글: 스프링 트랜잭션 전파 정리>"
        );
        assert_eq!(t[4], "회원000 · 11월 14일 (목) · 3분 읽기");
        // header, period, 3 team sections, 12 × (title, author), closing.
        assert_eq!(
            payloads[0]["blocks"].as_array().unwrap().len(),
            2 + 3 + 24 + 1
        );
    }

    #[test]
    fn hostile_titles_ping_nobody_and_make_no_link() {
        let titles = [
            "<!channel>",
            "<!here> 긴급",
            "@everyone 보세요",
            "<@U123>",
            "<https://evil.example|click>",
            "*굵게* _기울임_ `코드` | 파이프",
            "줄\n바꿈\r\n제목",
            &"가".repeat(5000),
        ];
        let mut posts: Vec<PostView> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| post("<@U999> 팀", i, t))
            .collect();
        posts[0].author = "<!channel> & co".to_string();
        let d = digest_of(
            vec![TeamView {
                team: "<@U999> 팀".to_string(),
                posts,
            }],
            Vec::new(),
        );
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_slack(&payloads[0]), Ok(()));
        let t = texts(&payloads[0]);
        let link = |i: usize, label: &str| format!("<https://blog.example/{i:03}/post|{label}>");
        assert_eq!(t[2], "*&lt;@U999&gt; 팀* · 8편");
        assert_eq!(t[3], link(0, "&lt;!channel&gt;"));
        assert_eq!(
            t[4],
            "&lt;!channel&gt; &amp; co · 11월 14일 (목) · 3분 읽기"
        );
        assert_eq!(t[5], link(1, "&lt;!here&gt; 긴급"));
        assert_eq!(t[7], link(2, "@everyone 보세요"));
        assert_eq!(t[9], link(3, "&lt;@U123&gt;"));
        assert_eq!(t[11], link(4, "&lt;https://evil.example|click&gt;"));
        assert_eq!(t[13], link(5, "*굵게* _기울임_ `코드` | 파이프"));
        assert_eq!(t[15], link(6, "줄 바꿈 제목"));
        let long = &t[17];
        assert!(
            long.starts_with("<https://blog.example/007/post|가가"),
            "{long}"
        );
        assert!(long.ends_with("가…>"), "{long}");
        assert_eq!(
            units(long),
            "<https://blog.example/007/post|>".len() + TITLE_UNITS
        );
        let all = joined(&payloads);
        for bad in [
            "<!channel>",
            "<!here>",
            "<@U123>",
            "<@U999>",
            "<https://evil",
            "<!everyone>",
        ] {
            assert!(!all.contains(bad), "{bad} survived");
        }
        // No text is left for Slack to parse on its own.
        assert!(!all.contains("\"verbatim\":false"));
        assert_eq!(all.matches("\"verbatim\":true").count(), t.len() - 1);
    }

    #[test]
    fn links_are_encoded_and_only_http_links_are_made() {
        let mut a = post("팀", 1, "제목");
        a.link = Some("https://a.example/x|y<z> w".to_string());
        let mut b = post("팀", 2, "링크 없는 & 글");
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
        let t = texts(&digest(&d)[0]);
        assert_eq!(t[3], "<https://a.example/x%7Cy%3Cz%3E%20w|제목>");
        assert_eq!(t[5], "링크 없는 &amp; 글");
        assert_eq!(t[7], "스크립트");
    }

    #[test]
    fn the_operators_digest_lists_feeds_in_trouble_unverified_rounds_and_names() {
        let d = operators_digest();
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_slack(&payloads[0]), Ok(()));
        let t = texts(&payloads[0]);
        assert_eq!(t[0], "[글또 10기] 운영진 주간 점검 · 2024-W46");
        assert_eq!(
            t[2],
            "*피드 상태*\n4회 이상 연속으로 가져오지 못한 피드가 1개 있어요."
        );
        assert_eq!(
            t[3],
            "• *박지훈* (jihoon): 6회 연속 실패, 마지막 성공 2024-11-02\n    https://velog.io/rss/jihoon — HTTP 503 from velog.io"
        );
        assert_eq!(
            t[4],
            "피드를 읽지 못해 판정하지 못한 회차가 1건 있어요 (벌금 없음, 피드를 읽으면 다시 판정해요).\n• *최유나* (yuna) 5회차: https://yuna.example/feed.xml — 마감 뒤로 읽지 못함"
        );
        assert_eq!(
            t[5],
            "*5회차 마감 · 11월 17일 (일)*\n제출 *30* · 패스 *3* · 미제출 *5* · 판정 보류 *2* (40명 중 30명 제출, 75%)"
        );
        assert_eq!(t[6], "미제출: 미제출자1, 미제출자2");
        assert_eq!(t[7], "분량 미달: 짧은글1, 짧은글2");
        assert_eq!(t[8], "늦게 올라와 확인이 필요한 글 (feeds.toml의 overrides로 결정해 주세요): 늦은글1, 늦은글2");
        assert_eq!(t[9], "패스: 패스한1, 패스한2");
        assert_eq!(t[10], "판정 보류 (피드를 읽지 못함): 보류된1, 보류된2");
        assert_eq!(t[11], "*데이터* · 1편");

        // The members see counts only, and with `show_missing` the missed and short, never
        // who was late, passed or is unverified.
        let mut members = d.clone();
        members.operators = false;
        members.trouble.clear();
        members.unverified.clear();
        members.show_names = true;
        let all = joined(&digest(&members));
        assert!(all.contains("미제출: 미제출자1"));
        assert!(!all.contains("늦은글1") && !all.contains("패스한1") && !all.contains("보류된1"));
        assert!(!all.contains("피드 상태"));
        members.show_names = false;
        assert!(!joined(&digest(&members)).contains("미제출자1"));
    }

    #[test]
    fn a_name_list_too_long_for_a_section_continues_in_the_next() {
        let mut d = operators_digest();
        d.rounds[0].missed_names = (0..800)
            .map(|i| format!("아주긴이름의회원{i:03}"))
            .collect();
        let payloads = digest(&d);
        let all: Vec<String> = payloads.iter().flat_map(texts).collect();
        let pieces: Vec<&String> = all.iter().filter(|t| t.starts_with("미제출")).collect();
        assert!(pieces.len() > 2, "{}", pieces.len());
        assert!(pieces[1].starts_with("미제출 (계속): "));
        assert!(pieces.iter().all(|p| units(p) <= SECTION_UNITS));
        for i in 0..800 {
            let name = format!("아주긴이름의회원{i:03}");
            let holding = all
                .iter()
                .filter(|t| t.split(", ").any(|n| n.ends_with(&name)))
                .count();
            assert_eq!(holding, 1, "{name}");
        }
        assert!(payloads.iter().all(|p| limits::check_slack(p).is_ok()));
    }

    #[test]
    fn an_empty_week_is_one_short_friendly_message() {
        let d = digest_of(Vec::new(), Vec::new());
        assert!(d.empty);
        let payloads = digest(&d);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_slack(&payloads[0]), Ok(()));
        let t = texts(&payloads[0]);
        assert_eq!(t.len(), 4, "{t:?}");
        assert_eq!(t[2], EMPTY_WEEK);
        assert!(t[3].contains("|모아보기>"));
    }

    #[test]
    fn the_channel_reminder_mentions_exactly_the_members_with_a_slack_id() {
        let r = reminder_of();
        let payloads = reminder(&r);
        assert_eq!(payloads.len(), 1);
        assert_eq!(limits::check_slack(&payloads[0]), Ok(()));
        assert_eq!(
            payloads[0]["text"],
            "[글또 10기] 5회차 마감까지 23시간 12분 · 아직 5명"
        );
        let t = texts(&payloads[0]);
        assert_eq!(
            t[1],
            "*11월 24일 (일) 24:00* 마감까지 23시간 12분 남았어요. 아직 글이 확인되지 않은 분들이에요 (40명 중 5명)."
        );
        assert_eq!(t[2], "*데이터* (2명)\n<@U01MINJI> 김민지, 정태훈");
        assert_eq!(t[3], "*백엔드* (1명)\n<@U02JIHOON> 박지훈");
        assert_eq!(t[4], "*인프라* (2명)\n오성민, 최유나");
        assert_eq!(
            t[5],
            "마감 11월 24일 (일) 24:00 · <https://geultto.example/agg/|진행 상황>"
        );
        let all = joined(&payloads);
        assert_eq!(all.matches("<@").count(), 2);
    }

    #[test]
    fn a_reminder_refuses_to_mention_an_id_that_is_not_a_slack_id() {
        let mut r = reminder_of();
        r.teams[0].members[0].slack_id = Some("U1> <!channel".to_string());
        r.teams[0].members[0].name = "<!here>".to_string();
        let all = joined(&reminder(&r));
        assert!(!all.contains("<!channel") && !all.contains("<!here>"));
        assert!(all.contains("&lt;!here&gt;, 정태훈"));
        assert_eq!(direct(&r, &r.teams[0].members[0]), None);
    }

    #[test]
    fn a_reminder_of_many_teams_is_split_and_names_everyone_once() {
        let mut r = reminder_of();
        r.teams = (0..60)
            .map(|t| RemindTeam {
                team: format!("팀{t:02}"),
                members: (0..7)
                    .map(|m| PendingMember {
                        id: format!("t{t:02}m{m}"),
                        name: format!("이름{t:02}-{m}"),
                        slack_id: Some(format!("U{t:02}{m}X")),
                        email: None,
                    })
                    .collect(),
            })
            .collect();
        let payloads = reminder(&r);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| limits::check_slack(p).is_ok()));
        let all = joined(&payloads);
        for t in 0..60 {
            for m in 0..7 {
                assert_eq!(
                    all.matches(&format!("<@U{t:02}{m}X> 이름{t:02}-{m}"))
                        .count(),
                    1
                );
            }
        }
        assert_eq!(all.matches("|진행 상황>").count(), 1);
    }

    #[test]
    fn a_direct_message_goes_to_a_member_with_a_slack_id_only() {
        let r = reminder_of();
        let minji = &r.teams[0].members[0];
        let dm = direct(&r, minji).unwrap();
        assert_eq!(limits::check_slack(&dm), Ok(()));
        assert_eq!(dm["channel"], "U01MINJI");
        assert_eq!(dm["text"], r.personal_text(minji).trim());
        let body = dm.pointer("/blocks/0/text/text").unwrap().as_str().unwrap();
        assert!(body.starts_with(
            "김민지님, 글또 10기 5회차 마감(11월 24일 (일) 24:00)까지 23시간 12분 남았어요."
        ));
        assert!(
            body.ends_with("진행 상황: <https://geultto.example/agg/>"),
            "{body}"
        );
        assert_eq!(direct(&r, &r.teams[0].members[1]), None);
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
        assert_eq!(limits::check_slack(&p), Ok(()));
        assert_eq!(
            p["text"],
            "5회차 리마인드: 412명 중 23명 (DM 20명, 메일 15명)"
        );
        assert_eq!(
            p.pointer("/blocks/0/text/text").unwrap(),
            "5회차 리마인드: 412명 중 23명 (DM 20명, 메일 15명)"
        );
    }
}
