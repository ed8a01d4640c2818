import { expect, test } from "@playwright/test";

// A card's large chart, at its own URL, on this machine's own metrics (the server on PORT).

const clockLabel = /^\d\d:\d\d(:\d\d)?$/;

test("a chart opens by click, draws axes and a live line, and Esc returns to the cards", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await page.locator('[data-series="cpu_pct"] .card-open').click();
  await expect(page).toHaveURL(/\?chart=cpu_pct&source=local&range=5m$/);
  const chart = page.getByTestId("chart");
  await expect(chart.locator("h2")).toContainText("CPU");
  const svg = page.getByTestId("chart-svg");
  await expect(svg.locator(".tick.x").first()).toHaveText(clockLabel);
  await expect(svg.locator(".tick.y").first()).toHaveText(/%$/);
  await expect(svg.locator(".threshold.critical")).toHaveCount(1);
  // Live: the line's path changes as samples arrive (every 250 ms).
  const line = svg.locator("path.line").first();
  const before = await line.getAttribute("d");
  await expect.poll(() => line.getAttribute("d")).not.toBe(before);
  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-series="cpu_pct"]')).toBeVisible();
  expect(errors).toEqual([]);
});

test("a chart opens from the keyboard and its crosshair reads values with the arrow keys", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await page.locator('[data-series="load_avg"] .card-open').focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/chart=load_avg/);
  const svg = page.getByTestId("chart-svg");
  const readout = page.getByTestId("readout");
  await svg.focus();
  // On focus: the newest point, its time and each member's value.
  await expect(readout).toHaveText(/^(\d{1,2} [A-Z][a-z]{2} )?\d\d:\d\d:\d\d · 1 m [\d.]+ · 5 m [\d.]+ · 15 m [\d.]+$/);
  await expect(svg.locator("line.crosshair")).toHaveCount(1);
  const time = async () => (await readout.textContent())?.slice(0, 8) ?? "";
  // Let some history build up, then walk back.
  await page.waitForTimeout(1500);
  await page.keyboard.press("End");
  const newest = await time();
  for (let i = 0; i < 8; i++) await page.keyboard.press("ArrowLeft");
  expect(await time()).not.toBe(newest);
  expect((await time()) < newest || newest.startsWith("00:")).toBeTruthy();
  await page.keyboard.press("Home");
  // The pointer moves it too.
  const box = await svg.boundingBox();
  if (!box) throw new Error("no chart box");
  await page.mouse.move(box.x + box.width - 30, box.y + box.height / 2);
  await expect(readout).toHaveText(/^(\d{1,2} [A-Z][a-z]{2} )?\d\d:\d\d:\d\d · /);
  // Back returns to the cards.
  await page.goBack();
  await expect(page.locator('[data-series="load_avg"]')).toBeVisible();
});

test("a chart's URL reloads to the same chart, range and legend", async ({ page }) => {
  await page.goto("/?chart=load_avg&source=local&range=1m");
  const chart = page.getByTestId("chart");
  await expect(chart.locator("h2")).toContainText("Load");
  await expect(chart.locator('.range[aria-pressed="true"]')).toHaveText("1 min");
  const legend = chart.locator(".legend-item");
  await expect(legend).toHaveText(["1 m", "5 m", "15 m"]);
  await expect(chart.locator("path.line")).toHaveCount(3);
  await legend.nth(1).click();
  await expect(legend.nth(1)).toHaveAttribute("aria-pressed", "false");
  await expect(chart.locator("path.line")).toHaveCount(2);
  await chart.locator(".range", { hasText: "10 min" }).click();
  await expect(page).toHaveURL(/range=10m/);
  await page.reload();
  await expect(chart.locator('.range[aria-pressed="true"]')).toHaveText("10 min");
  await expect(chart.locator("h2")).toContainText("Load");
});
