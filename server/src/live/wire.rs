//! Text frames as they go on the wire (RFC 6455 §5.2; a server's frames are unmasked): a 2-, 4-
//! or 10-byte header, then the payload, written straight to the connection past the protocol
//! layer's write buffer.
//!
//! A frame the hub broadcasts is framed once ([`Framed`]): its header and JSON text in one shared
//! allocation, so that each socket sends it with one plain `send` and holds no copy. Through the
//! protocol layer each frame was copied into a per-socket buffer that kept the capacity of the
//! largest frame it ever wrote, for the socket's life (a `hello` of a full history is megabytes);
//! and a header written beside a shared text took a vectored write, whose way through the kernel
//! (`writev`) cost a profile of 10,000 sockets at 10 Hz more than the whole `send` of the floor.
//! Frames for one socket (its `hello`, a resume) go out as header and text ([`write_text`]).

use bytes::{Buf, Bytes};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tungstenite::Utf8Bytes;

/// The header of an unmasked, final text frame of `len` bytes, and how many of its bytes count.
pub fn text_header(len: usize) -> ([u8; 10], usize) {
    let mut header = [0u8; 10];
    header[0] = 0x81; // FIN, text
    let used = if len < 126 {
        header[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (header, used)
}

/// A frame's JSON text, and the same bytes behind their header: one allocation, shared by every
/// socket that sends it.
#[derive(Debug, Clone)]
pub struct Framed {
    /// The JSON text.
    pub text: Utf8Bytes,
    /// Header and text, as written.
    pub wire: Bytes,
}

impl Framed {
    /// Frames `json` (one copy, behind the header).
    pub fn new(json: String) -> Self {
        let (header, used) = text_header(json.len());
        let mut bytes = Vec::with_capacity(used + json.len());
        bytes.extend_from_slice(&header[..used]);
        bytes.extend_from_slice(json.as_bytes());
        let wire = Bytes::from(bytes);
        // The slice is `json`'s bytes, so valid UTF-8: the fallback is never taken.
        let text = Utf8Bytes::try_from(wire.slice(used..)).unwrap_or_else(|_| Utf8Bytes::from(json));
        Self { text, wire }
    }
}

/// Writes a [`Framed`] frame's bytes to `io` and flushes them.
pub async fn write_framed<W: AsyncWrite + Unpin>(io: &mut W, wire: &Bytes) -> std::io::Result<()> {
    io.write_all(wire).await?;
    io.flush().await
}

/// Writes `text` as one text frame to `io` and flushes it.
pub async fn write_text<W: AsyncWrite + Unpin>(io: &mut W, text: &Utf8Bytes) -> std::io::Result<()> {
    let (header, used) = text_header(text.len());
    let mut frame = (&header[..used]).chain(text.as_bytes());
    io.write_all_buf(&mut frame).await?;
    io.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::protocol::frame::FrameHeader;

    #[test]
    fn headers_read_back_as_the_protocol_layer_reads_them() {
        for len in [0, 1, 125, 126, 127, 4096, 65_535, 65_536, 3 << 20] {
            let (header, used) = text_header(len);
            let mut cursor = std::io::Cursor::new(&header[..used]);
            let (parsed, payload) = FrameHeader::parse(&mut cursor).expect("parses").expect("complete");
            assert!(parsed.is_final && parsed.mask.is_none(), "{len}");
            assert_eq!(
                parsed.opcode,
                tungstenite::protocol::frame::coding::OpCode::Data(tungstenite::protocol::frame::coding::Data::Text)
            );
            assert_eq!((payload, cursor.position() as usize), (len as u64, used), "{len}");
        }
    }

    #[tokio::test]
    async fn a_framed_text_is_written_as_the_same_frame_and_reads_back_as_its_text() {
        let json = format!(r#"{{"type":"sample","data":"{}"}}"#, "x".repeat(300));
        let len = json.len();
        let framed = Framed::new(json.clone());
        assert_eq!(framed.text.as_str(), json);
        let (mut direct, mut shared) = (Vec::new(), Vec::new());
        write_text(&mut direct, &Utf8Bytes::from(json)).await.expect("written");
        write_framed(&mut shared, &framed.wire).await.expect("written");
        assert_eq!(direct, shared);
        assert_eq!((shared[1], usize::from(u16::from_be_bytes([shared[2], shared[3]]))), (126, len));
    }

    #[tokio::test]
    async fn a_frame_is_its_header_then_its_payload() {
        let mut out = Vec::new();
        write_text(&mut out, &Utf8Bytes::from_static("hi")).await.expect("written");
        assert_eq!(out, [0x81, 2, b'h', b'i']);
    }
}
