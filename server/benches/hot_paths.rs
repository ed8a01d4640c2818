//! Micro-benchmarks of the server's hot paths (criterion), through the crate's own APIs:
//!
//! - `fanout/N`: one sample published as a source does it ([`Stamper::publish`]: stamped,
//!   serialized and framed once, kept in the history, broadcast) and received by each of N
//!   subscribed clients the way a socket's pump waits for it (a pending `recv` woken by the
//!   broadcast, then polled to its frame and to the next wait). No sockets: what a socket does
//!   with the frame is not measured, and the wakers do nothing (a real one schedules the socket's
//!   task).
//! - `handshake/basic_warm`: an `Authorization: Basic` header checked by [`Auth::check_basic`]
//!   for a user whose password was verified once before the loop: the credential cache answers,
//!   no password hash runs (checked).
//! - `ticket/check`: a WebSocket ticket minted before the loop, checked by [`TicketBook::check`]
//!   (its MAC, its expiry, its user's password version); nothing is redeemed.
//! - `flatten/...`: a nested JSON sample of 50 numbers (cores, memory, swap, load, disks,
//!   networks) flattened into named series by [`livedash::flatten`]; and the same sample's whole
//!   frame parsed by the history store's writer ([`writer::parse`]: frame, data, flattening).
//! - `store/write_batch/K`: K consecutive samples of that source (50 points each) written to a
//!   SQLite history store in a temporary file in one transaction ([`writer::write_batch`]), as the
//!   writer does on each wake-up: K = 1 is a source sampled every second; a writer that fell
//!   behind takes up to 2000. The file's pending table grows as the benchmark runs (the server
//!   folds it into chunks every quarter of an hour, which is not measured here).
//!
//! The allocator is the binary's (mimalloc), so that what allocates costs what it costs there.
//! Run with `scripts/bench-micro.sh [FILTER] [criterion options]`, e.g. `scripts/bench-micro.sh
//! fanout --quick`.

use std::cell::Cell;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use livedash::{Frame, Sample, flatten, raw_json};
use livedash_server::auth::accounts::random;
use livedash_server::auth::credentials::VERSION_LEN;
use livedash_server::auth::ticket::{TicketBook, Version};
use livedash_server::auth::{Auth, LoginLimits, Users};
use livedash_server::clock::now_ms;
use livedash_server::http::client_ip::ClientIp;
use livedash_server::live::history::HistoryLimits;
use livedash_server::live::hub::Hub;
use livedash_server::live::outgoing::Outgoing;
use livedash_server::live::stamp::Stamper;
use livedash_server::store::{db, writer};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USER: &str = "admin";
const PASSWORD: &str = "correct horse battery staple";

/// A sample as a busy machine's `local` source would send it, a little different at each `tick`:
/// 50 numeric leaves, nested in objects and arrays, and a few strings that are not series.
fn machine_sample(tick: u64) -> Value {
    let pct = |i: u64| ((tick * 7919 + i * 104_729) % 10_000) as f64 / 100.0;
    let gib = 1u64 << 30;
    let disk = |i: u64, name: &str, total: u64| {
        let used = total / 100 * (30 + (tick + i) % 40);
        json!({ "name": name, "pct": pct(40 + i), "used_bytes": used, "total_bytes": total })
    };
    let nic = |i: u64| {
        let (rx, tx) = ((tick * 131 + i * 977) % 5_000_000, (tick * 71 + i) % 900_000);
        json!({ "rx_bytes_per_s": rx, "tx_bytes_per_s": tx })
    };
    json!({
        "host": "bench-host",
        "cpu_pct": pct(0),
        "cpu_core_pct": (1..=16).map(pct).collect::<Vec<_>>(),
        "mem_pct": pct(20),
        "mem_used_bytes": 6 * gib + tick * 4096,
        "mem_total_bytes": 16 * gib,
        "swap_pct": pct(21),
        "swap_used_bytes": gib / 3,
        "swap_total_bytes": 2 * gib,
        "load_avg": [1.25 + pct(22) / 100.0, 0.98, 0.71],
        "disk_pct": pct(23),
        "disk_used_bytes": 700 * gib,
        "disk_total_bytes": 1536 * gib,
        "disks": [
            disk(0, "nvme0n1p2", 512 * gib),
            disk(1, "nvme1n1", 512 * gib),
            disk(2, "sda1", 256 * gib),
            disk(3, "sdb1", 256 * gib),
        ],
        "net": { "eth0": nic(0), "eth1": nic(1), "wlan0": nic(2) },
        "procs": 400 + tick % 50,
        "temp_c": 50.0 + pct(24) / 10.0,
        "uptime_s": 86_400 + tick,
    })
}

/// The `sample` frame the hub would make of `data` (what the history store is fed).
fn sample_frame(seq: u64, ts_ms: u64, data: &Value) -> String {
    Frame::Sample(Sample { seq, source: Arc::from("local"), ts_ms, data: raw_json(data) }).to_json()
}

/// A context whose waker does nothing: the benchmarks poll by hand.
fn noop_context() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// What `future` gives on its first poll; it must not wait.
fn at_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut noop_context()) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the hot path waited"),
    }
}

/// A subscribed client: waits for every frame as a socket's pump does, and counts them.
async fn client(mut frames: broadcast::Receiver<Outgoing>, received: Rc<Cell<u64>>) {
    loop {
        match frames.recv().await {
            Ok(frame) => {
                black_box(&frame.wire);
                received.set(received.get() + 1);
            }
            Err(RecvError::Lagged(n)) => panic!("a client fell {n} frames behind"),
            Err(RecvError::Closed) => return,
        }
    }
}

type Client = Pin<Box<dyn Future<Output = ()>>>;

/// Polls every client until it waits again (after taking what was broadcast).
fn poll_all(clients: &mut [Client], cx: &mut Context<'_>) {
    for c in clients {
        assert!(c.as_mut().poll(cx).is_pending(), "a client stopped");
    }
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    for n in [100u64, 1000] {
        let limits = HistoryLimits { max_age: Duration::from_secs(3600), max_len: None, max_bytes: 256 << 20 };
        let hub = Arc::new(Hub::new(limits));
        let stamper = Stamper::new(hub.clone());
        let source: Arc<str> = Arc::from("local");
        stamper.register(&source, Duration::from_secs(1), &[]);
        let received = Rc::new(Cell::new(0));
        let mut clients: Vec<Client> =
            (0..n).map(|_| Box::pin(client(hub.subscribe(None, None).frames, received.clone())) as Client).collect();
        let mut cx = noop_context();
        poll_all(&mut clients, &mut cx);
        let data = raw_json(&machine_sample(0));
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                stamper.publish(&source, data.clone());
                poll_all(&mut clients, &mut cx);
            });
        });
        let published = hub.stats.published.load(Ordering::Relaxed);
        assert_eq!(received.get(), published * n, "every client received every frame");
    }
    group.finish();
}

fn handshake(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let auth = Auth::new(Users::single(USER, PASSWORD), LoginLimits::default());
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Basic {credentials}")).expect("a header value"));
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let client = ClientIp { addr: ip, group: ip };
    // The one password hash, before the loop: the credential cache is warm from here on.
    runtime.block_on(auth.check_basic(&headers, client)).expect("the password is right");
    c.bench_function("handshake/basic_warm", |b| {
        b.iter(|| at_once(auth.check_basic(black_box(&headers), client)).expect("a cached credential"));
    });
    assert_eq!(auth.stats.verifications.load(Ordering::Relaxed), 1, "one hash, before the loop");
}

fn ticket(c: &mut Criterion) {
    let users = Users::single(USER, PASSWORD);
    // What the server binds a ticket to: the start of the user's password version.
    let current = |user: &str| -> Option<Version> {
        let version = users.version_of(user)?;
        version[..VERSION_LEN].try_into().ok()
    };
    let key = random::<32>();
    let version = current(USER).expect("the user exists");
    let ticket = TicketBook::issue(&key, USER, version, now_ms(), random());
    c.bench_function("ticket/check", |b| {
        b.iter(|| TicketBook::check(&key, black_box(&ticket), now_ms(), current).expect("a valid ticket"));
    });
}

fn flattening(c: &mut Criterion) {
    let value = machine_sample(1);
    let leaves = flatten(&value).len();
    assert_eq!(leaves, 50, "the sample's numeric leaves");
    let frame = sample_frame(1, now_ms(), &value);
    let mut group = c.benchmark_group("flatten");
    group.throughput(Throughput::Elements(leaves as u64));
    group.bench_function(format!("value_{leaves}_leaves"), |b| b.iter(|| flatten(black_box(&value))));
    group.bench_function("store_parse_frame", |b| b.iter(|| writer::parse(black_box(&frame)).expect("a sample frame")));
    group.finish();
}

/// A store file in the temporary directory, removed (with its WAL) when dropped.
struct TempStore(PathBuf);

impl TempStore {
    fn new() -> Self {
        let unique = format!("livedash-bench-{}-{}.db", std::process::id(), now_ms());
        Self(std::env::temp_dir().join(unique))
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn store(c: &mut Criterion) {
    let file = TempStore::new();
    let conn = db::open_writer(&file.0).expect("a store file");
    let run_start = now_ms();
    // Every sample a second after the one before, as one source sampled every second.
    let mut tick = 0u64;
    let mut group = c.benchmark_group("store/write_batch");
    for samples in [1u64, 100] {
        group.throughput(Throughput::Elements(samples * 50));
        group.bench_function(BenchmarkId::from_parameter(samples), |b| {
            b.iter_batched_ref(
                || {
                    (0..samples)
                        .map(|_| {
                            tick += 1;
                            let frame = sample_frame(tick, run_start + tick * 1000, &machine_sample(tick));
                            writer::parse(&frame).expect("a sample frame")
                        })
                        .collect::<Vec<_>>()
                },
                |batch| writer::write_batch(&conn, batch, run_start).expect("written"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
    drop(conn);
}

criterion_group!(benches, fanout, handshake, ticket, flattening, store);
criterion_main!(benches);
