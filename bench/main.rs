//! The fetch benchmark (issue 6). It serves N synthetic feeds (5–300 KB, 10–50 items, Korean
//! text, gzipped ahead of time, with ETags) from H loopback hosts (127.0.0.2…, one "platform"
//! host holding 40% of the feeds) after a fixed latency L, runs the release `geultto-agg fetch`
//! cold and warm against them, and newsboat on the same feeds for N ≤ `--newsboat-max`. Each run
//! is measured from outside by GNU time (wall, user + sys CPU, peak RSS) and by the server
//! (requests in flight per host, 200s and 304s), next to the ideal latency bound
//! `max(⌈N/C⌉·L, maxₕ ⌈nₕ/p⌉·L)`.
//!
//! Run it with `bash bench/run.sh` (it builds the release binaries first). It is never part of
//! `cargo test`: timings belong here, not in tests.

#[path = "rng.rs"]
mod rng;
use rng::Rng;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{FixedOffset, TimeZone};
use flate2::{write::GzEncoder, Compression};

/// The instant every run pretends it is (`--now`), and the feeds' dates count back from.
const NOW: &str = "2024-11-20T12:00:00+09:00";
const NOW_UNIX: i64 = 1_732_071_600;

#[derive(Debug, Clone)]
struct Args {
    sizes: Vec<usize>,
    hosts: usize,
    latency: Duration,
    concurrency: usize,
    newsboat_max: usize,
    per_host_row: Option<usize>,
    serve: bool,
    bin: PathBuf,
    work: PathBuf,
}

fn parse_args() -> Result<Args> {
    let exe = std::env::current_exe()?;
    // target/release/examples/bench → target/release/geultto-agg
    let default_bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("geultto-agg"))
        .unwrap_or_else(|| PathBuf::from("geultto-agg"));
    let mut args = Args {
        sizes: vec![100, 1000, 10_000],
        hosts: 10,
        latency: Duration::from_millis(100),
        concurrency: 32,
        newsboat_max: 1000,
        per_host_row: Some(1000),
        serve: false,
        bin: default_bin,
        work: std::env::temp_dir().join("geultto-bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                args.sizes = value()?
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()?
            }
            "--hosts" => args.hosts = value()?.parse()?,
            "--latency-ms" => args.latency = Duration::from_millis(value()?.parse()?),
            "--concurrency" => args.concurrency = value()?.parse()?,
            "--newsboat-max" => args.newsboat_max = value()?.parse()?,
            "--no-newsboat" => args.newsboat_max = 0,
            "--per-host-row" => {
                let v: usize = value()?.parse()?;
                args.per_host_row = (v > 0).then_some(v);
            }
            "--bin" => args.bin = PathBuf::from(value()?),
            "--serve" => args.serve = true,
            "--work" => args.work = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!(
                    "bench [--sizes 100,1000,10000] [--hosts 10] [--latency-ms 100] [--concurrency 32]\n\
                     \x20     [--newsboat-max 1000 | --no-newsboat] [--per-host-row 1000 (0 = none)]\n\
                     \x20     [--bin target/release/geultto-agg] [--work /tmp/geultto-bench]\n\
                     --serve: only serve the largest size and write its feeds.toml (per_host = 0)\n\
                     \x20        and its documents (docs/) under --work, for profiling `geultto-agg\n\
                     \x20        fetch` by hand and for `--example parse-floor`"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}; see --help"),
        }
    }
    if args.hosts < 2 {
        bail!("--hosts must be at least 2 (one platform host and the rest)");
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------------
// Synthetic feeds

const WORDS: &[&str] = &[
    "개발",
    "서버",
    "데이터",
    "배포",
    "테스트",
    "코드",
    "리뷰",
    "팀",
    "프로젝트",
    "성능",
    "메모리",
    "캐시",
    "데이터베이스",
    "쿼리",
    "인덱스",
    "트랜잭션",
    "동시성",
    "비동기",
    "함수",
    "모듈",
    "설계",
    "구조",
    "문제",
    "해결",
    "경험",
    "회고",
    "공부",
    "정리",
    "사용자",
    "요청",
    "응답",
    "로그",
    "모니터링",
    "장애",
    "원인",
    "분석",
    "개선",
    "측정",
    "결과",
    "방법",
    "과정",
    "도구",
    "라이브러리",
    "프레임워크",
    "쿠버네티스",
    "컨테이너",
    "네트워크",
    "보안",
    "인증",
    "권한",
    "에러",
    "예외",
    "타입",
    "컴파일러",
    "런타임",
    "스레드",
    "작업",
    "일정",
    "회의",
    "문서",
    "글쓰기",
    "독자",
    "블로그",
    "커뮤니티",
    "발표",
    "스터디",
    "면접",
    "이직",
    "신입",
    "주니어",
    "시니어",
    "리팩터링",
    "마이그레이션",
    "파이프라인",
    "알림",
    "대시보드",
    "트래픽",
    "지연",
    "처리량",
    "API",
    "Rust",
    "Kotlin",
    "Spring",
    "React",
    "SQL",
    "Redis",
    "Kafka",
];
const PARTICLES: &[&str] = &[
    "은", "는", "이", "가", "을", "를", "에서", "으로", "와", "의", "도", "",
];
const OPENERS: &[&str] = &[
    "이번 글에서는",
    "처음에는",
    "생각보다",
    "결국",
    "그래서",
    "하지만",
    "예를 들어",
    "지난 회차에",
    "솔직히",
    "정리하면",
];
const ENDINGS: &[&str] = &[
    "했다.",
    "합니다.",
    "였습니다.",
    "할 수 있다.",
    "입니다.",
    "되었다.",
    "해 보자.",
    "알게 되었다.",
    "중요하다.",
    "필요했다.",
];

fn sentence(rng: &mut Rng, out: &mut String) {
    if rng.below(3) == 0 {
        out.push_str(rng.pick(OPENERS));
        out.push(' ');
    }
    for _ in 0..4 + rng.below(8) {
        out.push_str(rng.pick(WORDS));
        out.push_str(rng.pick(PARTICLES));
        match rng.below(40) {
            0 => out.push_str(" &amp;"),
            1 => out.push_str("&nbsp;"),
            2 => out.push_str(" <strong>핵심</strong>"),
            3 => out.push_str(" <a href=\"https://example.com/ref?utm_source=rss\">참고 링크</a>"),
            _ => {}
        }
        out.push(' ');
    }
    out.push_str(rng.pick(ENDINGS));
    out.push(' ');
}

/// One block of post HTML: mostly paragraphs, with headings, code, lists, images and quotes.
fn block(rng: &mut Rng, out: &mut String) {
    match rng.below(14) {
        0 => {
            out.push_str("<h2>");
            out.push_str(rng.pick(WORDS));
            out.push(' ');
            out.push_str(rng.pick(WORDS));
            out.push_str("</h2>\n");
        }
        1 => {
            out.push_str("<pre><code class=\"language-rust\">fn main() {\n    let v: Vec&lt;u32&gt; = (0..10).collect();\n    println!(\"{:?} 안녕\", v);\n}\n</code></pre>\n");
        }
        2 => {
            out.push_str("<ul>");
            for _ in 0..2 + rng.below(3) {
                out.push_str("<li>");
                sentence(rng, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>\n");
        }
        3 => {
            let n = rng.below(1000);
            let _ = writeln!(
                out,
                "<figure><img src=\"https://img.example.com/{n}.png\" alt=\"그림 {n}\"><figcaption>그림 {n}</figcaption></figure>"
            );
        }
        4 => {
            out.push_str("<blockquote><p>");
            sentence(rng, out);
            out.push_str("</p></blockquote>\n");
        }
        _ => {
            out.push_str("<p>");
            for _ in 0..1 + rng.below(4) {
                sentence(rng, out);
            }
            if rng.below(6) == 0 {
                out.push_str("<br>");
                out.push_str("<code>cargo test</code> ");
            }
            out.push_str("</p>\n");
        }
    }
}

fn post_html(rng: &mut Rng, budget: usize) -> String {
    let mut html = String::with_capacity(budget + 512);
    while html.len() < budget {
        block(rng, &mut html);
    }
    html
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Tistory-like RSS: the whole post in a CDATA `description`.
    Platform,
    /// WordPress-like RSS: a short `description` and the post in `content:encoded`.
    RssContent,
    /// Jekyll/Hugo-like Atom: escaped HTML in `content type="html"`, plus a `summary`.
    Atom,
}

/// One feed as served: the body (gzipped ahead of time) and its validators.
struct Feed {
    raw: Vec<u8>,
    gz: Vec<u8>,
    etag: String,
    content_type: &'static str,
}

/// The host (0 = the platform host) of feed `i`: exactly ⌊0.4·n⌋ of the first n feeds are on the
/// platform host for every n, the others round-robin over the remaining hosts.
fn host_of(i: usize, hosts: usize) -> usize {
    let big = |n: usize| n * 2 / 5;
    if big(i + 1) > big(i) {
        0
    } else {
        1 + (i - big(i)) % (hosts - 1)
    }
}

fn generate(i: usize, hosts: usize) -> Result<Feed> {
    let mut rng = Rng(0x6765_756c_7474_6f00 ^ (i as u64).wrapping_mul(0x1000_0001));
    let style = if host_of(i, hosts) == 0 {
        Style::Platform
    } else if rng.below(2) == 0 {
        Style::RssContent
    } else {
        Style::Atom
    };
    // Size log-uniform in 5–300 KB (mean ≈ 72 KB), 10–50 items.
    let target = (5_000f64.ln() + rng.unit() * (300_000f64.ln() - 5_000f64.ln())).exp() as usize;
    let items = 10 + rng.below(41);
    let budget = (target / items).saturating_sub(450).max(60);
    let zone = FixedOffset::east_opt(9 * 3600).context("zone")?;
    let user = format!("user{i:05}");
    let mut x = String::with_capacity(target + 4096);
    match style {
        Style::Platform | Style::RssContent => {
            let site = if style == Style::Platform {
                format!("https://{user}.tistory.com")
            } else {
                format!("https://{user}.example.com")
            };
            x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n<channel>\n");
            let _ = write!(
                x,
                "<title>{user}의 개발 블로그</title>\n<link>{site}/</link>\n<description>배우고 기록하는 블로그</description>\n<language>ko</language>\n"
            );
            if style == Style::Platform {
                x.push_str("<generator>TISTORY</generator>\n");
            }
            for j in 0..items {
                let when = zone
                    .timestamp_opt(
                        NOW_UNIX - (j as i64) * 5 * 86400 - rng.below(86400) as i64,
                        0,
                    )
                    .single()
                    .context("date")?;
                let title = format!(
                    "{} {} 회고 ({})",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    items - j
                );
                let link = format!("{site}/{}", items - j);
                let html = post_html(&mut rng, budget);
                let _ = write!(
                    x,
                    "<item>\n<title>{title}</title>\n<link>{link}</link>\n<guid isPermaLink=\"true\">{link}</guid>\n<category>{}</category>\n<pubDate>{}</pubDate>\n",
                    rng.pick(WORDS),
                    when.to_rfc2822()
                );
                if style == Style::Platform {
                    let _ = writeln!(x, "<description><![CDATA[{html}]]></description>");
                } else {
                    let mut first = String::new();
                    sentence(&mut rng, &mut first);
                    let _ = write!(
                        x,
                        "<description><![CDATA[{first}]]></description>\n<content:encoded><![CDATA[{html}]]></content:encoded>\n"
                    );
                }
                x.push_str("</item>\n");
            }
            x.push_str("</channel>\n</rss>\n");
        }
        Style::Atom => {
            let site = format!("https://{user}.github.io");
            let updated = zone.timestamp_opt(NOW_UNIX, 0).single().context("date")?;
            let _ = write!(
                x,
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ko\">\n<title>{user} 기술 블로그</title>\n<id>{site}/</id>\n<link href=\"{site}/\"/>\n<link rel=\"self\" href=\"{site}/feed.xml\"/>\n<updated>{}</updated>\n<author><name>{user}</name></author>\n",
                updated.to_rfc3339()
            );
            for j in 0..items {
                let when = zone
                    .timestamp_opt(
                        NOW_UNIX - (j as i64) * 5 * 86400 - rng.below(86400) as i64,
                        0,
                    )
                    .single()
                    .context("date")?;
                let title = format!(
                    "{} {} 정리 ({})",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    items - j
                );
                let link = format!("{site}/posts/{}/", items - j);
                let html = post_html(&mut rng, budget);
                let mut summary = String::new();
                sentence(&mut rng, &mut summary);
                let _ = write!(
                    x,
                    "<entry>\n<title>{title}</title>\n<link href=\"{link}\"/>\n<id>{link}</id>\n<published>{0}</published>\n<updated>{0}</updated>\n<summary type=\"html\">",
                    when.to_rfc3339()
                );
                xml_escape(&summary, &mut x);
                x.push_str("</summary>\n<content type=\"html\">");
                xml_escape(&html, &mut x);
                x.push_str("</content>\n</entry>\n");
            }
            x.push_str("</feed>\n");
        }
    }
    let raw = x.into_bytes();
    let mut enc = GzEncoder::new(Vec::with_capacity(raw.len() / 4), Compression::default());
    enc.write_all(&raw)?;
    let gz = enc.finish()?;
    let etag = format!("\"{:016x}-{}\"", fnv64(&raw), raw.len());
    Ok(Feed {
        raw,
        gz,
        etag,
        content_type: if style == Style::Atom {
            "application/atom+xml; charset=utf-8"
        } else {
            "application/rss+xml; charset=utf-8"
        },
    })
}

fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Generates feeds `0..n` on two threads. Feeds past `keep_raw` drop their plain body (only
/// clients that do not ask for gzip need it, and newsboat runs only on the first ones).
fn generate_all(n: usize, hosts: usize, keep_raw: usize) -> Result<Vec<Feed>> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunk = n.div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Feed>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                s.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|i| {
                            let mut f = generate(i, hosts)?;
                            if i >= keep_raw {
                                f.raw = Vec::new();
                            }
                            Ok(f)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("generator panicked")))
            })
            .collect()
    });
    let mut feeds = Vec::with_capacity(n);
    for part in parts {
        feeds.extend(part?);
    }
    Ok(feeds)
}

// ---------------------------------------------------------------------------------------------
// The server: one listener per loopback host, a thread per connection (keep-alive), a fixed
// latency before every answer, counters per host.

#[derive(Default)]
struct HostStats {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    ok: AtomicUsize,
    not_modified: AtomicUsize,
    other: AtomicUsize,
    bytes: AtomicUsize,
}

struct Server {
    feeds: Vec<Feed>,
    latency: Duration,
    stats: Vec<HostStats>,
    ports: Vec<u16>,
}

const LAST_MODIFIED: &str = "Wed, 20 Nov 2024 02:00:00 GMT";

fn host_ip(h: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + h as u8)
}

impl Server {
    fn url(&self, i: usize) -> String {
        let h = host_of(i, self.stats.len());
        format!("http://{}:{}/f/{i}.xml", host_ip(h), self.ports[h])
    }

    fn reset(&self) {
        for s in &self.stats {
            for a in [&s.max_in_flight, &s.ok, &s.not_modified, &s.other, &s.bytes] {
                a.store(0, Ordering::SeqCst);
            }
        }
    }

    fn snapshot(&self) -> ServerCounts {
        let get = |f: fn(&HostStats) -> &AtomicUsize| -> Vec<usize> {
            self.stats
                .iter()
                .map(|s| f(s).load(Ordering::SeqCst))
                .collect()
        };
        ServerCounts {
            max_in_flight: get(|s| &s.max_in_flight),
            ok: get(|s| &s.ok).iter().sum(),
            not_modified: get(|s| &s.not_modified).iter().sum(),
            other: get(|s| &s.other).iter().sum(),
            bytes: get(|s| &s.bytes).iter().sum(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ServerCounts {
    max_in_flight: Vec<usize>,
    ok: usize,
    not_modified: usize,
    other: usize,
    bytes: usize,
}

fn start_server(feeds: Vec<Feed>, hosts: usize, latency: Duration) -> Result<Arc<Server>> {
    let mut listeners = Vec::new();
    for h in 0..hosts {
        let addr = SocketAddr::new(IpAddr::V4(host_ip(h)), 0);
        let l = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listeners.push(l);
    }
    let ports = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()?;
    let server = Arc::new(Server {
        feeds,
        latency,
        stats: (0..hosts).map(|_| HostStats::default()).collect(),
        ports,
    });
    for (h, listener) in listeners.into_iter().enumerate() {
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = Arc::clone(&server);
                std::thread::spawn(move || {
                    let _ = serve_connection(&server, h, stream);
                });
            }
        });
    }
    Ok(server)
}

fn serve_connection(server: &Server, host: usize, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let stats = &server.stats[host];
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let request_line = String::from_utf8_lossy(&line).trim().to_string();
        if request_line.is_empty() {
            continue;
        }
        let (mut inm, mut ims, mut gzip, mut close) = (None, None, false, false);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let header = String::from_utf8_lossy(&line);
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "if-none-match" => inm = Some(value),
                "if-modified-since" => ims = Some(value),
                "accept-encoding" => gzip = value.contains("gzip"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        // In flight: from the request read to the answer about to be written (the latency L).
        // That window lies inside the client's own (request sent to answer read), so it never
        // counts more requests at once than the client had; counting through the write would
        // overlap the next request of a connection when this thread is descheduled.
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(server.latency);
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let feed = request_line
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.strip_prefix("/f/"))
            .and_then(|p| p.strip_suffix(".xml"))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| server.feeds.get(i));
        let result = match feed {
            None => {
                stats.other.fetch_add(1, Ordering::SeqCst);
                writer.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n",
                )
            }
            Some(feed)
                if inm.as_deref() == Some(feed.etag.as_str())
                    || (inm.is_none() && ims.as_deref() == Some(LAST_MODIFIED)) =>
            {
                stats.not_modified.fetch_add(1, Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nLast-Modified: {LAST_MODIFIED}\r\n\r\n",
                    feed.etag
                );
                writer.write_all(head.as_bytes())
            }
            Some(feed) => {
                stats.ok.fetch_add(1, Ordering::SeqCst);
                let plain;
                let (body, encoding) = if gzip {
                    (&feed.gz, "Content-Encoding: gzip\r\n")
                } else if !feed.raw.is_empty() {
                    (&feed.raw, "")
                } else {
                    let mut d = flate2::read::GzDecoder::new(&feed.gz[..]);
                    let mut v = Vec::new();
                    std::io::Read::read_to_end(&mut d, &mut v)?;
                    plain = v;
                    (&plain, "")
                };
                stats.bytes.fetch_add(body.len(), Ordering::SeqCst);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n{encoding}ETag: {}\r\nLast-Modified: {LAST_MODIFIED}\r\nVary: Accept-Encoding\r\n\r\n",
                    feed.content_type,
                    body.len(),
                    feed.etag
                );
                writer
                    .write_all(head.as_bytes())
                    .and_then(|()| writer.write_all(body))
            }
        };
        result?;
        if close {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and measurement

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Ours,
    Newsboat,
}

#[derive(Debug, Clone)]
struct Measured {
    n: usize,
    client: Client,
    per_host: usize,
    warm: bool,
    wall: f64,
    cpu: f64,
    rss_mb: f64,
    bench_cpu: f64,
    /// Whether the client exited successfully (shown in the row when not).
    exit_ok: bool,
    counts: ServerCounts,
    store_mb: Option<f64>,
    bound: f64,
}

/// User + system CPU seconds of this (server) process so far, from /proc/self/stat.
fn own_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = stat.rsplit_once(')').map(|(_, a)| a) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based) → index 11, 12.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `cmd` under GNU time; returns (wall, user+sys, peak RSS in MB, exit ok).
fn timed(cmd: &[&str], dir: &Path, env: &[(&str, &Path)]) -> Result<(f64, f64, f64, bool)> {
    let time_out = dir.join("time.txt");
    let mut command = Command::new("/usr/bin/time");
    command
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&time_out)
        .args(cmd)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.txt"))?);
    for (k, v) in env {
        command.env(k, v);
    }
    let start = Instant::now();
    let status = command
        .status()
        .context("running /usr/bin/time (apt-get install time)")?;
    let wall = start.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&time_out)?;
    let last = text.lines().last().unwrap_or("");
    let v: Vec<f64> = last
        .split_whitespace()
        .map(|x| x.parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("unexpected GNU time output {text:?}"))?;
    if v.len() != 4 {
        bail!("unexpected GNU time output {text:?}");
    }
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("  (GNU time: {last}; measured wall {wall:.2})");
    }
    Ok((wall, v[1] + v[2], v[3] / 1024.0, status.success()))
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn ours_config(server: &Server, n: usize, concurrency: usize, per_host: usize) -> String {
    let mut t = String::new();
    let _ = write!(
        t,
        r#"[club]
name = "벤치마크 클럽"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27", "2024-11-10", "2024-11-24", "2024-12-22"]

[storage]
path = "store/geultto-agg.db"

[fetch]
concurrency = {concurrency}
per_host = {per_host}
timeout = "60s"
allow_private_addresses = true

[output]
dir = "public"
feed_url = "https://geultto.github.io/agg/atom.xml"

# The synthetic posts link to real blog addresses: reading their pages would leave loopback.
[reader]
pages = false
"#
    );
    for i in 0..n {
        let _ = write!(
            t,
            "\n[[members]]\nid = \"m{i:05}\"\nname = \"회원 {i}\"\nteam = \"팀 {}\"\nfeeds = [\"{}\"]\n",
            i % 12,
            server.url(i)
        );
    }
    t
}

/// The ideal latency bound: max(⌈N/C⌉·L, maxₕ ⌈nₕ/p⌉·L), with p = ∞ when per_host is 0.
fn bound(n: usize, hosts: usize, concurrency: usize, per_host: usize, latency: f64) -> f64 {
    let mut per = vec![0usize; hosts];
    for i in 0..n {
        per[host_of(i, hosts)] += 1;
    }
    let global = n.div_ceil(concurrency.max(1));
    let host = per
        .iter()
        .map(|&nh| match (nh, per_host) {
            (0, _) => 0,
            (_, 0) => 1,
            (nh, p) => nh.div_ceil(p),
        })
        .max()
        .unwrap_or(0);
    global.max(host) as f64 * latency
}

struct Bench {
    args: Args,
    server: Arc<Server>,
    rows: Vec<Measured>,
}

impl Bench {
    fn run(&mut self, n: usize, client: Client, per_host: usize) -> Result<()> {
        let label = match client {
            Client::Ours => format!("ours-p{per_host}"),
            Client::Newsboat => "newsboat".to_string(),
        };
        let dir = self.args.work.join(format!("n{n}-{label}"));
        set_aside(&self.args.work, &dir)?;
        std::fs::create_dir_all(&dir)?;
        let bin = self.args.bin.display().to_string();
        let bound = bound(
            n,
            self.args.hosts,
            self.args.concurrency,
            per_host,
            self.args.latency.as_secs_f64(),
        );
        match client {
            Client::Ours => std::fs::write(
                dir.join("feeds.toml"),
                ours_config(&self.server, n, self.args.concurrency, per_host),
            )?,
            Client::Newsboat => {
                let urls: String = (0..n).map(|i| self.server.url(i) + "\n").collect();
                std::fs::write(dir.join("urls"), urls)?;
                std::fs::write(
                    dir.join("config"),
                    format!(
                        "reload-threads {}\ndownload-timeout 60\n",
                        self.args.concurrency
                    ),
                )?;
            }
        }
        for warm in [false, true] {
            self.server.reset();
            let cpu0 = own_cpu();
            let (wall, cpu, rss_mb, exit_ok) = match client {
                Client::Ours => timed(
                    &[
                        &bin,
                        "-q",
                        "-c",
                        "feeds.toml",
                        "--now",
                        NOW,
                        "fetch",
                        "--fail-on-feed-errors",
                    ],
                    &dir,
                    &[],
                )?,
                Client::Newsboat => timed(
                    &[
                        "newsboat", "-x", "reload", "-u", "urls", "-c", "cache.db", "-C", "config",
                    ],
                    &dir,
                    &[("HOME", &dir)],
                )?,
            };
            let bench_cpu = own_cpu() - cpu0;
            let store_mb = (client == Client::Ours)
                .then(|| dir_size(&dir.join("store")) as f64 / 1e6)
                .or_else(|| Some(dir_size(&dir) as f64 / 1e6));
            let m = Measured {
                n,
                client,
                per_host,
                warm,
                wall,
                cpu,
                rss_mb,
                bench_cpu,
                exit_ok,
                counts: self.server.snapshot(),
                store_mb,
                bound,
            };
            eprintln!("{}", row_text(&m));
            if !exit_ok {
                let err = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
                eprintln!(
                    "  warning: {label} exited with an error; stderr ends:\n{}",
                    tail(&err, 12)
                );
            }
            self.rows.push(m);
        }
        Ok(())
    }
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn client_name(m: &Measured) -> String {
    let name = match m.client {
        Client::Ours => format!("geultto-agg (per_host={})", m.per_host),
        Client::Newsboat => "newsboat".to_string(),
    };
    if m.exit_ok {
        name
    } else {
        format!("{name} **exited with an error**")
    }
}

fn row_text(m: &Measured) -> String {
    let big = m.counts.max_in_flight.first().copied().unwrap_or(0);
    let others = m
        .counts
        .max_in_flight
        .iter()
        .skip(1)
        .max()
        .copied()
        .unwrap_or(0);
    format!(
        "| {} | {} | {} | {:.2} | {:.1} | {:.2} | {:.2} | {:.1} | {big} / {others} | {} / {} | {:.0} | {} | {:.2} |",
        m.n,
        client_name(m),
        match (m.warm, m.exit_ok) {
            (true, true) => "warm",
            (false, true) => "cold",
            (true, false) => "warm (exit≠0)",
            (false, false) => "cold (exit≠0)",
        },
        m.wall,
        m.bound,
        m.wall / m.bound,
        m.cpu,
        m.rss_mb,
        m.counts.ok,
        m.counts.not_modified + m.counts.other,
        m.counts.bytes as f64 / 1e6,
        m.store_mb.map_or("".to_string(), |s| format!("{s:.1}")),
        m.bench_cpu,
    )
}

const HEADER: &str = "| N | client | run | wall s | bound s | wall/bound | CPU s | peak RSS MB | max in flight (big host / other) | 200 / 304 | MB sent | store MB | server CPU s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |p| p.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {mem:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if !args.bin.exists() {
        bail!(
            "{} not found: build it first (cargo build --release), or pass --bin",
            args.bin.display()
        );
    }
    let newsboat_version = if args.newsboat_max > 0 {
        let out = Command::new("newsboat").arg("-v").output().context(
            "newsboat is not installed (apt-get install newsboat), or pass --no-newsboat",
        )?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    } else {
        String::new()
    };
    std::fs::create_dir_all(&args.work)?;
    let max_n = args.sizes.iter().copied().max().unwrap_or(0);
    let t = Instant::now();
    let feeds = generate_all(max_n, args.hosts, args.newsboat_max)?;
    let xml: usize = feeds.iter().map(|f| f.raw.len()).sum();
    let gz: usize = feeds.iter().map(|f| f.gz.len()).sum();
    let generated = format!(
        "Feeds: {max_n} generated in {:.1} s (the first {}: {:.1} MB of XML; {:.1} MB gzipped in all)",
        t.elapsed().as_secs_f64(),
        args.newsboat_max.min(max_n),
        xml as f64 / 1e6,
        gz as f64 / 1e6
    );
    eprintln!("{generated}");
    let server = start_server(feeds, args.hosts, args.latency)?;
    if args.serve {
        let dir = args.work.join(format!("serve-n{max_n}"));
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("feeds.toml");
        std::fs::write(&config, ours_config(&server, max_n, args.concurrency, 0))?;
        // The plain documents too, for `--example parse-floor` (the first --newsboat-max).
        let docs = dir.join("docs");
        std::fs::create_dir_all(&docs)?;
        for (i, feed) in server
            .feeds
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.raw.is_empty())
        {
            std::fs::write(docs.join(format!("{i}.xml")), &feed.raw)?;
        }
        eprintln!(
            "serving; try: cd {} && rm -rf store public && {} -c feeds.toml --now {NOW} fetch",
            dir.display(),
            args.bin.display()
        );
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let mut bench = Bench {
        args: args.clone(),
        server,
        rows: Vec::new(),
    };
    eprintln!("{HEADER}");
    for &n in &args.sizes {
        bench.run(n, Client::Ours, 0)?;
        if n <= args.newsboat_max {
            bench.run(n, Client::Newsboat, 0)?;
        }
    }
    if let Some(n) = args.per_host_row {
        bench.run(n, Client::Ours, 4)?;
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nMachine: {} (load average at the end: {})\ngeultto-agg: {} ({})\n{}\nH = {} hosts (127.0.0.2…, the first holds 40% of the feeds), L = {} ms, C = {}\n{generated}\n",
        machine(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        bench.args.bin.display(),
        git_head(),
        if newsboat_version.is_empty() { "newsboat: not run".to_string() } else { format!("{newsboat_version}, reload-threads = {}", args.concurrency) },
        args.hosts,
        args.latency.as_millis(),
        args.concurrency
    );
    let _ = writeln!(out, "{HEADER}");
    for m in &bench.rows {
        let _ = writeln!(out, "{}", row_text(m));
    }
    let _ = writeln!(out);
    let find = |n: usize, c: Client, p: usize, warm: bool| {
        bench
            .rows
            .iter()
            .find(|m| m.n == n && m.client == c && m.per_host == p && m.warm == warm)
    };
    let mut compared = false;
    for &n in &args.sizes {
        for warm in [false, true] {
            if let (Some(o), Some(nb)) = (
                find(n, Client::Ours, 0, warm),
                find(n, Client::Newsboat, 0, warm),
            ) {
                if !compared {
                    let _ = writeln!(out, "| N | run | ours / newsboat: wall | CPU | peak RSS |\n|---|---|---|---|---|");
                    compared = true;
                }
                let _ = writeln!(
                    out,
                    "| {n} | {} | {:.3} | {:.3} | {:.3} |",
                    if warm { "warm" } else { "cold" },
                    o.wall / nb.wall,
                    o.cpu / nb.cpu.max(1e-9),
                    o.rss_mb / nb.rss_mb
                );
            }
        }
    }
    // Targets (issue 6), checked where the rows exist.
    let mut checks: Vec<(String, bool)> = Vec::new();
    if let Some(c) = find(1000, Client::Ours, 0, false) {
        checks.push((
            format!(
                "N=1000 cold wall {:.2} s ≤ 1.10 × bound {:.2} s",
                c.wall, c.bound
            ),
            c.wall <= 1.10 * c.bound,
        ));
        if let Some(nb) = find(1000, Client::Newsboat, 0, false) {
            checks.push((
                format!(
                    "N=1000 cold CPU {:.2} s ≤ newsboat's {:.2} s / 10",
                    c.cpu, nb.cpu
                ),
                c.cpu <= nb.cpu / 10.0,
            ));
        }
        checks.push((
            format!("N=1000 cold peak RSS {:.1} MB ≤ 50 MB", c.rss_mb),
            c.rss_mb <= 50.0,
        ));
    }
    if let Some(w) = find(1000, Client::Ours, 0, true) {
        checks.push((
            format!(
                "N=1000 warm wall {:.2} s ≤ 1.10 × bound {:.2} s",
                w.wall, w.bound
            ),
            w.wall <= 1.10 * w.bound,
        ));
        checks.push((
            format!("N=1000 warm CPU {:.2} s ≤ 0.3 s", w.cpu),
            w.cpu <= 0.3,
        ));
    }
    if let Some(big) = find(10_000, Client::Ours, 0, false) {
        checks.push((
            format!("N=10000 cold peak RSS {:.1} MB ≤ 100 MB", big.rss_mb),
            big.rss_mb <= 100.0,
        ));
        if let Some(k) = find(1000, Client::Ours, 0, false) {
            let cpu_ratio = big.cpu / k.cpu;
            let wall_ratio = big.wall / k.wall;
            checks.push((
                format!("N=10000 vs 1000 cold: CPU ×{cpu_ratio:.1}, wall ×{wall_ratio:.1} (linear: ≈ ×10, bound ×{:.1})", big.bound / k.bound),
                cpu_ratio <= 12.0 && wall_ratio <= 1.10 * big.bound / k.bound,
            ));
        }
    }
    if !checks.is_empty() {
        let _ = writeln!(out, "\nTargets:");
        for (what, ok) in checks {
            let _ = writeln!(out, "- [{}] {what}", if ok { "x" } else { " " });
        }
    }
    print!("{out}");
    std::fs::write(args.work.join("results.md"), &out)?;
    // Last, when nothing is timed any more (see `set_aside`).
    let _ = std::fs::remove_dir_all(args.work.join(SET_ASIDE));
    eprintln!(
        "(also written to {})",
        args.work.join("results.md").display()
    );
    Ok(())
}

/// Where a previous bench's folders wait to be deleted, under `--work`.
const SET_ASIDE: &str = ".set-aside";

/// Moves a previous bench's folder `dir` out of the way (a rename) instead of deleting it
/// before the run that reuses its name: deleting a thousand files just before a run that
/// creates a thousand makes ext4 skip the freed inodes for the next 30 s while it allocates
/// (`recently_deleted` in `find_inode_bit`), which cost a cold run at N = 1,000 about 0.3 s of
/// wall in writing its members' pages: the harness's cost, not the client's. The folders set
/// aside are deleted when the bench is over.
fn set_aside(work: &Path, dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let aside = work.join(SET_ASIDE);
    std::fs::create_dir_all(&aside)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::fs::rename(dir, aside.join(format!("{name}-{stamp}")))
        .with_context(|| format!("cannot move {} aside", dir.display()))
}

fn git_head() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
