import AxeBuilder from "@axe-core/playwright";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { expect, test, type Page } from "@playwright/test";
import { NOTIFY_PORT, NOTIFY_SECRET, NOTIFY_UPSTREAM_PORT, PASSWORD, RECEIVER_PORT } from "../playwright.config";

// The livedash on NOTIFY_PORT has the rule "jobs piling up" (queued above 100) on its source
// "jobs", read from an upstream this spec starts, and two webhook channels on a receiver this spec
// starts too: "ops" (answers 200 "thanks") and "picky" (answers 400 "unknown hook"), both URLs
// holding NOTIFY_SECRET. The Alerts view shows each alert's delivery state per channel, the failed
// deliveries with their reason, and the channels with a "Send test" button.
const BASE = `http://127.0.0.1:${NOTIFY_PORT}`;
const RULE = "jobs piling up";
let queued = 3;

type Received = { path: string; body: string };

function listen(port: number, handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => handle(req, body, res));
  });
  return new Promise<Server>((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

function stop(server: Server) {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// The notices of a webhook body: one alert's JSON, or several under "alerts".
function notices(body: string): { rule?: string; status?: string; id?: string; kind?: string }[] {
  try {
    const json = JSON.parse(body);
    return Array.isArray(json.alerts) ? json.alerts : [json];
  } catch {
    return [];
  }
}

async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("an alert's delivery per channel, a refused one's reason and the test button's answer show on the Alerts view", async ({
  browser,
}) => {
  queued = 3;
  const received: Received[] = [];
  const upstream = await listen(NOTIFY_UPSTREAM_PORT, (_, __, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ queued }));
  });
  const receiver = await listen(RECEIVER_PORT, (req, body, res) => {
    const path = (req.url ?? "").split("?")[0];
    received.push({ path, body });
    if (path.startsWith("/ok/")) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("thanks");
    } else {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("unknown hook");
    }
  });
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${BASE}/alerts`);
    const channels = page.getByTestId("channels");
    await expect(channels.getByRole("row", { name: /ops/ })).toContainText("webhook");
    await expect(channels.getByRole("row", { name: /picky/ })).toContainText("webhook");

    queued = 250;
    const row = page.getByTestId("active-alerts").getByRole("row", { name: new RegExp(RULE) });
    await expect(row).toContainText("Firing");
    // Each channel's delivery of this alert, in words: sent to one, refused (400) by the other.
    const notified = row.getByTestId("alert-deliveries");
    await expect(notified.locator('[data-channel="ops"]')).toHaveText("ops: Sent");
    await expect(notified.locator('[data-channel="picky"]')).toHaveText("picky: Failed");
    const failed = page.getByTestId("failed-deliveries").getByRole("row", { name: new RegExp(RULE) });
    await expect(failed).toContainText("picky");
    await expect(failed.getByTestId("failed-reason")).toContainText("400");
    await expect(failed.getByTestId("failed-reason")).toContainText("unknown hook");
    await expect(page.getByTestId("deliveries").getByRole("row", { name: new RegExp(`${RULE}.*ops`) })).toContainText(
      "Sent",
    );
    // The receiver got the firing once, with its fields.
    const firing = received
      .filter((r) => r.path.startsWith("/ok/"))
      .flatMap((r) => notices(r.body))
      .filter((n) => n.rule === RULE && n.status === "firing");
    expect(firing).toHaveLength(1);
    expect(firing[0].id).toBeTruthy();

    // The view refreshes around a focused "Send test" button, which keeps the focus.
    const button = channels.getByRole("button", { name: "Send test to ops" });
    await button.focus();
    queued = 260;
    await expect(row.getByTestId("alert-value")).toHaveText("260");
    await expect(button).toBeFocused();

    // The test button, through the real path: the receiver's answer, then a refusal's reason.
    const before = received.length;
    await button.click();
    await expect(page.getByTestId("notice")).toHaveText("The test to ops was accepted: the receiver answered 200: “thanks”");
    expect(received.slice(before).some((r) => r.path.startsWith("/ok/") && notices(r.body)[0]?.kind === "test")).toBe(
      true,
    );
    await expect(page.getByTestId("channels").getByRole("row", { name: /ops/ }).getByTestId("channel-last")).toContainText(
      "thanks",
    );
    await page.getByTestId("channels").getByRole("button", { name: "Send test to picky" }).click();
    await expect(page.getByTestId("notice")).toContainText("The test to picky failed:");
    await expect(page.getByTestId("notice")).toContainText("unknown hook");

    // No secret of a channel anywhere on the page.
    expect(await page.content()).not.toContain(NOTIFY_SECRET);
    expect(await serious(page)).toEqual([]);
    // From the top (the test's redirect scrolled to the channels; the top bar is sticky).
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: "test-results/screenshots/notify.png", fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: "test-results/screenshots/notify-dark.png", fullPage: true });
  } finally {
    queued = 3;
    await context.close();
    await stop(upstream);
    await stop(receiver);
  }
});

test("a message's silence link opens the view with that alert's silence form ready", async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  try {
    const page = await context.newPage();
    await page.goto(`${BASE}/alerts?silence=${encodeURIComponent(RULE)}&source=jobs&series=queued`);
    const form = page.getByTestId("silence-form");
    await expect(page.getByRole("heading", { name: `Silence ${RULE} on jobs · queued` })).toBeVisible();
    await expect(form.getByLabel("For")).toBeFocused();
    await expect(form.getByLabel("For")).toHaveValue("1h");
    await page.screenshot({ path: "test-results/screenshots/notify-silence-link.png" });
    // Opening the link changed nothing: only the form's POST silences.
    const alerts = await (await context.request.get(`${BASE}/api/alerts`)).json();
    expect(alerts.instances.filter((i: { rule: string; silenced?: unknown }) => i.rule === RULE && i.silenced)).toEqual([]);
    await form.getByLabel("Comment").fill("from the message");
    await form.getByRole("button", { name: "Silence" }).click();
    await expect(page.getByTestId("notice")).toContainText(`instance`);
    await expect(page.getByTestId("notice")).toContainText(RULE);
    expect(await serious(page)).toEqual([]);
  } finally {
    await context.close();
  }
});
