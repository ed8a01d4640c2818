//! Text frames written straight to the connection, past the protocol layer's write buffer
//! (RFC 6455 §5.2; a server's frames are unmasked): a 2-, 4- or 10-byte header, then the
//! payload, in one vectored write. The payload is the frame the hub serialized once and every
//! client shares, so a socket holds no copy of what it sends. Through the protocol layer each
//! frame was copied into a per-socket buffer that kept the capacity of the largest frame it ever
//! wrote, for the socket's life (a `hello` of a full history is megabytes); even cut into 4 KiB
//! fragments, that was 4 KiB held by every idle socket.

use bytes::Buf;
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
    async fn a_frame_is_its_header_then_its_payload() {
        let mut out = Vec::new();
        write_text(&mut out, &Utf8Bytes::from_static("hi")).await.expect("written");
        assert_eq!(out, [0x81, 2, b'h', b'i']);
    }
}
