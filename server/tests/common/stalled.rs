//! A raw WebSocket client that reads its 101 and its `hello`'s frame header, then stops reading
//! (a small receive buffer, so the server's send of a large hello blocks), or reads at a trickle;
//! and what became of it once it read again.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// What the client asks its kernel to keep for it (Linux doubles it).
pub const RECEIVE_BUFFER: u32 = 16 * 1024;

/// A socket that read its 101 and its hello's frame header, then stopped reading.
pub struct Stalled<R = TcpStream> {
    pub name: &'static str,
    reader: R,
    /// The hello's length, from its frame header.
    hello: u64,
    /// What the kernel keeps for this socket at most.
    buffer: u64,
}

/// What a socket came to once it read again.
#[derive(Debug, PartialEq, Eq)]
pub enum Fate {
    /// A close frame with this code and reason.
    Closed(u16, String),
    /// Still open at the deadline, after this many frames past the hello.
    Open(usize),
}

impl Stalled {
    /// Opens `/ws{query}` on `addr` from 127.0.0.`from` with `headers`, reads the 101 and the
    /// hello's frame header, and stops there.
    pub async fn open(name: &'static str, addr: SocketAddr, from: u8, query: &str, headers: &[(&str, &str)]) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(RECEIVE_BUFFER).unwrap();
        socket.bind(SocketAddr::new(IpAddr::from([127, 0, 0, from]), 0)).unwrap();
        let buffer = u64::from(socket.recv_buffer_size().unwrap());
        let mut stream = socket.connect(addr).await.unwrap();
        let mut request = format!("GET /ws{query} HTTP/1.1\r\nHost: {addr}\r\n");
        for (n, v) in super::UPGRADE.iter().chain(headers) {
            request.push_str(&format!("{n}: {v}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        // The head byte by byte: nothing of the hello is read past its frame header.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = tokio::time::timeout(Duration::from_secs(10), stream.read_u8()).await.expect("a head").unwrap();
            head.push(byte);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{name}: {head}");
        let (opcode, hello) = header(&mut stream).await.unwrap();
        assert_eq!(opcode, 1, "{name}: the hello is one text frame");
        Self { name, reader: stream, hello, buffer }
    }

    /// That the server cannot have handed the whole hello to the kernel yet: it is larger than
    /// the most the server's send buffer (`tcp_wmem`'s maximum) and this socket's receive buffer
    /// hold together, so the server's send of it is still under way.
    #[allow(clippy::print_stderr)]
    pub fn assert_still_in_the_hello(&self) {
        let wmem = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem").expect("tcp_wmem");
        let max: u64 = wmem.split_whitespace().nth(2).and_then(|m| m.parse().ok()).expect("tcp_wmem's maximum");
        let name = self.name;
        assert!(
            self.hello > max + 2 * self.buffer,
            "{name}: a hello of {} bytes fits in the buffers ({max} + 2 x {}): the test proves nothing",
            self.hello,
            self.buffer
        );
        eprintln!("{name}: a hello of {} bytes, the buffers at most {max} + {}", self.hello, self.buffer);
    }

    /// From now on the socket is read at `per_second` bytes a second at most (what the test reads
    /// goes through a pipe a task fills at that pace).
    pub fn trickle(self, per_second: usize) -> Stalled<tokio::io::DuplexStream> {
        const TICK: Duration = Duration::from_millis(10);
        let (near, mut far) = tokio::io::duplex(64 * 1024);
        let mut stream = self.reader;
        tokio::spawn(async move {
            let mut buf = vec![0; per_second / 100];
            let mut tick = tokio::time::interval(TICK);
            loop {
                tick.tick().await;
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if far.write_all(&buf[..n]).await.is_err() => break,
                    Ok(_) => {}
                }
            }
        });
        Stalled { name: self.name, reader: near, hello: self.hello, buffer: self.buffer }
    }
}

impl<R: AsyncRead + Unpin> Stalled<R> {
    /// Reads the rest of the hello, then frames until a close frame or until `within` has passed
    /// since the hello's end.
    pub async fn resume(mut self, within: Duration) -> Fate {
        let mut rest = (&mut self.reader).take(self.hello);
        let copied = tokio::time::timeout(Duration::from_secs(20), tokio::io::copy(&mut rest, &mut tokio::io::sink()))
            .await
            .expect("the hello's rest within 20 s")
            .expect("the hello's rest");
        assert_eq!(copied, self.hello, "{}: the whole hello", self.name);
        let deadline = tokio::time::Instant::now() + within;
        let mut frames = 0;
        loop {
            match tokio::time::timeout_at(deadline, frame(&mut self.reader)).await {
                Err(_) => return Fate::Open(frames),
                Ok(Ok((8, payload))) => {
                    let code = payload.get(..2).map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
                    return Fate::Closed(code, reason);
                }
                Ok(Ok(_)) => frames += 1,
                Ok(Err(e)) => panic!("{}: the socket broke after {frames} frames: {e}", self.name),
            }
        }
    }
}

/// A server frame's header (unmasked): its opcode and payload length.
async fn header<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<(u8, u64)> {
    let mut head = [0u8; 2];
    reader.read_exact(&mut head).await?;
    let len = match head[1] & 0x7f {
        126 => u64::from(reader.read_u16().await?),
        127 => reader.read_u64().await?,
        n => u64::from(n),
    };
    Ok((head[0] & 0x0f, len))
}

/// One frame from the server: its opcode and payload.
async fn frame<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<(u8, Vec<u8>)> {
    let (opcode, len) = header(reader).await?;
    let mut payload = vec![0; usize::try_from(len).unwrap()];
    reader.read_exact(&mut payload).await?;
    Ok((opcode, payload))
}
