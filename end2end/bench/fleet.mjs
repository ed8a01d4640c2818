// The fleet overview's budget, measured (a benchmark, not a test): run by
// `scripts/bench-fleet.sh --browser` (or `cd end2end && node bench/fleet.mjs`).
//
// 200 fake node_exporter hosts (the fake_exporter example) every 1 s, read by livedash from a
// targets file; headless Chromium opens the overview (`/fleet`) and, after a warm-up, Chromium's
// own task time over 10 s is read through CDP (Performance.getMetrics, as bench/page.mjs does) as
// a share of one core, with what the page's socket received over the same window (CDP Network
// events: text payload bytes and frames). The dashboard (`/`, subscribed to the configured
// sources) is measured the same way beside it. Issue 24's budget: under 25 % of a core on the
// overview.
//
// Loopback only, bounded: it starts the exporter and livedash and stops them.
// LIVEDASH, FAKE_EXPORTER (default: the release builds), HOSTS (200), PAGE (/fleet) override.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { PASSWORD, start, stopAll, waitFor } from "./processes.mjs";

// Run from end2end/; livedash runs from the repository root, where its site is (target/site).
const LIVEDASH = process.env.LIVEDASH ?? "target/release/livedash";
const EXPORTER = process.env.FAKE_EXPORTER ?? "target/release/examples/fake_exporter";
const HOSTS = Number(process.env.HOSTS ?? 200);
const PAGE = process.env.PAGE ?? "/fleet";
const [PORT, BASE] = [3971, 21600];
const WARMUP_MS = 5_000;
const WINDOW_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), "livedash-bench-fleet-"));
const targets = join(dir, "targets.json");
const hosts = Array.from({ length: HOSTS }, (_, i) => `127.0.0.1:${BASE + i}`);
const half = Math.floor(HOSTS / 2);
writeFileSync(
  targets,
  JSON.stringify([
    { targets: hosts.slice(0, half), labels: { env: "prod", role: "web" } },
    { targets: hosts.slice(half), labels: { env: "test", role: "db" } },
  ]),
);
// The exporter stops by itself after 10 minutes at most.
start(EXPORTER, [String(HOSTS), String(BASE), "600"]);
await waitFor(`http://127.0.0.1:${BASE + HOSTS - 1}/metrics`, 300);
// The page is measured, not the server: its history store stays off. Basic credentials, as
// bench/page.mjs: `--login basic`.
start(LIVEDASH, ["--listen", `127.0.0.1:${PORT}`, "--interval", "1s", "--store", "none", "--login", "basic", "--targets-file", targets]);
await waitFor(`http://127.0.0.1:${PORT}/healthz`, 300);

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({
  httpCredentials: { username: "admin", password: PASSWORD },
  viewport: { width: 1920, height: 1080 },
});

async function measure(path) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let counting = false;
  const received = { bytes: 0, frames: 0 };
  cdp.on("Network.webSocketFrameReceived", ({ response }) => {
    if (counting && response.opcode === 1) {
      received.bytes += Buffer.byteLength(response.payloadData);
      received.frames += 1;
    }
  });
  const response = await page.goto(`http://127.0.0.1:${PORT}${path}`);
  if (!response?.ok()) throw new Error(`${path}: HTTP ${response?.status()}`);
  // Live when the page says so (the dashboard's connection indicator), else after the warm-up.
  const live = await page
    .waitForSelector('[data-testid="connection"][data-state="live"]', { timeout: 20_000 })
    .then(() => true, () => false);
  await page.waitForTimeout(WARMUP_MS);
  await cdp.send("Performance.enable");
  const metric = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await metric();
  counting = true;
  await page.waitForTimeout(WINDOW_MS);
  counting = false;
  const after = await metric();
  const rows = await page.locator("tr[data-host]").count();
  await page.close();
  const seconds = after.Timestamp - before.Timestamp;
  const share = (name) => (after[name] - before[name]) / seconds;
  return {
    path,
    live,
    rows,
    task: share("TaskDuration"),
    script: share("ScriptDuration"),
    layout: share("LayoutDuration"),
    style: share("RecalcStyleDuration"),
    ws_bytes_per_s: received.bytes / seconds,
    ws_frames_per_s: received.frames / seconds,
  };
}

const overview = await measure(PAGE);
const dashboard = await measure("/");
await browser.close();
stopAll();
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const shown = (m) => ({
  path: m.path,
  live: m.live,
  rows: m.rows,
  busy: pct(m.task),
  script: pct(m.script),
  layout: pct(m.layout),
  style: pct(m.style),
  ws_bytes_per_s: Math.round(m.ws_bytes_per_s),
  ws_frames_per_s: Number(m.ws_frames_per_s.toFixed(1)),
});
const result = {
  hosts: HOSTS,
  interval_s: 1,
  window_s: WINDOW_MS / 1000,
  overview: shown(overview),
  dashboard: shown(dashboard),
  budget: { overview_busy_under: "25 %", met: overview.task < 0.25 },
};
console.log(JSON.stringify(result, null, 2));
process.exit(0);
