import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { LOGIN_URL, PASSWORD } from "../playwright.config";

// The admin's audit view (server-rendered), reached from the Sessions view after a login by the
// form on the server of LOGIN_PORT: the login is in it, newest first, and the filter narrows it.
test.use({ httpCredentials: undefined, baseURL: LOGIN_URL });

async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`the audit view lists the login, filters by kind and has no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.emulateMedia({ colorScheme });
    await page.goto("/login?next=/sessions");
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/sessions$/);
    await page.getByTestId("audit-link").click();
    await expect(page).toHaveURL(/\/audit$/);
    const log = page.getByTestId("audit-log");
    await expect(log.locator("tbody tr").first()).toHaveAttribute("data-kind", "login");
    await expect(log.locator("tbody tr").first()).toContainText("admin");
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: `test-results/screenshots/audit-${colorScheme}.png`, fullPage: true });
    // Only logins, by the form's filter.
    await page.getByLabel("What").selectOption("login");
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/\/audit\?kind=login&user=$/);
    const kinds = await log.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-kind")));
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(["login"]));
    expect(await serious(page)).toEqual([]);
  });
}
