//! A real SMTP server in the test process (mailin-embedded on loopback) that keeps what it
//! receives, or refuses every recipient.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Clone)]
struct Sink {
    mails: Arc<Mutex<Vec<Received>>>,
    reject: bool,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    // A refusing server says no at RCPT ("relaying denied"). (mailin keeps a session whose
    // data_end failed in the DATA state, so a refusal there would leave the client waiting.)
    fn rcpt(&mut self, _to: &str) -> Response {
        if self.reject {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        self.mails.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

/// Starts an SMTP server on 127.0.0.1 (any port); returns the port and what it receives.
pub fn smtp_server(reject: bool) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let handler = Sink {
        mails: mails.clone(),
        reject,
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut server = Server::new(handler);
    server
        .with_name("smtp.test")
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_num_threads(2)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, mails)
}
