//! The Alerts view (`/alerts`): rendered on the server only, never hydrated, so it costs the
//! browser bundle nothing. A document with the dashboard's style sheet and top bar, the active
//! alerts (firing and pending first) with their silence and acknowledge forms and their delivery
//! state per channel, the recent and the failed notifications, the last events
//! ([`super::alerts_rows`], [`super::notify_rows`]), the notification channels with a "Send
//! test" button, and, opened by a message's silence link, that alert's silence form
//! ([`super::silence_form`]).
//!
//! It stays current with a small script (in the page, with the response's nonce): every
//! `refresh_ms` (the shortest source interval) it asks for the live part again
//! (`/alerts?part=live`, answered 304 when nothing changed) and puts it in place, except a row
//! whose form is open, focused or typed in: that row's cells are updated around the form, which
//! stays as it is; and a part holding the focus (the channels, while a "Send test" button has
//! it) is kept until the focus leaves. The same script shows times in the browser's time zone.

use leptos::prelude::*;
use livedash::alerts::{AlertEvent, AlertsStatus};

use super::alerts_rows::{active_table, events_table};
use super::notify_rows::{ChannelRow, DeliveryRow, channels_section, deliveries_table, failed_table};
use super::shell::{Here, brand, head, pages_nav};
use super::silence_form::{SilenceAsk, silence_section};

/// What the Alerts view shows, gathered by the server.
#[derive(Debug, Clone, Default)]
pub struct AlertsPage {
    /// The base path (`""` or `/dash`).
    pub base: String,
    /// This response's CSP nonce, for the page's two scripts.
    pub nonce: String,
    /// The user looking.
    pub user: String,
    /// Whether that user may silence and acknowledge.
    pub can_write: bool,
    /// Now, in ms since the epoch (the server's clock).
    pub now_ms: u64,
    /// How often the page refreshes its live part, in ms.
    pub refresh_ms: u64,
    /// The instances that are not ok, firing and pending first.
    pub status: AlertsStatus,
    /// The last events, newest first.
    pub events: Vec<AlertEvent>,
    /// How many rules there are.
    pub rules: usize,
    /// What the last action did ("Silenced 1 instance of cpu busy."), after its redirect.
    pub notice: Option<String>,
    /// Whether that action failed (a test the receiver did not take).
    pub notice_failed: bool,
    /// The notification channels.
    pub channels: Vec<ChannelRow>,
    /// The recent deliveries, newest first.
    pub deliveries: Vec<DeliveryRow>,
    /// The deliveries given up, newest first.
    pub failed: Vec<DeliveryRow>,
    /// The alert a silence link opened the view for.
    pub silence: Option<SilenceAsk>,
}

/// The whole document.
pub fn document(page: &AlertsPage) -> String {
    let base = page.base.clone();
    let title = match page.status.firing {
        0 => "Alerts · livedash".to_owned(),
        n => format!("({n} firing) Alerts · livedash"),
    };
    let nonce = page.nonce.clone();
    let view = view! {
        <!DOCTYPE html>
        <html lang="en">
            {head(&base, Some(nonce.clone()), title)}
            <body class="alerts-page">
                <header class="topbar">
                    {brand()}
                    <div class="summary" data-testid="summary">{summary(&page.status, &base)}</div>
                    {pages_nav(&base, Here::Alerts, page.can_write)}
                </header>
                <main class="alerts" id="main">
                    <h1>"Alerts"</h1>
                    {page.notice.clone().map(|n| {
                        let class = if page.notice_failed { "notice notice-bad" } else { "notice" };
                        view! { <p class=class role="status" data-testid="notice">{n}</p> }
                    })}
                    {(!page.can_write).then(|| view! {
                        <p class="muted">{format!("You are logged in as {}, a read-only user: you can look, not silence or acknowledge.", page.user)}</p>
                    })}
                    {page.silence.as_ref().map(|ask| silence_section(ask, &base, page.can_write))}
                    <div id="alerts-live" data-refresh-ms=page.refresh_ms.to_string() data-testid="alerts-live">
                        {live(page)}
                    </div>
                </main>
                <script nonce=nonce inner_html=REFRESH_SCRIPT></script>
            </body>
        </html>
    };
    view.to_html()
}

/// The part the page refreshes: the active alerts, the notifications, the last events and the
/// channels.
pub fn live_part(page: &AlertsPage) -> String {
    live(page).to_html()
}

fn live(page: &AlertsPage) -> impl IntoView + use<> {
    let (firing, pending) = (page.status.firing, page.status.pending);
    let others = page.status.instances.len().saturating_sub((firing + pending) as usize);
    let counts = format!(
        "{firing} firing, {pending} pending{}; {} rules.",
        if others > 0 { format!(", {others} without data or with a failing source") } else { String::new() },
        page.rules
    );
    let active = (!page.status.instances.is_empty())
        .then(|| active_table(&page.status.instances, &page.deliveries, &page.base, page.now_ms, page.can_write));
    let deliveries = (!page.deliveries.is_empty()).then(|| deliveries_table(&page.deliveries));
    let failed = (!page.failed.is_empty()).then(|| failed_table(&page.failed));
    let events = (!page.events.is_empty()).then(|| events_table(&page.events, &page.base, page.now_ms));
    view! {
        <section aria-labelledby="active-heading" class="alerts-section">
            <h2 id="active-heading">"Active alerts"</h2>
            <p class="muted" data-part="counts" data-testid="alert-counts">{counts}</p>
            {active}
            {page.status.instances.is_empty().then(|| view! {
                <p class="empty" data-part="none">"No alert is firing or pending."</p>
            })}
        </section>
        <section aria-labelledby="failed-heading" class="alerts-section" data-part="failed">
            <h2 id="failed-heading">"Failed notifications"</h2>
            {failed}
            {page.failed.is_empty().then(|| view! { <p class="empty">"No notification has failed."</p> })}
        </section>
        <section aria-labelledby="deliveries-heading" class="alerts-section" data-part="deliveries">
            <h2 id="deliveries-heading">"Notifications"</h2>
            {deliveries}
            {page.deliveries.is_empty().then(|| view! { <p class="empty">"No notification yet."</p> })}
        </section>
        <section aria-labelledby="events-heading" class="alerts-section" data-part="events">
            <h2 id="events-heading">"Last events"</h2>
            {events}
            {page.events.is_empty().then(|| view! { <p class="empty">"No events yet."</p> })}
        </section>
        {channels_section(&page.channels, &page.base, page.can_write)}
    }
}

/// The top bar's summary: how many alerts fire (a link to this view), or that none does.
pub fn summary(status: &AlertsStatus, base: &str) -> impl IntoView + use<> {
    let href = format!("{base}/alerts");
    match (status.firing, status.pending) {
        (0, 0) => {
            view! { <a class="sum sum-ok" href=href data-testid="summary-alerts">"No alerts firing"</a> }.into_any()
        }
        (0, p) => view! { <a class="sum sum-warn" href=href data-testid="summary-alerts">{format!("{p} pending")}</a> }
            .into_any(),
        (f, _) => {
            view! { <a class="sum sum-critical" href=href data-testid="summary-alerts">{format!("{f} firing")}</a> }
                .into_any()
        }
    }
}

/// Refreshes `#alerts-live` every `data-refresh-ms`, keeping a row someone is using (see the
/// module's comment), and shows every `<time>` in the browser's time zone.
const REFRESH_SCRIPT: &str = r##"(() => {
  const live = document.getElementById("alerts-live");
  if (!live) return;
  const every = Math.max(250, Number(live.dataset.refreshMs) || 1000);
  let etag = "";
  const busy = (row) => row.contains(document.activeElement)
    || [...row.querySelectorAll("input, textarea")].some((i) => i.value !== i.defaultValue)
    || [...row.querySelectorAll("details")].some((d) => d.open);
  const local = () => {
    for (const t of document.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) continue;
      const s = Math.round((Date.now() - d) / 1000);
      const ago = s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor(s / 60) % 60} min`;
      t.textContent = s >= 0 ? `${d.toLocaleString()} (${ago} ago)` : d.toLocaleString();
    }
  };
  const merge = (rows, fresh) => {
    const kept = new Map([...rows.rows].filter(busy).map((r) => [r.dataset.key, r]));
    for (const r of [...rows.rows]) if (!kept.has(r.dataset.key)) r.remove();
    let prev = null;
    for (const r of [...fresh.rows]) {
      const mine = kept.get(r.dataset.key);
      if (mine) {
        [...r.cells].forEach((c, i) => { if (!c.classList.contains("actions") && mine.cells[i]) mine.cells[i].innerHTML = c.innerHTML; });
        mine.className = r.className;
        kept.delete(r.dataset.key);
        prev = mine;
      } else {
        if (prev) prev.after(r); else rows.prepend(r);
        prev = r;
      }
    }
    for (const gone of kept.values()) gone.classList.add("gone");
  };
  const tick = async () => {
    try {
      const r = await fetch(location.pathname + "?part=live", { headers: etag ? { "If-None-Match": etag } : {}, cache: "no-store" });
      if (r.status === 200) {
        etag = r.headers.get("ETag") || "";
        const next = document.createElement("div");
        next.innerHTML = await r.text();
        const rows = live.querySelector("#active-rows");
        // A part holding the focus (a channel's "Send test" button) stays as it is.
        const held = [...live.querySelectorAll("[data-part]")].filter((p) => p.contains(document.activeElement)).map((p) => p.dataset.part);
        if ((rows && [...rows.rows].some(busy)) || held.length) {
          if (rows) merge(rows, next.querySelector("#active-rows") || document.createElement("tbody"));
          for (const part of [...next.querySelectorAll("[data-part]")]) {
            if (held.includes(part.dataset.part)) continue;
            const here = live.querySelector(`[data-part="${part.dataset.part}"]`);
            if (here) here.replaceWith(part);
          }
        } else {
          live.replaceChildren(...next.childNodes);
        }
        local();
      }
    } catch (e) { /* the next tick tries again */ }
    setTimeout(tick, every);
  };
  local();
  setTimeout(tick, every);
})();"##;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livedash::alerts::{AlertInstance, AlertState, Hush, Severity, Side, Threshold};

    use super::*;

    fn firing(rule: &str) -> AlertInstance {
        AlertInstance {
            rule: Arc::from(rule),
            source: Arc::from("local"),
            series: Some(Arc::from("cpu_pct")),
            state: AlertState::Firing,
            severity: Severity::Critical,
            since_ms: 1_764_943_503_000,
            value: Some(95.0),
            peak: Some(97.5),
            threshold: Some(Threshold { side: Side::Above, value: 90.0, clear: 80.0 }),
            reason: None,
            silenced: Some(Hush {
                by: "ana".into(),
                until_ms: Some(1_764_947_103_000),
                comment: "deploy".into(),
                at_ms: 1_764_943_600_000,
            }),
            acked: None,
        }
    }

    fn page(can_write: bool) -> AlertsPage {
        AlertsPage {
            base: "/dash".into(),
            nonce: "n0nce".into(),
            user: "ana".into(),
            can_write,
            now_ms: 1_764_943_700_000,
            refresh_ms: 250,
            status: AlertsStatus::new(vec![firing("cpu <b>busy</b>")]),
            events: Vec::new(),
            rules: 2,
            notice: None,
            ..Default::default()
        }
    }

    #[test]
    fn the_view_lists_the_firing_alert_with_labelled_forms_for_an_editor_only() {
        let html = document(&page(true));
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("cpu &lt;b&gt;busy&lt;/b&gt;") && !html.contains("<b>busy"), "text is escaped: {html}");
        assert!(html.contains("Firing") && html.contains("95 %") && html.contains("97.5 %"), "{html}");
        assert!(html.contains("above 90 %, clears at 80 %") && html.contains("Silenced by ana"), "{html}");
        assert!(
            html.contains(r#"action="/dash/api/alerts/silence""#) && html.contains(r#"action="/dash/api/alerts/ack""#)
        );
        assert!(html.contains(r#"href="/dash/?chart=cpu_pct&amp;source=local&amp;from="#), "the chart link: {html}");
        assert!(html.contains(r#"nonce="n0nce""#) && html.contains(r#"data-refresh-ms="250""#), "{html}");
        assert!(html.contains(r#"<th scope="row""#) && html.contains(r#"<th scope="col""#), "table semantics");
        // Every field has its label.
        for id in html.split(r#"<input id=""#).skip(1).map(|rest| rest.split('"').next().unwrap_or("")) {
            assert!(html.contains(&format!(r#"<label for="{id}""#)), "no label for {id}");
        }
        let viewer = document(&page(false));
        assert!(!viewer.contains("/api/alerts/silence") && viewer.contains("read-only"), "{viewer}");
        assert!(summary_text(&page(true)).contains("1 firing"));
    }

    fn summary_text(page: &AlertsPage) -> String {
        summary(&page.status, &page.base).to_html()
    }
}
