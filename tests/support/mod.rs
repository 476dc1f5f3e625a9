//! A small hand-written HTTP/1.1 server for the fetch tests: real sockets on
//! 127.0.0.x (Linux answers on the whole 127/8, so 127.0.0.2 and 127.0.0.3
//! stand for different hosts), routes configured per test, and everything a
//! test wants to assert measured on the server side: hits per path, the
//! request headers received, when each request started, and how many requests
//! were in flight at once. Replies can be delayed, drip-fed, gzipped or cut
//! off with a TCP reset.
//!
//! Built on `TcpStream::readable`/`try_read` so it needs no tokio feature the
//! library does not already use.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One canned response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before sending the status line.
    pub delay: Duration,
    /// Send the body one byte at a time with this pause between bytes.
    pub drip: Option<Duration>,
    /// Send this many body bytes, then reset the connection.
    pub reset_after: Option<usize>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            drip: None,
            reset_after: None,
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200)
            .header("Content-Type", "application/rss+xml; charset=utf-8")
            .body(body)
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status).header("Location", location)
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn drip(mut self, every: Duration) -> Self {
        self.drip = Some(every);
        self
    }

    pub fn reset_after(mut self, bytes: usize) -> Self {
        self.reset_after = Some(bytes);
        self
    }

    /// Gzip the body now and say so in `Content-Encoding`.
    pub fn gzip(mut self) -> Self {
        self.body = gzip(&self.body);
        self.header("Content-Encoding", "gzip")
    }
}

/// Gzip `data` (default level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The request body (read when it announces a Content-Length).
    pub body: Vec<u8>,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Vec<Reply>>>,
    hits: Mutex<HashMap<String, usize>>,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running test server on one address.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl TestServer {
    /// Starts a server on `ip` (e.g. "127.0.0.2") at a free port.
    pub async fn start(ip: &str) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let accept_state = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&accept_state);
                tokio::spawn(async move {
                    let _ = serve_connection(stream, state).await;
                });
            }
        });
        Self {
            addr,
            state,
            accept,
        }
    }

    /// `path` always answers `reply`.
    pub fn route(&self, path: &str, reply: Reply) {
        self.route_seq(path, vec![reply]);
    }

    /// `path` answers the replies in turn; the last one repeats.
    pub fn route_seq(&self, path: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty());
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), replies);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.state.hits.lock().unwrap().values().sum()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

struct InFlight(Arc<State>);

impl InFlight {
    fn enter(state: &Arc<State>) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(Arc::clone(state))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn read_some(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn find_header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) -> io::Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        // Read one request head, and the body when it announces its length (POST).
        let end = loop {
            if let Some(end) = find_header_end(&pending) {
                break end;
            }
            let n = read_some(&stream, &mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
        pending.drain(..end + 4);

        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let method = request_line
            .split_whitespace()
            .next()
            .unwrap_or("GET")
            .to_owned();
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();

        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while pending.len() < length {
            let n = read_some(&stream, &mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        }
        let body: Vec<u8> = pending.drain(..length).collect();

        let _in_flight = InFlight::enter(&state);
        let hit = {
            let mut hits = state.hits.lock().unwrap();
            let n = hits.entry(path.clone()).or_insert(0);
            *n += 1;
            *n
        };
        state.requests.lock().unwrap().push(Recorded {
            method,
            body,
            path: path.clone(),
            headers,
            at: Instant::now(),
        });
        let reply = {
            let routes = state.routes.lock().unwrap();
            match routes.get(&path) {
                Some(seq) => seq[(hit - 1).min(seq.len() - 1)].clone(),
                None => Reply::status(404).body("no such route"),
            }
        };

        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let mut out = format!("HTTP/1.1 {} Test\r\n", reply.status);
        for (name, value) in &reply.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        // A reply may announce its own (lying) Content-Length.
        if !reply
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
        }
        out.push_str("\r\n");
        write_all(&stream, out.as_bytes()).await?;

        if let Some(cut) = reply.reset_after {
            write_all(&stream, &reply.body[..cut.min(reply.body.len())]).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            stream.set_zero_linger()?;
            return Ok(()); // dropping with SO_LINGER 0 sends RST
        }
        match reply.drip {
            Some(every) => {
                for byte in &reply.body {
                    write_all(&stream, std::slice::from_ref(byte)).await?;
                    tokio::time::sleep(every).await;
                }
            }
            None => write_all(&stream, &reply.body).await?,
        }
    }
}
