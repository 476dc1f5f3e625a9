//! The longevity benchmark (issue 16): does a `fetch` run cost the same on the last day of a
//! cohort as on the first? It serves N synthetic RSS feeds (20 newest items each, Korean text,
//! with ETags and 304s) from H loopback hosts (127.0.0.2…), then runs the release
//! `geultto-agg fetch` R times with `--now` advancing by `[fetch] interval` through a cohort of
//! `count` rounds `every_days` apart, a few members posting between runs (each member with
//! probability `rate` per simulated day). Each run's CPU time (user + sys, from bash's `time`,
//! millisecond resolution) and the store's size are recorded; at the end `report --round all`
//! is timed and every member-round is checked against what the bench posted.
//!
//! `cargo build --release --bin geultto-agg --example longevity &&
//! target/release/examples/longevity --members 300 --runs 3360` (see `--help`). Never part of
//! `cargo test`: timings belong here, not in tests.

#[path = "rng.rs"]
mod rng;
use rng::Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// Items a feed keeps (the newest).
const KEPT: usize = 20;
/// The cohort's first day (local, +09:00); the feeds' old items are dated before it.
const START: &str = "2025-03-02";

#[derive(Debug, Clone)]
struct Args {
    members: usize,
    runs: usize,
    hosts: usize,
    interval_hours: i64,
    rate: f64,
    rounds: u32,
    every_days: u32,
    bin: PathBuf,
    work: PathBuf,
    out: Option<PathBuf>,
    hold: bool,
}

fn parse_args() -> Result<Args> {
    let exe = std::env::current_exe()?;
    let default_bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("geultto-agg"))
        .unwrap_or_else(|| PathBuf::from("geultto-agg"));
    let mut a = Args {
        members: 300,
        runs: 560,
        hosts: 5,
        interval_hours: 6,
        rate: 0.07,
        rounds: 10,
        every_days: 14,
        bin: default_bin,
        work: std::env::temp_dir().join("geultto-longevity"),
        out: None,
        hold: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--members" => a.members = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
            "--hosts" => a.hosts = value()?.parse()?,
            "--interval-hours" => a.interval_hours = value()?.parse()?,
            "--rate" => a.rate = value()?.parse()?,
            "--rounds" => a.rounds = value()?.parse()?,
            "--every-days" => a.every_days = value()?.parse()?,
            "--bin" => a.bin = PathBuf::from(value()?),
            "--work" => a.work = PathBuf::from(value()?),
            "--out" => a.out = Some(PathBuf::from(value()?)),
            "--hold" => a.hold = true,
            "-h" | "--help" => {
                println!(
                    "longevity [--members 300] [--runs 560] [--hosts 5] [--interval-hours 6]\n\
                     \x20         [--rate 0.07 (posts per member per day)] [--rounds 10] [--every-days 14]\n\
                     \x20         [--bin target/release/geultto-agg] [--work /tmp/geultto-longevity]\n\
                     \x20         [--out FILE (per-run CSV)] [--hold (keep serving at the end)]\n\
                     Hourly over a 10-round cohort: --interval-hours 1 --runs 3360"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}; see --help"),
        }
    }
    if a.hosts == 0 || a.interval_hours <= 0 {
        bail!("--hosts and --interval-hours must be positive");
    }
    Ok(a)
}

const WORDS: &[&str] = &[
    "글쓰기",
    "개발자",
    "회고",
    "서버",
    "데이터베이스",
    "트랜잭션",
    "인덱스",
    "배포",
    "테스트",
    "코드",
    "리뷰",
    "성능",
    "메모리",
    "네트워크",
    "프로젝트",
    "팀",
    "문서",
    "설계",
    "장애",
    "모니터링",
    "캐시",
    "쿼리",
    "함수",
    "타입",
    "컴파일러",
    "러스트",
    "비동기",
    "스레드",
];

/// One post: ~`chars` characters of Korean text in a few paragraphs.
fn post_html(rng: &mut Rng, chars: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    while n < chars {
        out.push_str("<p>");
        for _ in 0..12 {
            let w = WORDS[rng.below(WORDS.len())];
            out.push_str(w);
            out.push(' ');
            n += w.chars().count();
        }
        out.push_str("입니다.</p>\n");
    }
    out
}

/// An item of a member's feed.
#[derive(Debug, Clone)]
struct Item {
    n: u64,
    published: DateTime<Utc>,
    html: String,
}

/// One member's feed: its items (newest first) and the version its ETag names.
#[derive(Debug, Clone)]
struct FeedDoc {
    items: Vec<Item>,
    version: u64,
    body: Arc<Vec<u8>>,
}

fn render_feed(i: usize, items: &[Item]) -> Vec<u8> {
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>회원 {i}의 블로그</title><link>https://m{i}.example.com/</link>\
         <description>벤치마크</description>\n"
    );
    for it in items {
        let _ = writeln!(
            x,
            "<item><title>{i}번 회원의 글 {n}</title><link>https://m{i}.example.com/{n}</link>\
             <guid>https://m{i}.example.com/{n}</guid><pubDate>{date}</pubDate>\
             <description><![CDATA[{html}]]></description></item>",
            n = it.n,
            date = it.published.to_rfc2822(),
            html = it.html
        );
    }
    x.push_str("</channel></rss>\n");
    x.into_bytes()
}

struct Server {
    feeds: Mutex<Vec<FeedDoc>>,
    ports: Vec<u16>,
    hosts: usize,
}

fn host_ip(h: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + h as u8)
}

impl Server {
    fn url(&self, i: usize) -> String {
        let h = i % self.hosts;
        format!("http://{}:{}/f/{i}.xml", host_ip(h), self.ports[h])
    }
}

fn start_server(feeds: Vec<FeedDoc>, hosts: usize) -> Result<Arc<Server>> {
    let mut listeners = Vec::new();
    for h in 0..hosts {
        let addr = SocketAddr::new(IpAddr::V4(host_ip(h)), 0);
        listeners.push(TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?);
    }
    let ports = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()?;
    let server = Arc::new(Server {
        feeds: Mutex::new(feeds),
        ports,
        hosts,
    });
    for listener in listeners {
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = Arc::clone(&server);
                std::thread::spawn(move || {
                    let _ = serve(&server, stream);
                });
            }
        });
    }
    Ok(server)
}

fn serve(server: &Server, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        if path.is_empty() {
            continue;
        }
        let mut inm = None;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let h = line.trim();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("if-none-match") {
                    inm = Some(v.trim().to_string());
                }
            }
        }
        let i = path
            .strip_prefix("/f/")
            .and_then(|p| p.strip_suffix(".xml"))
            .and_then(|p| p.parse::<usize>().ok());
        let doc = i.and_then(|i| {
            let feeds = server.feeds.lock().ok()?;
            feeds.get(i).map(|d| (d.version, Arc::clone(&d.body)))
        });
        match (i, doc) {
            (Some(i), Some((version, body))) => {
                let etag = format!("\"{i}-{version}\"");
                if inm.as_deref() == Some(etag.as_str()) {
                    let head = format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n");
                    writer.write_all(head.as_bytes())?;
                } else {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n\
                         Content-Length: {}\r\nETag: {etag}\r\n\r\n",
                        body.len()
                    );
                    writer.write_all(head.as_bytes())?;
                    writer.write_all(&body)?;
                }
            }
            _ => writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
    }
}

fn config(server: &Server, a: &Args) -> String {
    let mut t = format!(
        r#"[club]
name = "장기 벤치마크"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"

[rounds]
start = "{START}"
every_days = {every}
count = {count}
min_chars = 300
late_after = "6h"

[storage]
path = "store/geultto-agg.db"

[fetch]
concurrency = 32
per_host = 0
timeout = "60s"
interval = "{hours}h"
allow_private_addresses = true

[output]
dir = "public"
feed_url = "https://geultto.github.io/agg/atom.xml"

[reader]
pages = false
"#,
        every = a.every_days,
        count = a.rounds,
        hours = a.interval_hours
    );
    for i in 0..a.members {
        let _ = write!(
            t,
            "\n[[members]]\nid = \"m{i:04}\"\nname = \"회원 {i}\"\nteam = \"팀 {}\"\nfeeds = [\"{}\"]\n",
            i % 12,
            server.url(i)
        );
    }
    t
}

/// Runs `cmd` under bash's `time`; returns (CPU user + sys seconds, wall seconds, stdout).
fn timed(bin: &Path, args: &[String], dir: &Path) -> Result<(f64, f64, String)> {
    let mut script = String::from("TIMEFORMAT='%3U %3S'; time \"$0\"");
    for i in 1..=args.len() {
        let _ = write!(script, " \"${i}\"");
    }
    script.push_str(" >stdout.txt 2>stderr.txt");
    let start = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .arg(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()?;
    let wall = start.elapsed().as_secs_f64();
    let stdout = std::fs::read_to_string(dir.join("stdout.txt")).unwrap_or_default();
    if !out.status.success() {
        let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
        bail!("{} {args:?} failed: {stderr}", bin.display());
    }
    let times = String::from_utf8_lossy(&out.stderr);
    let v: Vec<f64> = times
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() != 2 {
        bail!("unexpected time output {times:?}");
    }
    Ok((v[0] + v[1], wall, stdout))
}

fn store_bytes(dir: &Path) -> u64 {
    ["geultto-agg.db", "geultto-agg.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join("store").join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// The bytes of the pages that hold the posts themselves (posts, entries, their HTML, and the
/// indexes of those tables, from SQLite's `dbstat`), and the fetch-log rows.
fn store_facts(dir: &Path) -> Result<(u64, u64)> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("store/geultto-agg.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let posts: i64 = db.query_row(
        "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
         WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name IN ('posts', 'entries', 'post_content'))",
        [],
        |r| r.get(0),
    )?;
    let log: i64 = db.query_row("SELECT COUNT(*) FROM fetch_log", [], |r| r.get(0))?;
    Ok((posts.max(0) as u64, log.max(0) as u64))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[v.len() / 2]
}

/// One run's measurements.
struct Run {
    cpu: f64,
    wall: f64,
    store: u64,
    post_bytes: u64,
    log_rows: u64,
    wrote: usize,
    rendered: bool,
}

fn main() -> Result<()> {
    let a = parse_args()?;
    let kst = FixedOffset::east_opt(9 * 3600).context("zone")?;
    let start = kst
        .from_local_datetime(
            &chrono::NaiveDate::parse_from_str(START, "%Y-%m-%d")?
                .and_hms_opt(0, 0, 0)
                .context("midnight")?,
        )
        .single()
        .context("start")?
        .with_timezone(&Utc);
    let mut rng = Rng(16);
    let mut next_n = vec![KEPT as u64; a.members];
    let feeds: Vec<FeedDoc> = (0..a.members)
        .map(|i| {
            let items: Vec<Item> = (0..KEPT as u64)
                .rev()
                .map(|n| Item {
                    n,
                    published: start - chrono::Duration::days(30 + 7 * (KEPT as i64 - n as i64)),
                    html: {
                        let chars = 400 + rng.below(800);
                        post_html(&mut rng, chars)
                    },
                })
                .collect();
            let body = Arc::new(render_feed(i, &items));
            FeedDoc {
                items,
                version: 0,
                body,
            }
        })
        .collect();
    let server = start_server(feeds, a.hosts)?;
    let _ = std::fs::remove_dir_all(&a.work);
    std::fs::create_dir_all(a.work.join("store"))?;
    std::fs::write(a.work.join("feeds.toml"), config(&server, &a))?;
    let interval = chrono::Duration::hours(a.interval_hours);
    let per_run = a.rate * a.interval_hours as f64 / 24.0;
    // What each member posted: (member, effective instant) — to check the verdicts.
    let mut posted: Vec<(usize, DateTime<Utc>)> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut csv =
        String::from("run,now,cpu_s,wall_s,store_bytes,post_bytes,fetch_log_rows,wrote,rendered\n");
    let mut now = start;
    let began = Instant::now();
    for k in 1..=a.runs {
        now += interval;
        if k > 1 {
            let mut feeds = server
                .feeds
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            for (i, doc) in feeds.iter_mut().enumerate() {
                if rng.unit() >= per_run {
                    continue;
                }
                let published = now
                    - chrono::Duration::seconds(
                        1 + rng.below(interval.num_seconds() as usize - 60) as i64,
                    );
                let n = next_n[i];
                next_n[i] += 1;
                doc.items.insert(
                    0,
                    Item {
                        n,
                        published,
                        html: {
                            let chars = 400 + rng.below(800);
                            post_html(&mut rng, chars)
                        },
                    },
                );
                doc.items.truncate(KEPT);
                doc.version += 1;
                doc.body = Arc::new(render_feed(i, &doc.items));
                posted.push((i, published));
            }
        }
        let args = vec![
            "-c".to_string(),
            "feeds.toml".to_string(),
            "--now".to_string(),
            now.with_timezone(&kst).to_rfc3339(),
            "fetch".to_string(),
        ];
        let (cpu, wall, _) = timed(&a.bin, &args, &a.work)?;
        let (post_bytes, log_rows) = store_facts(&a.work)?;
        // The run's summary goes to standard error.
        let said = std::fs::read_to_string(a.work.join("stderr.txt")).unwrap_or_default();
        let wrote = said.lines().filter(|l| l.starts_with("wrote ")).count();
        let rendered = !said.contains("outputs up to date");
        let run = Run {
            cpu,
            wall,
            store: store_bytes(&a.work),
            post_bytes,
            log_rows,
            wrote,
            rendered,
        };
        let _ = writeln!(
            csv,
            "{k},{},{cpu:.3},{wall:.3},{},{post_bytes},{log_rows},{wrote},{rendered}",
            now.to_rfc3339(),
            run.store
        );
        if k % 100 == 0 {
            // Kept as it goes: a long run stopped early still leaves its figures.
            std::fs::write(a.work.join("runs.csv"), &csv)?;
            eprintln!(
                "run {k}/{}: cpu {cpu:.3}s, store {:.1} MB, fetch_log {log_rows} rows, {:.0}s elapsed",
                a.runs,
                run.store as f64 / 1e6,
                began.elapsed().as_secs_f64()
            );
        }
        runs.push(run);
    }
    if let Some(out) = &a.out {
        std::fs::write(out, &csv)?;
    }
    std::fs::write(a.work.join("runs.csv"), &csv)?;
    let report_args = vec![
        "-c".to_string(),
        "feeds.toml".to_string(),
        "--now".to_string(),
        now.with_timezone(&kst).to_rfc3339(),
        "report".to_string(),
        "--round".to_string(),
        "all".to_string(),
        "--format".to_string(),
        "json".to_string(),
    ];
    let (report_cpu, report_wall, report) = timed(&a.bin, &report_args, &a.work)?;
    let (right, judged) = check(&report, &posted, &a, start, now)?;
    summarise(
        &a,
        &runs,
        report_cpu,
        report_wall,
        right,
        judged,
        began.elapsed(),
    );
    if a.hold {
        // For profiling the next run by hand against the cohort's last state.
        eprintln!(
            "serving; try: cd {} && {} -c feeds.toml --now {} fetch",
            a.work.display(),
            a.bin.display(),
            (now + chrono::Duration::hours(a.interval_hours))
                .with_timezone(&kst)
                .to_rfc3339()
        );
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    Ok(())
}

/// Checks every member-round of `report` (JSON) against what the bench posted: a round with a
/// post is `submitted`; a closed round without one whose evidence time has passed is `missed`;
/// the rest `pending`/`unverified`. Returns (right, judged).
fn check(
    report: &str,
    posted: &[(usize, DateTime<Utc>)],
    a: &Args,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(usize, usize)> {
    let v: serde_json::Value = serde_json::from_str(report).context("report JSON")?;
    let round_len = chrono::Duration::days(i64::from(a.every_days));
    let mut with_post: BTreeMap<(usize, u32), bool> = BTreeMap::new();
    // Round k covers the local dates start < d <= start + k·every_days and closes at 24:00 of
    // its last date: `opens` is the first of them at 00:00.
    let opens = start + chrono::Duration::days(1);
    for (i, at) in posted.iter().filter(|(_, at)| *at >= opens) {
        let k = ((*at - opens).num_seconds() / round_len.num_seconds()) as u32 + 1;
        with_post.insert((*i, k), true);
    }
    let (mut right, mut judged) = (0, 0);
    let members = v["members"].as_array().context("members")?;
    for (i, m) in members.iter().enumerate() {
        for r in m["rounds"].as_array().context("rounds")? {
            let k = r["round"].as_u64().unwrap_or(0) as u32;
            let status = r["status"].as_str().unwrap_or("");
            let closes = opens + round_len * k as i32;
            let expected: &[&str] = if with_post.contains_key(&(i, k)) {
                &["submitted"]
            } else if now >= closes + chrono::Duration::hours(6) {
                &["missed"]
            } else if now >= closes {
                &["unverified", "missed"]
            } else {
                &["pending"]
            };
            judged += 1;
            if expected.contains(&status) {
                right += 1;
            } else if judged - right <= 5 {
                eprintln!("m{i:04} round {k}: {status}, expected {expected:?}");
            }
        }
    }
    Ok((right, judged))
}

fn summarise(
    a: &Args,
    runs: &[Run],
    report_cpu: f64,
    report_wall: f64,
    right: usize,
    judged: usize,
    elapsed: Duration,
) {
    let cpus: Vec<f64> = runs.iter().map(|r| r.cpu).collect();
    let early: Vec<f64> = cpus.iter().skip(9).take(101).copied().collect();
    let late: Vec<f64> = cpus.iter().rev().take(100).copied().collect();
    let (m_early, m_late) = (median(&early), median(&late));
    let from = runs.get(9);
    let last = runs.last();
    let (growth, beyond) = match (from, last) {
        (Some(f), Some(l)) if runs.len() > 10 => {
            let n = (runs.len() - 10) as f64;
            let store = l.store as f64 - f.store as f64;
            let posts = l.post_bytes as f64 - f.post_bytes as f64;
            (store / n, (store - posts) / n)
        }
        _ => (0.0, 0.0),
    };
    let rendered = runs.iter().filter(|r| r.rendered).count();
    let walls: Vec<f64> = runs.iter().map(|r| r.wall).collect();
    println!(
        "N = {} feeds on {} hosts, R = {} runs {} h apart, {:.0}% of members posting a day; bench took {:.0} s",
        a.members,
        a.hosts,
        a.runs,
        a.interval_hours,
        a.rate * 100.0,
        elapsed.as_secs_f64()
    );
    println!("| measure | value |\n|---|---|");
    println!("| median CPU, runs 10–110 | {m_early:.3} s |");
    println!("| median CPU, last 100 runs | {m_late:.3} s |");
    println!(
        "| last 100 / runs 10–110 | {:.2} |",
        m_late / m_early.max(1e-9)
    );
    println!("| median wall, all runs | {:.3} s |", median(&walls));
    println!("| store growth per run (from run 10) | {:.0} B |", growth);
    println!(
        "| … beyond the pages of posts, entries and their indexes | {:.0} B |",
        beyond
    );
    if let Some(l) = last {
        println!("| store at the end | {:.2} MB |", l.store as f64 / 1e6);
        println!("| fetch_log rows at the end | {} |", l.log_rows);
    }
    println!(
        "| runs that rendered / wrote a file | {rendered} / {} |",
        runs.iter().filter(|r| r.wrote > 0).count()
    );
    println!("| `report --round all` CPU / wall | {report_cpu:.3} s / {report_wall:.3} s |");
    println!("| member-rounds judged right | {right} of {judged} |");
}
