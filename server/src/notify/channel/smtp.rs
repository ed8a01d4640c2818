//! E-mail through lettre over rustls (the ring provider): `smtps://host:465` is implicit TLS,
//! `smtp://host:587?tls=required` plain first then STARTTLS, required: a server that does not
//! offer it gets nothing, not even the login. Opportunistic TLS is never used. `ca_file` adds a
//! private certificate authority to the system's roots. The mail's `Message-ID` is made from the
//! message's id, so a mailbox can tell a repeat.

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{chat, http, webhook};
use crate::notify::message::{Answer, Message, SendError};

/// A mail server and the mail's addresses.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    /// `host:port`, to show.
    server: String,
}

/// What the config gives for an `smtp` channel.
pub struct Settings<'a> {
    /// `smtps://[user@]host[:port]` or `smtp://[user@]host[:port]?tls=required`.
    pub url: &'a str,
    /// `user` (over the URL's).
    pub user: Option<String>,
    /// `password` (over the URL's).
    pub password: Option<String>,
    /// `from`.
    pub from: &'a str,
    /// `to`.
    pub to: &'a [String],
    /// `ca_file`'s PEM.
    pub ca_pem: Option<&'a [u8]>,
}

impl Smtp {
    /// The server, checked.
    ///
    /// # Errors
    /// The key whose value is bad (`smtp`, `from`, `to`, `password`, `ca_file`) and why.
    pub fn new(s: &Settings<'_>) -> Result<Arc<Self>, (&'static str, String)> {
        let bad = |key: &'static str, m: &str| (key, m.to_owned());
        let url = reqwest::Url::parse(s.url).map_err(|_| bad("smtp", "is not a URL (smtps://host:465)"))?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("smtp", "has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let implicit = match (url.scheme(), query.as_slice()) {
            ("smtps", []) => true,
            ("smtp", [(k, v)]) if k == "tls" && v == "required" => false,
            ("smtp", _) => {
                return Err(bad(
                    "smtp",
                    "smtp:// must say ?tls=required (STARTTLS, required); opportunistic or no TLS is never used",
                ));
            }
            ("smtps", _) => return Err(bad("smtp", "smtps:// takes no query")),
            _ => return Err(bad("smtp", "must be smtps://host:465 or smtp://host:587?tls=required")),
        };
        let port = url.port().unwrap_or(if implicit { 465 } else { 587 });
        let decode = |v: &str| percent_decode(v);
        let user = s.user.clone().or_else(|| Some(decode(url.username())).filter(|u| !u.is_empty()));
        let password = s.password.clone().or_else(|| url.password().map(decode));
        let credentials = match (user, password) {
            (Some(u), Some(p)) => Some(Credentials::new(u, p)),
            (None, None) => None,
            (Some(_), None) => return Err(bad("password", "a user needs a password")),
            (None, Some(_)) => return Err(bad("user", "a password needs a user")),
        };
        let from: Mailbox = s.from.parse().map_err(|_| bad("from", "is not an e-mail address"))?;
        if s.to.is_empty() {
            return Err(bad("to", "must list at least one address"));
        }
        let to = s.to.iter().map(|t| t.parse::<Mailbox>()).collect::<Result<Vec<_>, _>>();
        let to = to.map_err(|_| bad("to", "holds something that is not an e-mail address"))?;
        let mut params = TlsParameters::builder(host.clone());
        if let Some(pem) = s.ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|_| bad("ca_file", "holds no PEM certificate"))?;
            params = params.add_root_certificate(cert);
        }
        let params = params.build_rustls().map_err(|e| ("ca_file", e.to_string()))?;
        let tls = if implicit { Tls::Wrapper(params) } else { Tls::Required(params) };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(http::TIMEOUT));
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(Arc::new(Self { transport: builder.build(), from, to, server: format!("{host}:{port}") }))
    }

    /// The recipients and the server, to show.
    pub fn shown(&self) -> String {
        let to: Vec<String> = self.to.iter().map(|m| m.email.to_string()).collect();
        format!("{} via {}", to.join(", "), self.server)
    }

    /// Mails `message`; the server's reply to the mail.
    ///
    /// # Errors
    /// A 5xx reply or no STARTTLS offered: [`SendError::Refused`]; no connection, a timeout, a
    /// failed TLS handshake (a certificate not trusted: it may be renewed) or a 4xx reply:
    /// [`SendError::Retry`]. Nothing is sent before TLS is up.
    pub async fn send(&self, message: &Message) -> Result<Answer, SendError> {
        let id = webhook::message_id(&message.notices);
        let mut mail = lettre::Message::builder()
            .from(self.from.clone())
            .subject(chat::title(message))
            .message_id(Some(format!("<{id}@livedash>")))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            mail = mail.to(to.clone());
        }
        let mail = mail.body(chat::plain(message)).map_err(|e| SendError::Refused { reason: e.to_string() })?;
        match self.transport.send(mail).await {
            Ok(reply) => Ok(Answer {
                code: reply.code().to_string().parse().unwrap_or(250),
                text: reply.message().collect::<Vec<_>>().join(" ").chars().take(500).collect(),
            }),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// A mail error, classified (its text names no secret: lettre's kind and cause).
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let reason = format!("SMTP: {e}");
    if e.is_permanent() || e.is_client() {
        SendError::Refused { reason }
    } else {
        SendError::Retry { reason, after: None }
    }
}

/// `%xx` escapes of a URL's user or password undone (a bad escape stays as it is).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings<'_> {
        Settings { url, user: None, password: None, from: "livedash@example.org", to: &[], ca_pem: None }
    }

    #[test]
    fn only_implicit_tls_or_required_starttls() {
        let to = ["ops@example.org".to_owned()];
        let ok = |url| Smtp::new(&Settings { to: &to, ..settings(url) });
        assert!(ok("smtps://mail.example.org").is_ok_and(|s| s.shown() == "ops@example.org via mail.example.org:465"));
        assert!(ok("smtp://mail.example.org?tls=required").is_ok_and(|s| s.server.ends_with(":587")));
        for bad in
            ["smtp://mail.example.org", "smtp://m.example.org?tls=opportunistic", "smtp://m?tls=none", "http://m"]
        {
            assert!(ok(bad).is_err_and(|(key, _)| key == "smtp"), "{bad}");
        }
        assert!(ok("smtps://bob@mail.example.org").is_err_and(|(key, _)| key == "password"));
        assert!(Smtp::new(&settings("smtps://m.example.org")).is_err_and(|(key, _)| key == "to"));
        assert_eq!(percent_decode("a%40b%2"), "a@b%2");
    }
}
