//! A real SMTP server: Debian's `aiosmtpd` under `/usr/bin/python3`, in one of three modes
//! (`starttls`: STARTTLS required before anything; `implicit`: TLS from the first byte; `plain`:
//! no TLS at all, and it would take mail in clear), with a certificate signed by a private CA made
//! here with rcgen. Every mail it takes is written to a directory, with whether it came over TLS.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const USER: &str = "bob";
pub const PASSWORD: &str = "mail-pw-SECRET";

const SCRIPT: &str = r#"
import os, pathlib, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

mode, port, cert, key, outdir, user, password = sys.argv[1:8]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        tls = server.transport.get_extra_info("ssl_object") is not None
        head = "X-Test-TLS: %s\r\nX-Test-Login: %s\r\nX-Test-Rcpt: %s\r\n" % (tls, getattr(session, "test_login", None), ",".join(envelope.rcpt_tos))
        pathlib.Path(outdir, "%d.eml" % n).write_bytes(head.encode() + envelope.content)
        return "250 2.0.0 queued as test-%d" % n

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user.encode() and auth_data.password == password.encode()
    if ok:
        session.test_login = auth_data.login
    return AuthResult(success=ok)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
common = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticate)
if mode == "starttls":
    c = Controller(Handler(), tls_context=ctx, require_starttls=True, auth_required=True, **common)
elif mode == "implicit":
    # aiosmtpd counts only STARTTLS as TLS for AUTH: this connection is TLS from its first byte.
    c = Controller(Handler(), ssl_context=ctx, auth_required=True, auth_require_tls=False, **common)
else:
    c = Controller(Handler(), auth_required=False, **common)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// A private CA and a certificate for 127.0.0.1 signed by it, as PEM files in `dir`: (ca, cert,
/// key).
pub fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "livedash test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

pub struct SmtpServer {
    pub port: u16,
    pub mail_dir: PathBuf,
    child: Child,
}

impl SmtpServer {
    /// Starts aiosmtpd in `mode` with the certificate in `dir`; mail lands in `dir/mail-MODE`.
    pub async fn start(mode: &str, dir: &Path, cert: &Path, key: &Path) -> Self {
        let mail_dir = dir.join(format!("mail-{mode}"));
        std::fs::create_dir_all(&mail_dir).unwrap();
        let script = dir.join("smtpd.py");
        std::fs::write(&script, SCRIPT).unwrap();
        let port = crate::common::free_addr().port();
        let mut child = Command::new("/usr/bin/python3")
            .args(["-W", "ignore::UserWarning"])
            .arg(&script)
            .args([mode, &port.to_string()])
            .args([cert, key, &mail_dir])
            .args([USER, PASSWORD])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("/usr/bin/python3 with aiosmtpd (scripts/setup.sh --tests installs python3-aiosmtpd)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert_eq!(ready.unwrap().unwrap().as_deref(), Some("ready"), "aiosmtpd did not start");
        Self { port, mail_dir, child }
    }

    /// The mails it took, in order.
    pub fn mails(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.mail_dir).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // By its PID (kill_on_drop would too; this is explicit).
        let _ = self.child.start_kill();
    }
}
