// The page's budgets, measured (a benchmark, not a test): run by scripts/bench-page.sh.
//
// 1. Load: for the default dashboard (this machine's metrics), ten fresh page loads in headless
//    Chromium on loopback, each timed from navigation start to the first paint with values (the
//    server renders them), to live (hydrated, socket open) and to the first value the socket
//    changed on the page.
// 2. Main thread: a source of 200 series at 10 Hz; Chromium's own task time over 10 s, as a share
//    of one core, beside the same page with its source stopped (the floor in the same run).
//
// Loopback only, bounded: it starts a JSON upstream and two livedash processes and stops them.
import { createServer } from "node:http";
import { chromium } from "@playwright/test";
import { PASSWORD, start, stopAll, waitFor } from "./processes.mjs";

// Run from end2end/; livedash runs from the repository root, where its site is (target/site).
const LIVEDASH = process.env.LIVEDASH ?? "target/release/livedash";
const [LOCAL_PORT, WIDE_PORT, UPSTREAM_PORT] = [3961, 3962, 3963];
const SERIES = 200;

// The page is reached with Basic credentials, as before the login form: `--login basic`.
function livedash(args) {
  return start(LIVEDASH, [...args, "--login", "basic"]);
}

// 200 series: half percentages (with thresholds), half plain numbers, random walks.
let upstreamOn = true;
const values = Array.from({ length: SERIES }, (_, i) => (i % 2 ? 1000 * Math.random() : 100 * Math.random()));
const upstream = createServer((_, res) => {
  if (!upstreamOn) {
    res.writeHead(503).end();
    return;
  }
  const body = {};
  values.forEach((v, i) => {
    const next = i % 2 ? Math.max(0, v + 50 * (Math.random() - 0.5)) : Math.min(100, Math.max(0, v + 5 * (Math.random() - 0.5)));
    values[i] = next;
    body[i % 2 ? `series_${i}` : `series_${i}_pct`] = Math.round(next * 100) / 100;
  });
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
});
await new Promise((r) => upstream.listen(UPSTREAM_PORT, "127.0.0.1", r));

// The page is measured, not the server: its history store (measured by bench-store.sh) stays off.
livedash(["--listen", `127.0.0.1:${LOCAL_PORT}`, "--interval", "100ms", "--store", "none"]);
livedash(["--listen", `127.0.0.1:${WIDE_PORT}`, "--interval", "100ms", "--store", "none", "--source", `wide=http://127.0.0.1:${UPSTREAM_PORT}/`]);
await waitFor(`http://127.0.0.1:${LOCAL_PORT}/healthz`, 100);
await waitFor(`http://127.0.0.1:${WIDE_PORT}/healthz`, 100);

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
// Records when a value on the page first changes after it loaded: the first live value.
await context.addInitScript(() => {
  const w = window;
  new MutationObserver((records, observer) => {
    if (records.some((r) => (r.target.parentElement ?? r.target).closest?.(".num"))) {
      w.__firstLive = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, characterData: true, childList: true });
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loads = [];
for (let i = 0; i < 11; i++) {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${LOCAL_PORT}/`);
  await page.waitForSelector('[data-testid="connection"][data-state="live"]');
  await page.waitForFunction(() => window.__firstLive !== undefined);
  const t = await page.evaluate(() => ({
    paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
    live: window.__firstLive,
  }));
  if (i > 0) loads.push(t); // the first load warms the server's and the browser's caches
  await page.close();
}

async function mainThread(url) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid="connection"][data-state="live"]');
  await page.waitForTimeout(3000);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const metric = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await metric();
  await page.waitForTimeout(10_000);
  const after = await metric();
  const cards = await page.locator(".card").count();
  await page.close();
  const share = (name) => (after[name] - before[name]) / (after.Timestamp - before.Timestamp);
  return { cards, task: share("TaskDuration"), script: share("ScriptDuration"), layout: share("LayoutDuration"), style: share("RecalcStyleDuration") };
}
const busy = await mainThread(`http://127.0.0.1:${WIDE_PORT}/`);
upstreamOn = false;
await new Promise((r) => setTimeout(r, 1500));
const idle = await mainThread(`http://127.0.0.1:${WIDE_PORT}/`);

await browser.close();
upstream.close();
stopAll();
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const result = {
  load_ms: { first_paint_with_values: median(loads.map((l) => l.paint)), first_live_value: median(loads.map((l) => l.live)), runs: loads.length },
  main_thread_200_series_10hz: { cards: busy.cards, busy: pct(busy.task), script: pct(busy.script), layout: pct(busy.layout), style: pct(busy.style) },
  main_thread_floor_source_stopped: { busy: pct(idle.task) },
};
console.log(JSON.stringify(result, null, 2));
process.exit(0);
