import { expect, test } from "@playwright/test";
import { UPSTREAM_LIVEDASH_PORT } from "../playwright.config";
import { served, startUpstream, stopUpstream } from "./upstream";

// The livedash on UPSTREAM_LIVEDASH_PORT reads its source from a config file with per-series
// settings (playwright.config.ts writes it): labels, units, decimals, thresholds, hidden.

test("per-series label, unit, decimals and thresholds from the config file appear on the page", async ({ page }) => {
  served.latency_ms = 142.26;
  const upstream = await startUpstream();
  try {
    await page.goto(`http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/`);
    const card = (series: string) => page.locator(`[data-source="up"] [data-series="${series}"]`);
    await expect(card("latency_ms").locator(".card-label")).toContainText("API latency");
    await expect(card("latency_ms").getByTestId("value")).toHaveText(/^142\.3\s*ms/);
    await expect(card("latency_ms")).toHaveClass(/level-warn/);
    await expect(card("requests").locator(".card-label")).toContainText("Requests served");
    await expect(card("requests").locator(".unit")).toHaveText("req");
    await expect(card("net.rx").getByTestId("value")).toHaveText(/^1\.5\s*kB\/s/);
    await expect(card("net.tx").getByTestId("value")).toHaveText(/^2\.5\s*kB\/s/);
    await expect(card("secret")).toHaveCount(0);
  } finally {
    await stopUpstream(upstream);
  }
});

test("a threshold crossing is announced once, and the summary counts it", async ({ page }) => {
  served.latency_ms = 42.25;
  const upstream = await startUpstream();
  try {
    await page.goto(`http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/`);
    const latency = page.locator('[data-source="up"] [data-series="latency_ms"]');
    const announcer = page.getByTestId("announcer");
    const critical = page.getByTestId("summary-critical");
    await expect(latency).toHaveClass(/level-normal/);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    // disk_pct at 95 % is critical from the start: the summary counts it, nobody is told again.
    await expect(critical).toHaveText("1 critical");
    const before = Number(await announcer.getAttribute("data-count"));

    served.latency_ms = 250;
    await expect(latency).toHaveClass(/level-critical/);
    await expect(announcer).toHaveText("API latency on up is critical");
    await expect(critical).toHaveText("2 critical");
    // Many samples later (four a second), still announced once.
    await page.waitForTimeout(1500);
    expect(Number(await announcer.getAttribute("data-count"))).toBe(before + 1);

    served.latency_ms = 42.25;
    await expect(announcer).toHaveText("API latency on up is back to normal");
    expect(Number(await announcer.getAttribute("data-count"))).toBe(before + 2);
    await expect(critical).toHaveText("1 critical");
  } finally {
    served.latency_ms = 42.25;
    await stopUpstream(upstream);
  }
});
