//! The processes behind a test app (SMTP: aiosmtpd writing a Maildir; Redis
//! servers of its own), free ports, waiting for conditions, the test master key.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub(super) fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A random vault master key (base64 of 32 bytes).
pub fn test_master_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2))
}

/// A free loopback port (the OS picks it; the socket is closed before use).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `condition` holds, polling; panics with `what` after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) fn wait_for_port(addr: SocketAddr, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let is_up = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok();
        if is_up == up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "port {addr} did not become {}",
            if up { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A child process killed when dropped.
pub(super) struct Guard(pub(super) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real SMTP server (aiosmtpd) that stores what it receives in a Maildir.
pub struct SmtpServer {
    pub addr: SocketAddr,
    maildir: PathBuf,
    child: Option<Guard>,
}

/// A message the SMTP server received.
pub struct ReceivedEmail {
    pub raw: Vec<u8>,
}

impl ReceivedEmail {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable message")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_owned())
    }
    pub fn to(&self) -> String {
        self.header("X-RcptTo").unwrap_or_default()
    }
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }
    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }
    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }
}

impl SmtpServer {
    pub fn start(dir: &Path) -> Self {
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
            // aiosmtpd creates the Maildir itself (it must not exist beforehand).
            maildir: dir.join("maildir"),
            child: None,
        };
        server.restart();
        server
    }

    /// Stops the server (connections to it are then refused).
    pub fn stop(&mut self) {
        self.child = None;
        wait_for_port(self.addr, false);
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        let python = env_or("TEST_SMTP_PYTHON", "/usr/bin/python3");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &self.addr.to_string()])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
        self.child = Some(Guard(child));
        wait_for_port(self.addr, true);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedEmail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        // Maildir names are `<secs>.M<usecs>P<pid>Q<seq>.<host>`: order by the numbers.
        let key = |p: &PathBuf| -> (u64, u64, u64) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let num = |after: char| -> u64 {
                name.split_once(after)
                    .map(|(_, rest)| {
                        rest.chars()
                            .take_while(char::is_ascii_digit)
                            .collect::<String>()
                    })
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0)
            };
            let secs = name
                .split('.')
                .next()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            (secs, num('M'), num('Q'))
        };
        files.sort_by_key(key);
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|raw| ReceivedEmail { raw })
            .collect()
    }

    /// Messages to `address`.
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedEmail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to().contains(address))
            .collect()
    }
}

/// A Redis server of a test's own, for fault tests.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Guard>,
}

impl RedisServer {
    pub fn start(dir: &Path) -> Self {
        let mut server = Self {
            port: free_port(),
            dir: dir.join("redis"),
            child: None,
        };
        std::fs::create_dir_all(&server.dir).expect("redis dir");
        server.restart();
        server
    }
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
    pub fn stop(&mut self) {
        self.child = None;
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], self.port)), false);
    }
    pub fn restart(&mut self) {
        let bin = env_or("TEST_REDIS_SERVER", "redis-server");
        let child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(Guard(child));
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], self.port)), true);
    }
}
