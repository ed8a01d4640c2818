import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { UPSTREAM_LIVEDASH_PORT } from "../playwright.config";
import { startUpstream, stopUpstream } from "./upstream";

test("when the upstream stops, its cards are dimmed and say how old their value is", async ({ page }) => {
  const upstream = await startUpstream();
  await page.goto(`http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/`);
  const source = page.locator('[data-source="up"]');
  const age = source.getByTestId("age");
  await expect(source.locator('[data-series="cpu_pct"] [data-testid="value"]')).toBeVisible();
  await expect(source.locator(".pill")).toHaveText("ok");
  await expect(source).not.toHaveClass(/source-old/);
  await expect(age).toHaveCount(0);
  const fresh = await source.locator(".card .num").first().evaluate((el) => getComputedStyle(el).color);

  await stopUpstream(upstream);
  await expect(source.locator(".pill")).toHaveText("failing");
  await expect(source).toHaveClass(/source-old/);
  const dimmed = await source.locator(".card .num").first().evaluate((el) => getComputedStyle(el).color);
  expect(dimmed).not.toBe(fresh);
  // Dimmed, and still readable: no contrast violation in the old cards.
  const axe = await new AxeBuilder({ page }).include('[data-source="up"]').withTags(["wcag2aa"]).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);
  await expect(age).toHaveText(/^last value \d+ s ago$/);
  const seconds = async () => Number((await age.textContent())?.match(/\d+/)?.[0]);
  const first = await seconds();
  // The age grows by itself, once a second, without any new frame.
  await expect.poll(seconds, { timeout: 5_000 }).toBeGreaterThanOrEqual(first + 2);

  // Back: the dimming and the age go.
  const again = await startUpstream();
  await expect(source.locator(".pill")).toHaveText("ok");
  await expect(source).not.toHaveClass(/source-old/);
  await expect(age).toHaveCount(0);
  await stopUpstream(again);
});

test("pause freezes the view while updates keep coming, and resume shows them all", async ({ page }) => {
  const upstream = await startUpstream();
  await page.goto(`http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/`);
  const requests = page.locator('[data-source="up"] [data-series="requests"] [data-testid="value"] .num');
  const count = async () => Number(await requests.textContent());
  await expect.poll(count).toBeGreaterThan(0);
  const pause = page.locator(".pause-toggle");
  await expect(pause).toHaveText("Pause");
  await pause.click();
  await expect(pause).toHaveAttribute("aria-pressed", "true");
  const frozen = await count();
  // Updates keep arriving (four a second) and are held; the view does not move.
  await expect(pause).toHaveText(/^Resume \(([3-9]|\d\d+) new\)$/);
  expect(await count()).toBe(frozen);
  await pause.click();
  await expect(pause).toHaveText("Pause");
  expect(await count()).toBeGreaterThan(frozen);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await stopUpstream(upstream);
});

test("a card over its threshold says so in words, not by colour alone", async ({ page }) => {
  const upstream = await startUpstream();
  await page.goto(`http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/`);
  const word = (series: string) =>
    page
      .locator(`[data-source="up"] [data-series="${series}"] .card-label`)
      .evaluate((el) => getComputedStyle(el, "::after").content);
  await expect(page.locator('[data-source="up"] [data-series="disk_pct"]')).toHaveClass(/level-critical/);
  expect(await word("disk_pct")).toContain("critical");
  await expect(page.locator('[data-source="up"] [data-series="mem_pct"]')).toHaveClass(/level-warn/);
  expect(await word("mem_pct")).toContain("warning");
  expect(await word("cpu_pct")).toBe("none");
  await stopUpstream(upstream);
});
