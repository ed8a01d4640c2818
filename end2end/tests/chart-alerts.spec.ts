import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { PASSWORD, UPSTREAM_LIVEDASH_PORT } from "../playwright.config";
import { served, startUpstream, stopUpstream } from "./upstream";

// The livedash on UPSTREAM_LIVEDASH_PORT has the rule "queue backed up" (queue_depth above 100,
// critical) on its source "up", sampled every 250 ms.
const BASE = `http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}`;
const RULE = "queue backed up";

test("the large chart draws a firing span as a band, named in words, and ends it when the alert resolves", async ({ browser }) => {
  served.queue_depth = 3;
  const upstream = await startUpstream();
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${BASE}/?chart=queue_depth&source=up&range=5m`);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    const chart = page.getByTestId("chart-svg");
    const words = page.getByTestId("chart-alerts");
    await expect(chart.locator("path.line")).toHaveCount(1);

    served.queue_depth = 250;
    // A band with the rule's name in it (colour is never alone), and the same in words.
    await expect(chart.locator("rect.alert-band.critical")).toHaveCount(1);
    await expect(chart.locator("line.alert-mark.firing")).toHaveCount(1);
    await expect(words).toContainText(`${RULE} on queue_depth (critical) firing from`);
    await expect(words).toContainText("still firing");
    await expect(chart.locator("text.alert-label")).toHaveText(`!! ${RULE}`);
    await page.screenshot({ path: "test-results/screenshots/chart-alert-firing.png" });

    served.queue_depth = 3;
    await expect(words).toContainText("resolved");
    await expect(chart.locator("rect.alert-band.critical")).toHaveCount(1);
    await expect(chart.locator("line.alert-mark")).toHaveCount(2);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
    expect(results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await page.screenshot({ path: "test-results/screenshots/chart-alert-resolved.png" });
  } finally {
    served.queue_depth = 3;
    await stopUpstream(upstream);
    await context.close();
  }
});
