//! The text of a message for people (a title, a line per alert with its links) and the
//! incoming-webhook bodies of Slack (`{"text": ..}`, mrkdwn), Discord (`{"content": ..,
//! "embeds": [..]}`, mentions off) and Mattermost (`{"text": ..}`, Markdown).

use serde_json::{Value, json};

use crate::notify::message::{Kind, Message, Notice, Status};
use livedash::alerts::Severity;

/// Discord's limits: characters of `content`, embeds per message, characters of a description.
const DISCORD_CONTENT: usize = 2000;
const DISCORD_EMBEDS: usize = 10;
const DISCORD_DESCRIPTION: usize = 4000;

/// The message's title: `[FIRING] cpu_high on web1`, `[RESOLVED] 3 alerts on web1`, ...
pub fn title(message: &Message) -> String {
    let word = match (message.kind, message.notices.first().map(|n| n.status)) {
        (Kind::Test, _) => return "livedash: test message".to_owned(),
        (Kind::Digest, _) => "DIGEST",
        (Kind::Reminder, _) => "STILL FIRING",
        (Kind::Alert, Some(Status::Resolved)) => "RESOLVED",
        (Kind::Alert, _) => "FIRING",
    };
    match message.notices.as_slice() {
        [one] => format!("[{word}] {} on {}", one.rule, one.source),
        many => {
            let mut sources: Vec<&str> = many.iter().map(|n| n.source.as_str()).collect();
            sources.dedup();
            format!("[{word}] {} alerts on {}", many.len(), sources.join(", "))
        }
    }
}

/// One alert in words: its summary, which already says the status, the severity, the rule, the
/// value (and, resolved, how long it lasted and its peak; firing, why a source is down), then
/// only what it does not say: a firing alert's peak when it differs from the value, and how long
/// it has been firing (a reminder, a digest).
pub fn line(n: &Notice) -> String {
    let mut facts = Vec::new();
    if n.status == Status::Firing {
        if let (Some(peak), Some(value)) = (n.peak, n.value)
            && peak != value
        {
            facts.push(format!("peak {peak}"));
        }
        if let Some(d) = n.duration_s.filter(|d| *d > 0) {
            facts.push(format!("firing for {}", humantime::format_duration(std::time::Duration::from_secs(d))));
        }
    }
    if facts.is_empty() { n.summary.clone() } else { format!("{} ({})", n.summary, facts.join(", ")) }
}

/// A plain-text body: the title, then a line per alert with its chart and silence links.
pub fn plain(message: &Message) -> String {
    let mut text = title(message);
    for n in &message.notices {
        text.push_str(&format!("\n- {}", line(n)));
        for (label, url) in [("chart", &n.url), ("silence", &n.silence_url)] {
            if !url.is_empty() {
                text.push_str(&format!("\n  {label}: {url}"));
            }
        }
    }
    text
}

/// Slack's `&`, `<` and `>` escaped (its mrkdwn control characters).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack incoming webhook's body: `{"text": ...}` with `<url|label>` links.
pub fn slack(message: &Message) -> Value {
    let mut text = format!("*{}*", slack_escape(&title(message)));
    for n in &message.notices {
        text.push_str(&format!("\n• {}", slack_escape(&line(n))));
        let links: Vec<String> = [("chart", &n.url), ("silence", &n.silence_url)]
            .into_iter()
            .filter(|(_, url)| !url.is_empty())
            .map(|(label, url)| format!("<{url}|{label}>"))
            .collect();
        if !links.is_empty() {
            text.push_str(&format!(" {}", links.join(" · ")));
        }
    }
    json!({ "text": text })
}

/// A Mattermost incoming webhook's body: `{"text": ...}` in Markdown, with `[label](url)` links.
pub fn mattermost(message: &Message) -> Value {
    let mut text = format!("**{}**", title(message));
    for n in &message.notices {
        text.push_str(&format!("\n- {}", line(n)));
        for (label, url) in [("chart", &n.url), ("silence", &n.silence_url)] {
            if !url.is_empty() {
                text.push_str(&format!(" [{label}]({url})"));
            }
        }
    }
    json!({ "text": text, "username": "livedash" })
}

/// The embed colour of an alert: red critical, amber warning, green resolved.
fn colour(n: &Notice) -> u32 {
    match (n.status, n.severity) {
        (Status::Resolved, _) => 0x2e_b6_7d,
        (Status::Firing, Severity::Critical) => 0xe0_1e_5a,
        (Status::Firing, Severity::Warning) => 0xec_b2_2e,
    }
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A Discord webhook's body: the title as `content`, one embed per alert (at most 10; the rest
/// counted in the content), and no mentions (a rule's name cannot ping `@everyone`).
pub fn discord(message: &Message) -> Value {
    let mut content = title(message);
    let extra = message.notices.len().saturating_sub(DISCORD_EMBEDS);
    if extra > 0 {
        content.push_str(&format!(" ({extra} more not shown)"));
    }
    let embeds: Vec<Value> = message
        .notices
        .iter()
        .take(DISCORD_EMBEDS)
        .map(|n| {
            let mut description = line(n);
            if !n.silence_url.is_empty() {
                description.push_str(&format!("\n[silence]({})", n.silence_url));
            }
            let mut embed = json!({
                "title": cut(&format!("{} on {}", n.rule, n.source), 256),
                "description": cut(&description, DISCORD_DESCRIPTION),
                "color": colour(n),
            });
            if !n.url.is_empty() {
                embed["url"] = json!(n.url);
            }
            embed
        })
        .collect();
    json!({
        "content": cut(&content, DISCORD_CONTENT),
        "embeds": embeds,
        "allowed_mentions": { "parse": [] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channel::full_sample;

    #[test]
    fn bodies_carry_the_title_the_facts_and_the_links() {
        let m = full_sample();
        let s = slack(&m)["text"].as_str().map(str::to_owned).unwrap_or_default();
        assert!(s.starts_with("*[RESOLVED] cpu_high on web1*"), "{s}");
        assert!(s.contains("peak 97.5") && s.contains("<https://livedash.example/chart|chart>"), "{s}");
        let d = discord(&m);
        assert_eq!(d["embeds"][0]["color"], 0x2e_b6_7d);
        assert_eq!(d["embeds"][0]["url"], "https://livedash.example/chart");
        assert_eq!(d["allowed_mentions"]["parse"], json!([]));
        let t = mattermost(&m)["text"].as_str().map(str::to_owned).unwrap_or_default();
        assert!(t.contains("[chart](https://livedash.example/chart)") && t.contains("after 5m"), "{t}");
    }

    #[test]
    fn slack_control_characters_are_escaped() {
        let mut m = full_sample();
        m.notices[0].rule = "<!channel> & co".into();
        let s = slack(&m)["text"].as_str().map(str::to_owned).unwrap_or_default();
        assert!(s.contains("&lt;!channel&gt; &amp; co") && !s.contains("<!channel>"), "{s}");
    }
}
