//! A real Redis for the cluster tests: Debian's `redis-server` on a free loopback port, without
//! persistence, stopped (by its process id) when dropped. `scripts/test.sh` installs it and sets
//! `LIVEDASH_REQUIRE_REDIS=1`, so that there a missing server fails the tests instead of skipping
//! them.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use livedash_server::config::ClusterSettings;
use livedash_server::config::cluster::{RedisUrl, Secret};

/// A running redis-server.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

/// Whether tests may skip for want of a redis-server.
fn required() -> bool {
    std::env::var_os("LIVEDASH_REQUIRE_REDIS").is_some_and(|v| v == "1")
}

fn binary() -> Option<&'static str> {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].into_iter().find(|p| std::path::Path::new(p).exists())
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Redis {
    /// A fresh redis-server, or `None` (with a note) when there is none and none is required.
    pub fn start() -> Option<Self> {
        #[allow(clippy::print_stderr)] // a skipped test says why where cargo shows it
        let Some(_) = binary() else {
            assert!(!required(), "redis-server is not installed (scripts/setup.sh --tests installs it)");
            eprintln!("skipped: redis-server is not installed (scripts/setup.sh --tests installs it)");
            return None;
        };
        let mut redis = Self { port: free_port(), child: None };
        redis.run();
        Some(redis)
    }

    /// Starts the server (again) on its port, empty.
    pub fn run(&mut self) {
        let child = Command::new(binary().expect("redis-server"))
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .args(["--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer on port {}", self.port);
    }

    /// Whether it answers PING.
    pub fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        client
            .get_connection_with_timeout(Duration::from_millis(200))
            .is_ok_and(|mut c| redis::cmd("PING").query::<String>(&mut c).is_ok_and(|p| p == "PONG"))
    }

    /// Kills it (SIGKILL): the data is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A synchronous connection, for a test to look inside.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection_with_timeout(Duration::from_secs(2)).unwrap()
    }

    /// Cluster settings on this Redis, under `prefix`, with `lease`.
    pub fn settings(&self, prefix: &str, lease: Duration) -> ClusterSettings {
        ClusterSettings {
            url: RedisUrl(self.url()),
            secret: Secret(b"a test secret of at least thirty-two bytes".to_vec()),
            prefix: prefix.to_owned(),
            lease,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
