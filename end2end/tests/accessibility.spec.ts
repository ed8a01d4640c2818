import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";

// axe-core's WCAG 2.x A and AA rules on the live dashboard, in each theme: no serious or critical
// violation (contrast included).
for (const colorScheme of ["light", "dark"] as const) {
  test(`the dashboard has no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto("/");
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const serious = results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(" ")} ${n.any.map((a) => a.message).join(" ")}`).join(", ")}`);
    expect(serious).toEqual([]);
  });
}
