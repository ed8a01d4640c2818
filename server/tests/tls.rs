//! HTTPS with the self-signed certificate, checked the way the README tells a person to: by its
//! SHA-256 fingerprint, not by clicking through.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::pinned::{normalize_fingerprint, pinned_client_config};
use livedash_server::config::TlsMode;
use livedash_server::tls::{self, Tls};
use tokio::io::{self, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::{TlsAcceptor, TlsConnector};

async fn https_get(
    addr: std::net::SocketAddr,
    fingerprint: &str,
    path: &str,
    auth: Option<&str>,
) -> std::io::Result<common::Response> {
    let mut config = pinned_client_config(fingerprint);
    // Offer what browsers and curl offer: the server must pick one it speaks (HTTP/1.1).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await?;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]), "negotiated HTTP/1.1");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n", addr.port());
    if let Some(auth) = auth {
        req.push_str(&format!("Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    // A peer that closes without close_notify is fine here: the response is complete.
    let _ = stream.read_to_end(&mut buf).await;
    Ok(common::parse(&buf))
}

#[tokio::test]
async fn self_signed_tls_is_verified_by_fingerprint_and_sends_hsts() {
    let dir = common::temp_dir("tls");
    let mut config = common::test_config(common::PASSWORD);
    config.tls = TlsMode::SelfSigned { names: vec!["localhost".into()] };
    config.data_dir = dir.clone();
    let server = common::start_with(config.clone()).await;
    let (fingerprint, cert_path) = server.tls.clone().expect("serving TLS");
    assert_eq!(tls::fingerprint_of_pem_file(&cert_path).unwrap(), fingerprint, "the printed fingerprint is the file's");

    let r = https_get(server.addr, &fingerprint, "/healthz", None).await.expect("pinned handshake succeeds");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"));
    let r = https_get(server.addr, &fingerprint, "/", None).await.unwrap();
    assert_eq!(r.status, 401);
    let r = https_get(server.addr, &fingerprint, "/api/snapshot", Some(&common::basic("admin", common::PASSWORD)))
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    // A client pinned to another certificate refuses the handshake.
    let other = "00:".repeat(31) + "00";
    assert!(https_get(server.addr, &other, "/healthz", None).await.is_err());

    // Plain HTTP to the TLS port gets nothing useful.
    let plain = common::get(server.addr, "/healthz", &[]).await;
    assert_ne!(plain.status, 200);
    server.stop().await;

    // A restart keeps the certificate, so the fingerprint people checked stays valid.
    let again = common::start_with(config).await;
    assert_eq!(again.tls.as_ref().map(|t| t.0.clone()), Some(fingerprint));
    again.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn fingerprints_are_compared_without_case_or_colons() {
    assert_eq!(normalize_fingerprint("ba:78:16:bf"), "BA7816BF");
}

/// Accepts TLS connections on `listener` forever, echoing what it reads back with a prefix.
fn serve(listener: TcpListener, tls: &Tls) {
    let acceptor = TlsAcceptor::from(tls.config.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else { return };
                let mut buf = [0_u8; 4];
                if stream.read_exact(&mut buf).await.is_ok() {
                    let _ = stream.write_all(b"echo:").await;
                    let _ = stream.write_all(&buf).await;
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
}

async fn exchange(addr: std::net::SocketAddr, pinned: &str) -> io::Result<Vec<u8>> {
    let connector = TlsConnector::from(Arc::new(pinned_client_config(pinned)));
    let tcp = TcpStream::connect(addr).await?;
    let server_name = ServerName::try_from("localhost").map_err(io::Error::other)?;
    let mut stream = connector.connect(server_name, tcp).await?;
    stream.write_all(b"ping").await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(reply)
}

#[tokio::test]
async fn pinned_client_talks_to_the_self_signed_server() {
    let dir = common::temp_dir("pinned-handshake");
    let tls = tls::self_signed(&dir, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    serve(listener, &tls);

    assert_eq!(exchange(addr, &tls.fingerprint).await.unwrap(), b"echo:ping");
    // Case and colons do not matter.
    let relaxed = tls.fingerprint.replace(':', "").to_ascii_lowercase();
    assert_eq!(exchange(addr, &relaxed).await.unwrap(), b"echo:ping");
}

#[tokio::test]
async fn pinned_client_refuses_another_certificate() {
    let dir = common::temp_dir("pinned-refuse");
    let other = common::temp_dir("pinned-refuse-other");
    let tls = tls::self_signed(&dir, &[]).unwrap();
    let other_fingerprint = tls::self_signed(&other, &[]).unwrap().fingerprint;
    assert_ne!(other_fingerprint, tls.fingerprint);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    serve(listener, &tls);

    let err = exchange(addr, &other_fingerprint).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("does not match the pinned fingerprint"), "{text}");
    assert!(text.contains(&tls.fingerprint), "{text}");
    let err = exchange(addr, "").await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    // The server still serves the right client afterwards.
    assert_eq!(exchange(addr, &tls.fingerprint).await.unwrap(), b"echo:ping");
}
