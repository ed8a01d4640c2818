//! ntfy: a message published as JSON to the server's root (`{"topic", "title", "message",
//! "priority", "tags", "click"}`), so titles keep any character. Priority and tags come from the
//! severity: critical 5 (`rotating_light`), warning 4 (`warning`), resolved 3
//! (`white_check_mark`). Authenticated with an access token (`Bearer`) or a user and password
//! (Basic), or not at all.

use base64::Engine;
use serde_json::json;

use super::chat;
use super::http::{self, JSON};
use crate::notify::message::{Answer, Kind, Message, SendError, Status};
use livedash::alerts::Severity;

/// How to log in to the ntfy server.
#[derive(Clone)]
pub enum Auth {
    /// An access token.
    Token(String),
    /// A user and password.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

/// An ntfy topic on a server.
#[derive(Clone)]
pub struct Ntfy {
    /// The URL to publish to (the topic URL's path without the topic).
    base: String,
    /// The topic.
    topic: String,
    /// The host, to show.
    host: String,
    auth: Option<Auth>,
}

impl Ntfy {
    /// The topic at `url` (`https://ntfy.sh/alerts`, or a server under a path).
    ///
    /// # Errors
    /// Not an http(s) URL with a topic as its last path segment.
    pub fn new(url: &str, auth: Option<Auth>) -> Result<Self, String> {
        let mut parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err("must be an http:// or https:// URL".into());
        }
        let segments: Vec<String> =
            parsed.path_segments().into_iter().flatten().filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let Some((topic, path)) = segments.split_last() else {
            return Err("must end with the topic (https://ntfy.sh/TOPIC)".into());
        };
        if parsed.query().is_some() {
            return Err("must not have a query: the topic's URL alone".into());
        }
        parsed.set_path(&format!("{}/", path.iter().map(|s| format!("/{s}")).collect::<String>()));
        Ok(Self { base: parsed.to_string(), topic: topic.clone(), host: http::host_of(url), auth })
    }

    /// The host, to show: not the topic, which on a public server is as good as a password
    /// (whoever knows it can read the messages).
    pub fn shown(&self) -> String {
        self.host.clone()
    }

    /// The JSON body of `message`.
    pub fn body(&self, message: &Message) -> serde_json::Value {
        let worst = message.notices.iter().map(|n| (n.status, n.severity)).max_by_key(|(s, v)| rank(*s, *v));
        let (priority, tag) = match (message.kind, worst) {
            (Kind::Test, _) | (_, None) => (3, "test_tube"),
            (_, Some((Status::Firing, Severity::Critical))) => (5, "rotating_light"),
            (_, Some((Status::Firing, Severity::Warning))) => (4, "warning"),
            (_, Some((Status::Resolved, _))) => (3, "white_check_mark"),
        };
        let text: Vec<String> = message.notices.iter().map(chat::line).collect();
        let mut body = json!({
            "topic": self.topic,
            "title": chat::title(message),
            "message": text.join("\n"),
            "priority": priority,
            "tags": [tag],
        });
        if let Some(url) = message.notices.first().map(|n| &n.url).filter(|u| !u.is_empty()) {
            body["click"] = json!(url);
        }
        body
    }

    /// Publishes `message`.
    ///
    /// # Errors
    /// As [`http::post`].
    pub async fn send(&self, client: &reqwest::Client, message: &Message) -> Result<Answer, SendError> {
        let authorization = match &self.auth {
            None => None,
            Some(Auth::Token(token)) => Some(format!("Bearer {token}")),
            Some(Auth::Basic { user, password }) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
        };
        let headers: Vec<(String, String)> =
            authorization.map(|a| ("authorization".to_owned(), a)).into_iter().collect();
        http::post(client, &self.base, &headers, JSON, self.body(message).to_string().into_bytes()).await
    }
}

/// A firing critical outranks a firing warning, which outranks a resolution.
fn rank(status: Status, severity: Severity) -> u8 {
    match (status, severity) {
        (Status::Firing, Severity::Critical) => 2,
        (Status::Firing, Severity::Warning) => 1,
        (Status::Resolved, _) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channel::full_sample;

    #[test]
    fn the_topic_is_the_last_segment() {
        let n = Ntfy::new("https://ntfy.example/sub/alerts", None).expect("valid");
        assert_eq!((n.base.as_str(), n.topic.as_str()), ("https://ntfy.example/sub/", "alerts"));
        let n = Ntfy::new("http://127.0.0.1:8080/t", None).expect("valid");
        assert_eq!((n.base.as_str(), n.topic.as_str()), ("http://127.0.0.1:8080/", "t"));
        assert!(Ntfy::new("https://ntfy.sh/", None).is_err());
        assert!(Ntfy::new("ftp://ntfy.sh/x", None).is_err());
    }

    #[test]
    fn priority_and_tags_follow_the_severity() {
        let n = Ntfy::new("https://ntfy.sh/t", None).expect("valid");
        let mut m = full_sample();
        assert_eq!(
            (n.body(&m)["priority"].clone(), n.body(&m)["tags"][0].clone()),
            (json!(3), json!("white_check_mark"))
        );
        m.notices[0].status = Status::Firing;
        assert_eq!(
            (n.body(&m)["priority"].clone(), n.body(&m)["tags"][0].clone()),
            (json!(5), json!("rotating_light"))
        );
        m.notices[0].severity = Severity::Warning;
        assert_eq!(n.body(&m)["priority"], json!(4));
        assert_eq!(n.body(&m)["click"], json!("https://livedash.example/chart"));
    }
}
