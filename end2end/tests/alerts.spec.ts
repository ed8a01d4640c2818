import AxeBuilder from "@axe-core/playwright";
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { PASSWORD, UPSTREAM_LIVEDASH_PORT } from "../playwright.config";
import { served, startUpstream, stopUpstream } from "./upstream";

// The livedash on UPSTREAM_LIVEDASH_PORT has the rule "backlog high" (backlog above 100, critical)
// on its source "up", sampled every 250 ms (the chart's spec has "queue backed up" to itself). Each
// test ends with the alert resolved, so that it fires in no other test. The Alerts view is rendered on the server
// and refreshes its live part by itself; the dashboard learns of alerts over its socket.
const BASE = `http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}`;
const RULE = "backlog high";

// Brings the backlog down and waits until the alert has resolved (the upstream still running), so
// that no other test finds it firing.
async function settle(context: BrowserContext) {
  served.backlog = 3;
  await expect
    .poll(async () => {
      const body = await (await context.request.get(`${BASE}/api/alerts`)).json();
      return body.instances.some((i: { rule: string; state: string }) => i.rule === RULE && i.state !== "ok");
    })
    .toBe(false);
}

async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("a crossing appears in the Alerts view, the top bar and the card without a reload, and is silenced from the view", async ({ browser }) => {
  served.backlog = 3;
  const upstream = await startUpstream();
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  try {
    const view = await context.newPage();
    await view.goto(`${BASE}/alerts`);
    // It refreshes at the source's interval (250 ms): a crossing shows within one.
    await expect(view.getByTestId("alerts-live")).toHaveAttribute("data-refresh-ms", "250");
    const dash = await context.newPage();
    await dash.goto(`${BASE}/`);
    await expect(dash.getByTestId("connection")).toHaveAttribute("data-state", "live");
    const card = dash.locator('[data-source="up"] [data-series="backlog"]');
    await expect(card.getByTestId("value")).toContainText("3");
    await expect(view.getByTestId("active-alerts").getByRole("row", { name: new RegExp(RULE) })).toHaveCount(0);

    served.backlog = 250;
    const row = view.getByTestId("active-alerts").getByRole("row", { name: new RegExp(RULE) });
    await expect(row).toContainText("Firing");
    await expect(row).toContainText("above 100");
    await expect(row.getByTestId("alert-value")).toHaveText("250");
    await expect(dash.getByTestId("summary-alerts")).toHaveText(/1 firing/);
    await expect(dash.getByTestId("summary")).not.toContainText("All normal");
    await expect(card.getByTestId("card-alert")).toHaveText(`Firing: ${RULE}`);
    await expect(dash.getByTestId("announcer")).toContainText(`Alert ${RULE} is firing`);
    await expect(view.getByTestId("alert-events")).toContainText(RULE);

    // A form being typed in survives the refresh while the rest of its row goes on updating.
    await row.getByText("Silence or acknowledge").click();
    const comment = row.getByLabel("Comment").first();
    await comment.fill("working through it");
    served.backlog = 260;
    await expect(row.getByTestId("alert-value")).toHaveText("260");
    await expect(comment).toHaveValue("working through it");
    await expect(comment).toBeFocused();
    await row.getByRole("button", { name: "Silence" }).click();
    await expect(view.getByTestId("notice")).toHaveText(`Silenced 1 instance of ${RULE}.`);
    await expect(view.getByTestId("active-alerts")).toContainText("Silenced by admin");
    await expect(view.getByTestId("active-alerts")).toContainText("working through it");
  } finally {
    await settle(context).finally(async () => {
      await stopUpstream(upstream);
      await context.close();
    });
  }
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`the Alerts view has no serious accessibility violation in the ${colorScheme} theme`, async ({ browser }) => {
    served.backlog = 300;
    const upstream = await startUpstream();
    const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
    try {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.emulateMedia({ colorScheme });
      await page.goto(`${BASE}/alerts`);
      await expect(page.getByTestId("active-alerts")).toContainText(RULE);
      await page.getByText("Silence or acknowledge").first().click();
      expect(await serious(page)).toEqual([]);
      await page.screenshot({ path: `test-results/screenshots/alerts-${colorScheme}.png`, fullPage: true });
    } finally {
      await settle(context).finally(async () => {
        await stopUpstream(upstream);
        await context.close();
      });
    }
  });
}
