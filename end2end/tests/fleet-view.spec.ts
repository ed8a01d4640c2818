import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page, type WebSocketRoute } from "@playwright/test";

// The fleet overview's and the one-metric page's behaviour in real Chromium against the real
// server (the page, its files, its ticket, its history API), with the page's socket answered by
// the test (Playwright's routeWebSocket): a hand-made `hello` with a full FleetUpdate, then the
// `fleet` and `points` frames the test chooses. What the socket is asked for (`sub=`) is checked
// too. fleet.spec.ts runs the same pages against a real fleet of fake exporters.

type Row = { i?: string; n: string; t?: Record<string, string>; s: "up" | "stale" | "down"; since: number; f: (number | null)[]; c?: (number | null)[]; a?: number };

const now = Date.now();
const row = (n: string, s: Row["s"], cpu: number | null, t: Record<string, string>, a = 0): Row => ({
  n, t, s, since: now - 240_000, f: [cpu, 40, 70, 0.5, 12_000, 3_000, 86_400], c: [5, 10, cpu ?? null, cpu ?? 0], a,
});
const ROWS: Row[] = [
  row("web-1", "up", 91, { env: "prod", role: "web" }),
  row("web-2", "up", 12, { env: "prod", role: "web" }),
  row("db-1", "down", null, { env: "prod", role: "db" }),
  row("db-2", "stale", 30, { env: "dev", role: "db" }),
  row("cache-1", "up", 5, { env: "dev", role: "cache" }, 2),
  row("lone", "up", 50, {}),
];
const counts = (rows: Row[]) => ({
  up: rows.filter((r) => r.s === "up").length, stale: rows.filter((r) => r.s === "stale").length,
  down: rows.filter((r) => r.s === "down").length, alerting: rows.filter((r) => (r.a ?? 0) > 0).length,
});
const hello = (rows: Row[]) =>
  JSON.stringify({ type: "hello", v: 1, server_time_ms: Date.now(), interval_ms: {}, history: [], sources: [], fleet: { seq: 1, full: true, rows, counts: counts(rows) } });

/** Answers the page's socket with `rows`; returns the socket URLs asked and the open sockets. */
async function fleetSocket(page: Page, rows: Row[] = ROWS) {
  const asked: string[] = [];
  const open: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/ws\?/, (ws) => {
    asked.push(ws.url());
    open.push(ws);
    if (ws.url().includes("sub=overview")) ws.send(hello(rows));
  });
  return { asked, open };
}

// The first table (a second one, hidden, takes the other half of the rows on a crowded wall screen).
const th = (page: Page, column: string) => page.locator("table.fleet-table").first().locator(`thead th.col-${column}`);
const names = (page: Page) => page.locator("tr.host th.col-name a").allTextContents();

test("the overview lists every host worst first, with the counts, asking the socket for the overview only", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  const { asked } = await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  expect(await names(page)).toEqual(["db-1", "db-2", "cache-1", "web-1", "lone", "web-2"]);
  await expect(page.getByTestId("fleet-counts")).toContainText("4 up");
  await expect(page.getByTestId("fleet-counts")).toContainText("1 down");
  await expect(page.locator('tr[data-host="db-1"] .col-status')).toContainText(/down 4\smin/);
  await expect(page.locator('tr[data-host="cache-1"] .alerting')).toContainText("2");
  expect(asked[0]).toMatch(/sub=overview/);
  await expect(page.locator("caption").first()).toContainText("6 of 6 hosts, sorted worst first");
  expect(errors).toEqual([]);
});

test("a column's heading sorts by it, both ways, by mouse and keyboard, with aria-sort", async ({ page }) => {
  await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  const cpu = th(page, "cpu_pct");
  await cpu.getByRole("button").click();
  await expect(cpu).toHaveAttribute("aria-sort", "descending");
  expect(await names(page)).toEqual(["web-1", "lone", "db-2", "web-2", "cache-1", "db-1"]);
  await cpu.getByRole("button").focus();
  await page.keyboard.press("Enter");
  await expect(cpu).toHaveAttribute("aria-sort", "ascending");
  expect((await names(page))[0]).toBe("cache-1");
  await th(page, "name").getByRole("button").click();
  await expect(th(page, "name")).toHaveAttribute("aria-sort", "ascending");
  await expect(cpu).toHaveAttribute("aria-sort", "none");
  expect(await names(page)).toEqual(["cache-1", "db-1", "db-2", "lone", "web-1", "web-2"]);
});

test("the filter takes words and tag:value terms, all of which must match", async ({ page }) => {
  await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  await page.getByTestId("fleet-filter").fill("env:prod role:web");
  await expect(page.locator("tr.host")).toHaveCount(2);
  expect(await names(page)).toEqual(["web-1", "web-2"]);
  await page.getByTestId("fleet-filter").fill("db");
  expect(await names(page)).toEqual(["db-1", "db-2"]);
  await page.getByTestId("fleet-filter").fill("status:down");
  expect(await names(page)).toEqual(["db-1"]);
  await page.getByTestId("fleet-filter").fill("env:nowhere");
  await expect(page.getByText("No host matches the filter.")).toBeVisible();
});

test("grouping by a tag puts hosts under each of its values, untagged last", async ({ page }) => {
  await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  await page.getByTestId("fleet-group").selectOption("env");
  await expect(page.locator("tr.group-head")).toHaveCount(3);
  expect(await page.locator("tr.group-head").allTextContents()).toEqual(["dev · 2", "prod · 3", "(no tag) · 1"]);
  expect(await names(page)).toEqual(["db-2", "cache-1", "db-1", "web-1", "web-2", "lone"]);
});

test("the view survives a reload: order, filter and grouping come back", async ({ page }) => {
  await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  await th(page, "mem_pct").getByRole("button").click();
  await page.getByTestId("fleet-filter").fill("role:db");
  await page.getByTestId("fleet-group").selectOption("env");
  await expect(page.locator("tr.host")).toHaveCount(2);
  await page.reload();
  await expect(page.getByTestId("fleet-filter")).toHaveValue("role:db");
  await expect(page.getByTestId("fleet-group")).toHaveValue("env");
  await expect(th(page, "mem_pct")).toHaveAttribute("aria-sort", "descending");
  await expect(page.locator("tr.host")).toHaveCount(2);
  await page.getByTestId("fleet-reset").click();
  await expect(page.locator("tr.host")).toHaveCount(6);
});

test("a row opens its host's dashboard, which subscribes to that host", async ({ page }) => {
  const { asked } = await fleetSocket(page);
  await page.goto("/fleet");
  await page.locator('tr[data-host="web-2"] td.col-mem_pct').click();
  await expect(page).toHaveURL(/\/\?host=web-2$/);
  await expect.poll(() => asked.find((u) => u.includes("sub=host"))).toMatch(/sub=host%3Aweb-2/);
  // The keyboard reaches the same link.
  await page.goto("/fleet");
  await page.locator('tr[data-host="lone"] a').focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/\?host=lone$/);
});

test("a host going down moves to the top, turns red and is counted, live", async ({ page }) => {
  const { open } = await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  const down = { ...ROWS[0], s: "down" as const, since: Date.now(), f: [null, null, null, null, null, null, null] };
  const rows = ROWS.map((r) => (r.n === "web-1" ? down : r));
  open[0].send(JSON.stringify({ type: "fleet", seq: 2, rows: [down], counts: counts(rows) }));
  await expect(page.locator('tr[data-host="web-1"]')).toHaveAttribute("data-status", "down");
  await expect(page.getByTestId("fleet-counts")).toContainText("2 down");
  expect((await names(page)).slice(0, 2).sort()).toEqual(["db-1", "web-1"]);
  open[0].send(JSON.stringify({ type: "fleet", seq: 3, rows: [], gone: ["lone"], counts: counts(rows.slice(0, 5)) }));
  await expect(page.locator("tr.host")).toHaveCount(5);
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`the fleet pages have no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await fleetSocket(page);
    await page.goto("/fleet");
    await expect(page.locator("tr.host")).toHaveCount(6);
    await page.getByTestId("fleet-group").selectOption("role");
    const serious = async () =>
      (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze()).violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    expect(await serious()).toEqual([]);
    await page.goto("/fleet/metric?figure=mem_pct&range=1h");
    await expect(page.getByTestId("metric-chart")).toBeVisible();
    expect(await serious()).toEqual([]);
  });
}

test("at 375 px the overview has no sideways scroll and keeps host, status, CPU and memory", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await fleetSocket(page);
  await page.goto("/fleet");
  await expect(page.locator("tr.host")).toHaveCount(6);
  const x = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(x).toBeLessThanOrEqual(0);
  await expect(page.locator('tr[data-host="web-1"] td.col-cpu_pct')).toBeVisible();
  await expect(page.locator('tr[data-host="web-1"] td.col-net_in_bps')).toBeHidden();
  await page.screenshot({ path: "test-results/screenshots/fleet-phone.png", fullPage: true });
});

test("the wall screen fits 100 hosts on 1920x1080", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const many = Array.from({ length: 100 }, (_, k) =>
    row(`host-${String(k).padStart(3, "0")}`, k % 17 === 0 ? "down" : "up", (k * 37) % 100, { env: k % 2 ? "prod" : "dev", rack: `r${k % 5}` }),
  );
  await fleetSocket(page, many);
  await page.goto("/fleet?kiosk");
  await expect(page.locator("tr.host")).toHaveCount(100);
  const bottom = await page.locator("tr.host").evaluateAll((rows) => Math.max(...rows.map((r) => r.getBoundingClientRect().bottom)));
  expect(bottom).toBeLessThanOrEqual(1080);
  const x = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(x).toBeLessThanOrEqual(0);
  await page.screenshot({ path: "test-results/screenshots/fleet-kiosk.png" });
});

test("the one-metric page draws every host's line from live points, the top ones in a legend", async ({ page }) => {
  const asked: string[] = [];
  let socket: WebSocketRoute | undefined;
  await page.routeWebSocket(/\/ws\?/, (ws) => {
    asked.push(ws.url());
    socket = ws;
    ws.send(JSON.stringify({ type: "hello", v: 1, server_time_ms: Date.now(), interval_ms: {}, history: [], sources: [] }));
  });
  await page.goto("/fleet/metric?figure=cpu_pct&range=5m");
  await expect.poll(() => asked.length).toBeGreaterThan(0);
  expect(asked[0]).toMatch(/sub=figure%3Acpu_pct|sub=figure:cpu_pct/);
  const hosts = Array.from({ length: 8 }, (_, k) => `h${k}`);
  for (let tick = 0; tick < 3; tick++) {
    const ts = Date.now() - (3 - tick) * 1000;
    socket!.send(JSON.stringify({ type: "points", seq: tick + 1, ts_ms: ts, figure: "cpu_pct", points: hosts.map((h, k) => [h, 1000 + k * 10 + tick]) }));
  }
  await expect(page.getByTestId("metric-legend").locator("li")).toHaveCount(5);
  await expect(page.getByTestId("metric-legend").locator("li").first()).toContainText("h7");
  // The other three (and this machine's own line from the store, if it has one yet) are faint.
  expect(await page.locator(".metric-chart path.faint").count()).toBeGreaterThanOrEqual(3);
  await expect(page.locator(".metric-status")).toHaveText("");
  await page.screenshot({ path: "test-results/screenshots/fleet-metric.png" });
});
