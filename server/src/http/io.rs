//! The byte stream of one connection, plain or TLS, as the connection loop hands it to hyper
//! ([`Connection`]), and taken back from hyper when a request upgrades it ([`take_over`]).
//!
//! Taking it back matters for the WebSocket: through hyper's upgraded handle every read and write
//! of a socket went through two adapters between hyper's and tokio's I/O traits and a rewind
//! buffer, on top of the stream itself; a profile of 10,000 sockets at 10 Hz put that walk at a
//! few percent of the server's time.

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// A plain or TLS stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What the connection loop serves HTTP on.
pub type Connection = TokioIo<Box<dyn Io>>;

/// The stream under an upgraded connection, and a copy of what hyper had read past the request
/// (bytes a client sent before it saw the `101`, to be read first; usually none, and then no
/// allocation). Hyper's read buffer itself is let go here: it is 8 KiB, and a socket that kept it
/// would hold it for its whole life. A connection that did not come from the connection loop (no
/// [`Connection`] underneath) keeps hyper's handle, adapted.
pub fn take_over(upgraded: Upgraded) -> (Box<dyn Io>, Vec<u8>) {
    match upgraded.downcast::<Connection>() {
        Ok(parts) => (parts.io.into_inner(), parts.read_buf.to_vec()),
        Err(upgraded) => (Box::new(TokioIo::new(upgraded)), Vec::new()),
    }
}
