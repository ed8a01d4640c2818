//! The generic webhook's body: for one alert the [`Notice`]'s JSON plus `"kind"`; for several
//! `{"kind": .., "id": .., "alerts": [..]}`. Or, with `template = "..."`, what a minijinja
//! template makes of the message (with fuel, so that no template runs forever, and strict
//! undefined, so that a misspelt field is an error at start rather than an empty string later).

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::http::JSON;
use crate::notify::message::{Message, Notice, SendError};

/// The template's name inside its environment.
const NAME: &str = "body";
/// The instructions a template may run per message: far more than a loop over a digest of
/// alerts takes, far less than a runaway one.
const FUEL: u64 = 200_000;

/// The id of a message: its notice's for one, a digest of their ids for several (the same on
/// every retry and instance, as the ids are).
pub fn message_id(notices: &[Notice]) -> String {
    match notices {
        [one] => one.id.clone(),
        _ => {
            let mut hash = Sha256::new();
            for n in notices {
                hash.update(n.id.as_bytes());
                hash.update(b"\n");
            }
            hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// The generic JSON of `message`.
pub fn json(message: &Message) -> Value {
    if let [one] = message.notices.as_slice() {
        let mut fields = match serde_json::to_value(one) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        fields.insert("kind".into(), json!(message.kind));
        return Value::Object(fields);
    }
    json!({"kind": message.kind, "id": message_id(&message.notices), "alerts": message.notices})
}

/// The body and its content type: the template's output (JSON when it parses as JSON, else
/// plain text), or the generic JSON.
///
/// # Errors
/// The template failed on this message ([`SendError::Refused`]: it would fail again).
pub fn body(message: &Message, template: Option<&Template>) -> Result<(&'static str, Vec<u8>), SendError> {
    match template {
        None => Ok((JSON, json(message).to_string().into_bytes())),
        Some(t) => {
            let text = t.render(message).map_err(|reason| SendError::Refused { reason })?;
            let kind = if serde_json::from_str::<Value>(&text).is_ok() { JSON } else { "text/plain; charset=utf-8" };
            Ok((kind, text.into_bytes()))
        }
    }
}

/// A webhook's body template, compiled and checked.
pub struct Template {
    env: Environment<'static>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Template")
    }
}

impl Template {
    /// Compiles `source` and renders it once on a sample message with every field set.
    ///
    /// The template sees `kind`, `id`, `alerts` (the notices) and `alert` (the first).
    ///
    /// # Errors
    /// It does not compile, uses a name the sample does not have, or runs out of fuel.
    pub fn new(source: &str) -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.add_template_owned(NAME, source.to_owned()).map_err(|e| describe(&e))?;
        let template = Self { env };
        template.render(&super::full_sample())?;
        Ok(template)
    }

    /// What the template makes of `message`.
    ///
    /// # Errors
    /// An undefined name, a failed filter, or no fuel left.
    pub fn render(&self, message: &Message) -> Result<String, String> {
        let context = json!({
            "kind": message.kind,
            "id": message_id(&message.notices),
            "alerts": message.notices,
            "alert": message.notices.first(),
        });
        let template = self.env.get_template(NAME).map_err(|e| describe(&e))?;
        template.render(minijinja::Value::from(Serde(&context))).map_err(|e| describe(&e))
    }
}

/// A template error on one line, with where it is.
fn describe(e: &minijinja::Error) -> String {
    let mut text = format!("template: {e}");
    if let Some(detail) = e.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channel::full_sample;
    use crate::notify::message::Kind;

    #[test]
    fn one_alert_is_the_notice_plus_kind_several_are_a_list() {
        let one = full_sample();
        let body = json(&one);
        assert_eq!(body["id"], "sample-id");
        assert_eq!(body["kind"], "alert");
        assert_eq!(body["status"], "resolved");
        assert_eq!(body["peak"], 97.5);
        let mut two = one.clone();
        two.notices.push(Notice { id: "other".into(), ..one.notices[0].clone() });
        let body = json(&two);
        assert_eq!(body["alerts"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["id"], message_id(&two.notices));
        assert_ne!(body["id"], "sample-id");
    }

    #[test]
    fn templates_are_checked_on_a_sample() {
        let t = Template::new("{{ alert.rule }} {{ alert.status }} x{{ alerts|length }} {{ kind }}").expect("valid");
        let message = Message { kind: Kind::Digest, ..full_sample() };
        assert_eq!(t.render(&message).expect("renders"), "cpu_high resolved x1 digest");
        assert!(Template::new("{{ alert.rul }}").is_err_and(|e| e.contains("undefined")));
        assert!(Template::new("{{ nothing }}").is_err());
        assert!(Template::new("{% for x in %}").is_err());
        assert!(
            Template::new("{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}")
                .is_err_and(|e| e.contains("fuel"))
        );
    }
}
