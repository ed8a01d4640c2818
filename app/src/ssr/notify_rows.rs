//! The Alerts view's notifications: what the server tells of its channels and of the outbox's
//! deliveries ([`ChannelRow`], [`DeliveryRow`], filled by the server from its notifier), each
//! alert's delivery state per channel, the recent deliveries, and the failed ones with their
//! reason. Server-rendered only (see [`super::alerts_view`]); every state in words.

use leptos::prelude::*;

use super::alerts_rows::{time, what};
use super::shell::table;

/// One notification channel, as the page shows it (never a secret: the server gives a host at
/// most).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelRow {
    /// Its name.
    pub name: String,
    /// webhook, slack, discord, mattermost, ntfy or email.
    pub kind: String,
    /// Where it sends, without secrets.
    pub target: String,
    /// Deliveries the receiver accepted.
    pub sent: u64,
    /// Sends tried again.
    pub retried: u64,
    /// Deliveries given up.
    pub failed: u64,
    /// Deliveries waiting (pending or held).
    pub waiting: u64,
    /// Inside its quiet hours now.
    pub quiet_now: bool,
    /// The last answer or failure, and when (ms since the epoch).
    pub last: Option<(u64, String)>,
    /// The fallback channel, if any.
    pub fallback: Option<String>,
}

/// One delivery of one alert's event to one channel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryRow {
    /// The event's stable id.
    pub id: String,
    /// The channel's name.
    pub channel: String,
    /// The alert's rule.
    pub rule: String,
    /// Its source.
    pub source: String,
    /// Its series, if any.
    pub series: Option<String>,
    /// `firing` or `resolved`.
    pub status: String,
    /// `pending`, `held`, `sent`, `failed`, `moved`, `sent_elsewhere`, `merged` or `silenced`.
    pub state: String,
    /// Sends tried.
    pub attempts: u32,
    /// The receiver's last answer, or why it failed.
    pub last: Option<String>,
    /// When it was made (ms since the epoch).
    pub created_ms: u64,
    /// When its next try is due, while pending.
    pub next_ms: Option<u64>,
    /// When it ended.
    pub done_ms: Option<u64>,
}

/// A delivery's state in words.
pub fn delivery_word(d: &DeliveryRow) -> String {
    match d.state.as_str() {
        "pending" if d.attempts == 0 => "Waiting".to_owned(),
        "pending" => format!("Retrying ({} {})", d.attempts, if d.attempts == 1 { "try" } else { "tries" }),
        "held" => "Held for quiet hours".to_owned(),
        "sent" => "Sent".to_owned(),
        "failed" => "Failed".to_owned(),
        "moved" => "Moved to the fallback".to_owned(),
        "sent_elsewhere" => "Sent by another instance".to_owned(),
        "merged" => "Sent in a combined message".to_owned(),
        "silenced" => "Not sent: silenced".to_owned(),
        other => other.to_owned(),
    }
}

/// The newest delivery per channel of the alert `rule` on `source` · `series` (the rows come
/// newest first), in channel order.
pub fn latest_per_channel<'a>(
    rows: &'a [DeliveryRow],
    rule: &str,
    source: &str,
    series: Option<&str>,
) -> Vec<&'a DeliveryRow> {
    let mut out: Vec<&DeliveryRow> = Vec::new();
    for d in rows.iter().filter(|d| d.rule == rule && d.source == source && d.series.as_deref() == series) {
        if !out.iter().any(|o| o.channel == d.channel) {
            out.push(d);
        }
    }
    out.sort_by(|a, b| a.channel.cmp(&b.channel));
    out
}

/// An active alert's delivery state per channel (its newest event's), for its table cell.
pub fn notified_cell(latest: &[&DeliveryRow]) -> impl IntoView + use<> {
    if latest.is_empty() {
        return view! { <span class="muted">"–"</span> }.into_any();
    }
    let items = latest
        .iter()
        .map(|d| {
            let word = delivery_word(d);
            let title = d.last.clone().unwrap_or_default();
            view! {
                <li class=format!("delivery delivery-{}", d.state) data-channel=d.channel.clone() data-state=d.state.clone() title=title>
                    {format!("{}: {word}", d.channel)}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="deliveries" data-testid="alert-deliveries">{items}</ul> }.into_any()
}

/// The cells both delivery tables open with: when the event happened (as the rows are ordered:
/// a delivery may end long after it), the rule, the source and series, the event, the channel.
fn delivery_cells(d: &DeliveryRow) -> impl IntoView + use<> {
    view! {
        <td>{time(d.created_ms)}</td>
        <th scope="row" class="rule">{d.rule.clone()}</th>
        <td>{what(&d.source, d.series.as_deref())}</td>
        <td>{status_word(&d.status)}</td>
        <td>{d.channel.clone()}</td>
    }
}

/// A delivery table: its test id, caption, last column's heading and body rows.
fn delivery_table(
    testid: &'static str,
    caption: &'static str,
    last: &'static str,
    body: AnyView,
) -> impl IntoView + use<> {
    let headings = vec!["When", "Rule", "Source · series", "Event", "Channel", "Delivery", last];
    table(testid, caption, headings, None, body)
}

/// The recent deliveries, newest first.
pub fn deliveries_table(rows: &[DeliveryRow]) -> impl IntoView + use<> {
    let body = rows
        .iter()
        .map(|d| {
            let next = (d.state == "pending").then_some(d.next_ms).flatten();
            view! {
                <tr class=format!("delivery-row delivery-{}", d.state) data-state=d.state.clone() data-channel=d.channel.clone()>
                    {delivery_cells(d)}
                    <td>
                        <span class="state-word">{delivery_word(d)}</span>
                        {next.map(|n| view! { <div class="muted">"next try " {time(n)}</div> })}
                    </td>
                    <td class="answer">{d.last.clone().unwrap_or_else(|| "–".to_owned())}</td>
                </tr>
            }
        })
        .collect_view()
        .into_any();
    delivery_table("deliveries", "The last notifications, newest first", "Last answer", body)
}

/// The deliveries given up, with their reason.
pub fn failed_table(rows: &[DeliveryRow]) -> impl IntoView + use<> {
    let body = rows
        .iter()
        .map(|d| {
            view! {
                <tr class=format!("delivery-row delivery-{}", d.state) data-state=d.state.clone()>
                    {delivery_cells(d)}
                    <td>{format!("{} after {} {}", delivery_word(d), d.attempts, if d.attempts == 1 { "try" } else { "tries" })}</td>
                    <td class="answer" data-testid="failed-reason">{d.last.clone().unwrap_or_else(|| "no reason kept".to_owned())}</td>
                </tr>
            }
        })
        .collect_view()
        .into_any();
    delivery_table("failed-deliveries", "Notifications given up, newest first, with the reason", "Reason", body)
}

fn status_word(status: &str) -> &'static str {
    match status {
        "firing" => "Fired",
        "resolved" => "Resolved",
        _ => "Other",
    }
}

/// The channels: what each is, where it sends (no secret), its counts, its last answer, whether
/// it is quiet now, and for a user who may act a "Send test" button.
pub fn channels_section(channels: &[ChannelRow], base: &str, can_write: bool) -> impl IntoView + use<> {
    let rows = channels
        .iter()
        .map(|c| {
            let counts = format!("{} sent, {} retried, {} failed, {} waiting", c.sent, c.retried, c.failed, c.waiting);
            let where_to = if c.target.is_empty() { c.kind.clone() } else { format!("{} · {}", c.kind, c.target) };
            let test = can_write.then(|| {
                view! {
                    <form method="post" action=format!("{base}/api/notify/test") class="test-form">
                        <input type="hidden" name="channel" value=c.name.clone() />
                        <button type="submit" class="bar-button">
                            "Send test"<span class="visually-hidden">{format!(" to {}", c.name)}</span>
                        </button>
                    </form>
                }
            });
            view! {
                <tr class="channel-row" data-channel=c.name.clone()>
                    <th scope="row" class="rule">{c.name.clone()}</th>
                    <td>{where_to}</td>
                    <td>{counts}</td>
                    <td>{if c.quiet_now { "Yes: held until they end" } else { "No" }}</td>
                    <td class="answer" data-testid="channel-last">
                        {match c.last.clone() {
                            Some((at, text)) => view! { {time(at)} ": " {text} }.into_any(),
                            None => view! { "–" }.into_any(),
                        }}
                    </td>
                    <td>{c.fallback.clone().unwrap_or_else(|| "–".to_owned())}</td>
                    <td class="actions">{test}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="channels-heading" class="alerts-section" id="channels" data-part="channels">
            <h2 id="channels-heading">"Channels"</h2>
            {channels.is_empty().then(|| view! {
                <p class="empty">"No notification channel is configured ([[notify]] in the config file)."</p>
            })}
            {(!channels.is_empty()).then(|| view! {
                {table(
                    "channels",
                    "Notification channels",
                    vec!["Channel", "Kind · target", "Deliveries", "Quiet now", "Last answer", "Fallback", "Test"],
                    None,
                    rows,
                )}
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(channel: &str, state: &str, created_ms: u64) -> DeliveryRow {
        DeliveryRow {
            id: format!("id-{created_ms}"),
            channel: channel.into(),
            rule: "hot".into(),
            source: "up".into(),
            series: Some("temp".into()),
            status: "firing".into(),
            state: state.into(),
            attempts: 2,
            last: Some("HTTP 500".into()),
            created_ms,
            next_ms: Some(created_ms + 1000),
            done_ms: None,
        }
    }

    #[test]
    fn each_channel_shows_its_newest_delivery_in_words() {
        let rows = [row("ops", "sent", 3), row("mail", "pending", 2), row("ops", "failed", 1)];
        let latest = latest_per_channel(&rows, "hot", "up", Some("temp"));
        let states: Vec<_> = latest.iter().map(|d| (d.channel.as_str(), d.state.as_str())).collect();
        assert_eq!(states, [("mail", "pending"), ("ops", "sent")]);
        assert!(latest_per_channel(&rows, "hot", "up", None).is_empty());
        let html = notified_cell(&latest).to_html();
        assert!(html.contains("mail: Retrying (2 tries)") && html.contains("ops: Sent"), "{html}");
    }

    #[test]
    fn channels_show_no_button_to_a_viewer_and_failures_their_reason() {
        let ops = ChannelRow {
            name: "ops".into(),
            kind: "webhook".into(),
            target: "hooks.example".into(),
            ..Default::default()
        };
        let html = channels_section(std::slice::from_ref(&ops), "/dash", true).to_html();
        assert!(
            html.contains(r#"action="/dash/api/notify/test""#) && html.contains("webhook · hooks.example"),
            "{html}"
        );
        let viewer = channels_section(&[ops], "/dash", false).to_html();
        assert!(!viewer.contains("/api/notify/test"), "{viewer}");
        let mut failed = row("ops", "failed", 5);
        failed.last = Some("HTTP 400: <bad> body".into());
        let html = failed_table(&[failed]).to_html();
        assert!(html.contains("HTTP 400: &lt;bad&gt; body") && html.contains("Failed after 2 tries"), "{html}");
    }
}
