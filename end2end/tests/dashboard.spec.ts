import { expect, test, type ConsoleMessage, type Page } from "@playwright/test";
import { PORT } from "../playwright.config";

// Problems the page reports: console errors (failed hydration, panics, CSP violations) and
// uncaught exceptions. Every test fails if there is any.
function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

// Content-Security-Policy violations, as the page itself sees them.
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

test("dashboard shows server-rendered values before any script runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  const cpu = page.locator('[data-source="local"] [data-series="cpu_pct"] [data-testid="value"] .num');
  await expect(cpu).toHaveText(/^\d+(\.\d+)?$/);
  await expect(page.locator('[data-series="mem_used_bytes"] [data-testid="value"]')).toContainText("%");
  await expect(page.locator('[data-series="mem_used_bytes"] .caption')).toHaveText(/^[\d.]+ [KMGT]?i?B of [\d.]+ [KMGT]?i?B$/);
  await expect(page.locator('[data-series="mem_pct"]')).toHaveCount(0);
  await context.close();
});

test("dashboard goes live over the WebSocket and values change without a reload", async ({ page }) => {
  const problems = watchForProblems(page);
  const cspViolations = await watchCsp(page);
  const frames: string[] = [];
  const sockets: string[] = [];
  page.on("websocket", (ws) => {
    sockets.push(ws.url());
    ws.on("framereceived", (f) => frames.push(String(f.payload)));
  });

  await page.goto("/");
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "live");
  await expect(badge).toHaveText("Live");

  // The socket was opened with a ticket, not with credentials in the URL.
  expect(sockets.length).toBeGreaterThan(0);
  expect(sockets[0]).toMatch(/\/ws\?ticket=[A-Za-z0-9_.%-]+&sub=configured&since=\d+$/);

  // The page already has the history from the server-rendered snapshot, so the socket resumes
  // after its last seq: the sources' statuses, then only new samples, never the history again.
  await expect.poll(() => frames.length).toBeGreaterThan(2);
  const types = frames.map((f) => JSON.parse(f).type);
  expect(types[0]).toBe("status");
  expect(types).not.toContain("hello");
  expect(types).toContain("sample");
  const since = Number(new URL(sockets[0]).searchParams.get("since"));
  expect(frames.map((f) => JSON.parse(f)).filter((f) => f.type === "sample").every((f) => f.seq > since)).toBe(true);

  // The CPU sparkline gains a point with every sample: its path changes in place.
  const spark = page.locator('[data-series="cpu_pct"] .spark-line');
  const before = await spark.getAttribute("d");
  const navigations: string[] = [];
  page.on("framenavigated", (f) => navigations.push(f.url()));
  await expect.poll(async () => spark.getAttribute("d")).not.toBe(before);
  expect(navigations, "no reload happened").toEqual([]);

  // And the value shown is a number that came from a frame.
  await expect(page.locator('[data-series="cpu_pct"] [data-testid="value"] .num')).toHaveText(/^\d+(\.\d+)?$/);
  expect(problems).toEqual([]);
  expect(await cspViolations()).toEqual([]);
});

test("the page runs under a strict Content-Security-Policy", async ({ page }) => {
  const response = await page.goto("/");
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(response!.headers()["x-frame-options"]).toBe("DENY");
  // An inline script without the nonce is refused by the browser.
  const ran = await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true";
    document.body.appendChild(s);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
});

test("a reload keeps the history and reconnects", async ({ page }) => {
  const problems = watchForProblems(page);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await page.reload();
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const points = await page.locator('[data-series="cpu_pct"] .spark-line').getAttribute("d");
  expect((points ?? "").split("L").length).toBeGreaterThan(2);
  expect(problems).toEqual([]);
});

test("without credentials there is nothing but a 401", async () => {
  // Node's own fetch: nothing of the browser context's credentials comes along.
  for (const path of ["/", "/pkg/livedash.js", "/pkg/livedash_bg.wasm", "/api/snapshot"]) {
    const response = await fetch(`http://127.0.0.1:${PORT}${path}`);
    expect(response.status, path).toBe(401);
    expect(response.headers.get("www-authenticate"), path).toContain("Basic");
    expect(await response.text(), path).not.toContain("cpu_pct");
  }
});

test("a dropped socket shows reconnecting with the attempt, then live again", async ({ page }) => {
  const problems = watchForProblems(page);
  let connections = 0;
  let dropFirst: (() => Promise<void>) | undefined;
  // Pass every socket through to the real server; keep a handle to cut the first one.
  await page.routeWebSocket(/\/ws\?/, (ws) => {
    connections += 1;
    ws.connectToServer();
    if (connections === 1) dropFirst = () => ws.close({ code: 1011, reason: "cut by the test" });
  });
  await page.goto("/");
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "live");

  await dropFirst!();
  await expect(badge).toHaveAttribute("data-state", "reconnecting");
  await expect(badge).toHaveText(/^Reconnecting \(attempt 1, next try in \d+ s\)$/);
  await expect(badge).toHaveAttribute("data-state", "live");
  expect(connections).toBe(2);
  expect(problems).toEqual([]);
});

test("a socket refused before it opens gets a reason on the badge", async ({ page }) => {
  // Play a proxy that does not forward the upgrade: every socket is closed before a frame.
  await page.routeWebSocket(/\/ws\?/, (ws) => ws.close({ code: 1006 }));
  await page.goto("/");
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "reconnecting");
  await expect(badge).toHaveAttribute("title", /forward the WebSocket upgrade/);
});

test("a hello longer than one fragment reaches the browser as one message", async ({ page }) => {
  // Enough history for a hello of several fragments (the server cuts at 4 KiB).
  await expect
    .poll(async () => (await (await page.request.get("/api/snapshot")).text()).length, { timeout: 25_000 })
    .toBeGreaterThan(12 * 1024);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  // A socket of the page's own without `since`: the server starts it with the whole history,
  // sent in 4 KiB fragments. The browser must see a single, parseable `hello`.
  const first = await page.evaluate(async () => {
    const ticket = await (await fetch("/api/ws-ticket")).json();
    const ws = new WebSocket(`ws://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`);
    const text: string = await new Promise((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("socket error"));
    });
    ws.close();
    const frame = JSON.parse(text);
    return { length: text.length, type: frame.type, samples: frame.history.length };
  });
  expect(first.type).toBe("hello");
  expect(first.length).toBeGreaterThan(12 * 1024);
  expect(first.samples).toBeGreaterThan(1);
});
