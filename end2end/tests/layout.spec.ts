import { expect, test, type Page } from "@playwright/test";

const overflow = (page: Page) =>
  page.evaluate(() => ({
    x: document.documentElement.scrollWidth - window.innerWidth,
    y: document.documentElement.scrollHeight - window.innerHeight,
  }));

test("a 375 px phone has no horizontal scroll", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  expect((await overflow(page)).x).toBeLessThanOrEqual(0);
  await page.screenshot({ path: "test-results/screenshots/phone.png", fullPage: true });
});

test("the wall screen shows the whole dashboard on 1920x1080 without chrome, and keeps updating", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto("/");
  await page.getByRole("link", { name: "Wall screen" }).click();
  await expect(page).toHaveURL(/\?kiosk$/);
  await expect(page.locator("html")).toHaveClass(/kiosk/);
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "live");
  await expect(page.locator(".pause-toggle")).toBeHidden();
  await expect(page.locator(".theme-toggle")).toBeHidden();
  await expect(page.getByRole("link", { name: "Exit wall screen" })).toBeVisible();
  const { x, y } = await overflow(page);
  expect(x).toBeLessThanOrEqual(0);
  expect(y).toBeLessThanOrEqual(0);
  // One host's cards fill the screen, not its top 40 % (the last row ends near the bottom edge).
  const bottom = await page.locator("article.card").evaluateAll((cards) =>
    Math.max(...cards.map((c) => c.getBoundingClientRect().bottom)),
  );
  expect(bottom).toBeGreaterThan(1080 - 60);
  // Larger type than the ordinary view.
  const size = await page.locator('[data-series="cpu_pct"] .num').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(size).toBeGreaterThan(40);
  // It keeps updating (the local source samples every 250 ms in these tests): some value on the
  // page changes (the network rates move with the page's own traffic), where the CPU alone may sit
  // at 100 on a saturated machine and the uptime shows minutes.
  const values = page.locator('[data-testid="value"]');
  const before = (await values.allTextContents()).join("|");
  await expect.poll(async () => (await values.allTextContents()).join("|"), { timeout: 8_000 }).not.toBe(before);
  await page.screenshot({ path: "test-results/screenshots/kiosk.png" });
  await page.getByRole("link", { name: "Exit wall screen" }).click();
  await expect(page.locator("html")).not.toHaveClass(/kiosk/);
});

test("a hidden card stays hidden and a pinned card stays on top after a reload, until the layout is reset", async ({ page }) => {
  await page.context().clearCookies({ name: "livedash_layout" });
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const local = page.locator('[data-source="local"]');
  const cpu = local.locator('[data-series="cpu_pct"]');
  await cpu.hover();
  await cpu.getByRole("button", { name: "Hide CPU" }).click();
  await expect(cpu).toHaveCount(0);
  await expect(local.getByTestId("show-hidden")).toHaveText("1 hidden · show");
  const load = local.locator('[data-series="load_avg"]');
  await load.hover();
  await load.getByRole("button", { name: "Pin Load to the top" }).click();
  const pinned = page.locator(".source.pinned");
  await expect(pinned.locator('[data-series="load_avg"]')).toBeVisible();
  await expect(local.locator('[data-series="load_avg"]')).toHaveCount(0);

  // The server renders the page already arranged: right in the HTML, before any script runs.
  const html = await (await page.request.get("/")).text();
  expect(html).not.toContain('data-series="cpu_pct"');
  await page.reload();
  await expect(cpu).toHaveCount(0);
  await expect(pinned.locator('[data-series="load_avg"]')).toBeVisible();
  await expect(page.locator(".sources > section").first()).toHaveClass(/pinned/);

  await page.getByTestId("reset-layout").click();
  await expect(cpu).toBeVisible();
  await expect(pinned).toHaveCount(0);
  await page.reload();
  await expect(cpu).toBeVisible();
  await expect(page.getByTestId("reset-layout")).toHaveCount(0);
});
