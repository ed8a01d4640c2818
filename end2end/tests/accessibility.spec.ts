import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";

// axe-core's WCAG 2.x A and AA rules on the live dashboard and on a chart with its crosshair
// shown, in each theme: no serious or critical violation (contrast included).
async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(" ")} ${n.any.map((a) => a.message).join(" ")}`).join(", ")}`);
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`the dashboard has no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto("/");
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    // The cards' pin and hide buttons are checked too (shown on focus).
    await page.locator('[data-series="cpu_pct"] .card-open').focus();
    expect(await serious(page)).toEqual([]);
  });

  test(`a chart has no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.emulateMedia({ colorScheme });
    await page.goto("/?chart=load_avg&source=local&window=1m");
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await page.getByTestId("chart-svg").focus();
    await expect(page.getByTestId("readout")).toContainText("1 m");
    expect(await serious(page)).toEqual([]);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `test-results/screenshots/chart-${colorScheme}.png` });
  });

  test(`a chart over a history range has no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.emulateMedia({ colorScheme });
    await page.goto("/?chart=cpu_pct&source=local&range=6h");
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await expect(page.getByTestId("chart-status")).toContainText("History");
    // The custom range's form is checked too.
    await page.getByText("Custom range").click();
    await page.getByTestId("chart-svg").focus();
    await expect(page.getByTestId("readout")).toContainText("%");
    expect(await serious(page)).toEqual([]);
  });
}
