import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { FILLED_PORT, NO_STORE_PORT } from "../playwright.config";

// A chart over ranges longer than the page's memory: history from the server's store
// (GET /api/history), drag-to-zoom into a span of its own URL, and what a server without a store
// says. The server on PORT samples every 250 ms into a store of its own, fresh for the run.

// The readout names the day too when the range spans midnight (a run at 00:12 reads "6 Dec 00:12:45").
const readoutLine = /^(\d{1,2} [A-Z][a-z]{2} )?\d\d:\d\d:\d\d · [\d.]+ %$/;

// Waits until the store has a few points of cpu_pct, so that the page's first fetch finds them.
async function storeHasData(page: Page) {
  await expect
    .poll(async () => {
      const r = await page.request.get("/api/history?source=local&series=cpu_pct&from=now-1h&to=now");
      return r.ok() ? ((await r.json()).points?.length ?? 0) : 0;
    })
    .toBeGreaterThan(3);
}

test("a 1 h range draws the store's history and reads it with the crosshair", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await storeHasData(page);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/?chart=cpu_pct&source=local&range=5m");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const answered = page.waitForResponse((r) => r.url().includes("/api/history?") && r.url().includes("from=now-1h"));
  await page.locator(".range", { hasText: "1 h" }).click();
  await expect(page).toHaveURL(/range=1h/);
  const answer = await (await answered).json();
  expect(answer.tier).toBe("raw");
  expect(answer.points.length).toBeGreaterThan(3);
  await expect(page.getByTestId("chart-status")).toContainText("History of every sample");
  const svg = page.getByTestId("chart-svg");
  await expect(svg.locator("path.line")).toHaveAttribute("d", /^M\d+,\d+L/);
  // An hour on the axis: whole minutes, no seconds.
  await expect(svg.locator(".tick.x").first()).toHaveText(/^\d\d:\d\d$/);
  await svg.focus();
  await expect(page.getByTestId("readout")).toHaveText(readoutLine);
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByTestId("readout")).toHaveText(readoutLine);
  // Still live: the newest samples are appended without fetching again.
  const line = svg.locator("path.line");
  const before = await line.getAttribute("d");
  let fetches = 0;
  page.on("request", (r) => r.url().includes("/api/history") && fetches++);
  await expect.poll(() => line.getAttribute("d")).not.toBe(before);
  expect(fetches).toBe(0);
  await page.keyboard.press("End");
  await page.waitForTimeout(300);
  mkdirSync("test-results/screenshots", { recursive: true });
  await page.screenshot({ path: "test-results/screenshots/chart-history.png" });
  expect(errors).toEqual([]);
});

test("a range reloads as it was, and the older window= address still opens", async ({ page }) => {
  await page.goto("/?chart=load_avg&source=local&range=6h");
  const chart = page.getByTestId("chart");
  await expect(chart.locator('.range[aria-pressed="true"]')).toHaveText("6 h");
  await chart.locator(".range", { hasText: "24 h" }).click();
  await expect(page).toHaveURL(/range=24h/);
  await page.reload();
  await expect(chart.locator('.range[aria-pressed="true"]')).toHaveText("24 h");
  await expect(page.getByTestId("chart-status")).toContainText("History");
  await expect(chart.locator("path.line")).toHaveCount(3);
  await page.goto("/?chart=load_avg&source=local&window=10m");
  await expect(chart.locator('.range[aria-pressed="true"]')).toHaveText("10 min");
});

test("dragging across the chart zooms to a span of its own address; Reset zoom and Back return", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto("/?chart=cpu_pct&source=local&range=1m");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  // Let a few seconds of samples arrive.
  await page.waitForTimeout(3000);
  const svg = page.getByTestId("chart-svg");
  const box = await svg.boundingBox();
  if (!box) throw new Error("no chart box");
  const firstTick = await svg.locator(".tick.x").first().textContent();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.6, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, y, { steps: 5 });
  await expect(svg.getByTestId("selection")).toHaveCount(1);
  await page.mouse.move(box.x + box.width * 0.95, y, { steps: 5 });
  await page.mouse.up();
  await expect(page).toHaveURL(/from=\d+&to=\d+&base=1m/);
  const url = new URL(page.url());
  const span = Number(url.searchParams.get("to")) - Number(url.searchParams.get("from"));
  expect(span).toBeGreaterThan(15_000);
  expect(span).toBeLessThan(30_000);
  await expect(svg.getByTestId("selection")).toHaveCount(0);
  await expect(page.locator('.range[aria-pressed="true"]')).toHaveCount(0);
  // A span of about 20 s: ticks every few seconds, unlike the minute's.
  await expect.poll(() => svg.locator(".tick.x").first().textContent()).not.toBe(firstTick);
  await expect(svg.locator("path.line")).toHaveAttribute("d", /^M\d+,\d+L/);
  // Reload keeps the span; Back returns to the minute; Forward to the span; Reset zoom to the minute.
  await page.reload();
  await expect(page.getByTestId("reset-zoom")).toBeVisible();
  await page.goBack();
  await expect(page).toHaveURL(/range=1m$/);
  await expect(page.locator('.range[aria-pressed="true"]')).toHaveText("1 min");
  await page.goForward();
  await expect(page.getByTestId("reset-zoom")).toBeVisible();
  await page.getByTestId("reset-zoom").click();
  await expect(page).toHaveURL(/range=1m$/);
  // The keyboard zooms too: + in around the crosshair, - out.
  await svg.focus();
  await page.keyboard.press("+");
  await expect(page).toHaveURL(/from=\d+&to=\d+&base=1m/);
  const zoomed = new URL(page.url());
  expect(Number(zoomed.searchParams.get("to")) - Number(zoomed.searchParams.get("from"))).toBe(30_000);
  await page.getByTestId("chart-svg").focus();
  await page.keyboard.press("-");
  await page.keyboard.press("-");
  await expect
    .poll(() => {
      const u = new URL(page.url());
      return Number(u.searchParams.get("to")) - Number(u.searchParams.get("from"));
    })
    .toBe(120_000);
  // Esc leaves for the cards, past every zoom.
  await page.keyboard.press("Escape");
  await expect(page.locator('[data-series="cpu_pct"]')).toBeVisible();
});

test("a custom range from the form becomes a span of its own", async ({ page }) => {
  await page.goto("/?chart=cpu_pct&source=local&range=10m");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await page.getByText("Custom range").click();
  const from = page.getByLabel("From");
  await expect(from).not.toHaveValue("");
  // Typed in reverse: refused in words.
  const to = await page.getByLabel("To").inputValue();
  await page.getByLabel("To").fill(await from.inputValue());
  await from.fill(to);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "after the start" })).toBeVisible();
  await from.fill(await page.getByLabel("To").inputValue());
  await page.getByLabel("To").fill(to);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/from=\d+&to=\d+&base=10m/);
  await expect(page.getByTestId("reset-zoom")).toBeVisible();
});

test("rolled-up history draws min–max bands, breaks its line at gaps and dates its axis", async ({ page }) => {
  // The server on FILLED_PORT keeps eight days of this machine's series (fill_store), with a day
  // when it was down, 3 to 2 days ago: a week is one-minute buckets from the real store.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`http://127.0.0.1:${FILLED_PORT}/?chart=cpu_pct&source=local&range=7d`);
  await expect(page.getByTestId("chart-status")).toContainText("one-minute means");
  const svg = page.getByTestId("chart-svg");
  await expect(svg.locator("path.band")).toHaveCount(1);
  // The day down, and the minutes between the filled history and this server's start.
  expect(await svg.locator("rect.gap").count()).toBeGreaterThanOrEqual(1);
  // The line breaks at the gap (and, live, before the page's own samples: they are newer).
  expect(((await svg.locator("path.line").getAttribute("d")) ?? "").split("M").length - 1).toBeGreaterThanOrEqual(2);
  await expect(svg.locator(".tick.x").first()).toHaveText(/^\d{1,2} [A-Z][a-z]{2}$/);
  await svg.focus();
  await expect(page.getByTestId("readout")).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d\d:\d\d:\d\d · [\d.]+ %$/);
  await page.keyboard.press("PageUp");
  await page.waitForTimeout(300);
  mkdirSync("test-results/screenshots", { recursive: true });
  await page.screenshot({ path: "test-results/screenshots/chart-bands.png" });
});

test("a server without a store says so on a history range", async ({ page }) => {
  // The server on NO_STORE_PORT runs with `--store none`.
  await page.goto(`http://127.0.0.1:${NO_STORE_PORT}/?chart=cpu_pct&source=local&range=24h`);
  const status = page.getByTestId("chart-status");
  await expect(status).toContainText("No history on this server");
  await expect(status).toContainText("--store none");
  // What the page holds is still drawn.
  await expect(page.getByTestId("chart-svg").locator("path.line")).toHaveAttribute("d", /^M/);
});
