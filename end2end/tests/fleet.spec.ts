import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { FLEET_TARGETS, FLEET_URL, FLEET_VICTIM_PORT } from "../playwright.config";

// The fleet overview against a real livedash following a targets file of fake node_exporters
// (server/examples/fake_exporter; end2end/playwright.config.ts starts them): six hosts served by
// one process, and "victim" served by a process this spec starts and stops by its PID.

test.use({ baseURL: FLEET_URL });

let victim: ChildProcess | undefined;
let stopped = false;

test.beforeAll(async () => {
  victim = spawn("target/debug/examples/fake_exporter", ["1", String(FLEET_VICTIM_PORT)], { cwd: "..", stdio: "ignore" });
});

test.afterAll(() => {
  if (victim?.pid && !stopped) process.kill(victim.pid);
});

const th = (page: Page, column: string) => page.locator("table.fleet-table").first().locator(`thead th.col-${column}`);
const names = (page: Page) => page.locator("tr.host th.col-name a").allTextContents();
const HOSTS = ["web-0", "web-1", "db-2", "web-3", "db-4", "cache-5", "victim"];

async function overview(page: Page) {
  await page.goto("/fleet");
  await page.context().clearCookies();
  await page.goto("/fleet");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  for (const host of HOSTS) await expect(page.locator(`tr.host[data-status="up"] th.col-name a`, { hasText: new RegExp(`^${host}$`) })).toHaveCount(1);
}

test("the overview shows every host of the targets file up, sorts, filters by tag:value and groups", async ({ page }) => {
  await overview(page);
  await expect(page.locator('tr.host:has-text("web-0") td.col-cpu_pct .num')).toHaveText(/%/);
  await th(page, "name").getByRole("button").click();
  await expect(th(page, "name")).toHaveAttribute("aria-sort", "ascending");
  const sorted = await names(page);
  expect(sorted.filter((n) => HOSTS.includes(n))).toEqual([...HOSTS].sort());
  await page.getByTestId("fleet-filter").fill("env:prod role:web");
  await expect(page.locator("tr.host")).toHaveCount(2);
  expect(await names(page)).toEqual(["web-0", "web-1"]);
  await page.getByTestId("fleet-filter").fill("role:db");
  await page.getByTestId("fleet-group").selectOption("env");
  expect(await page.locator("tr.group-head").allTextContents()).toEqual(["dev · 1", "prod · 1"]);
  expect(await names(page)).toEqual(["db-4", "db-2"]);
  await page.reload();
  await expect(page.getByTestId("fleet-filter")).toHaveValue("role:db");
  await expect(page.getByTestId("fleet-group")).toHaveValue("env");
  await expect(th(page, "name")).toHaveAttribute("aria-sort", "ascending");
  expect(await names(page)).toEqual(["db-4", "db-2"]);
});

test("a row opens its host's dashboard, showing that host alone", async ({ page }) => {
  await overview(page);
  await page.locator("tr.host", { hasText: "cache-5" }).locator("td.col-mem_pct").click();
  await expect(page).toHaveURL(/\?host=/);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.locator("section.source[data-source]")).toHaveCount(1);
  await expect(page.locator('[data-series="cpu_pct"]')).toBeVisible();
});

test("the dashboard shows the configured sources and links to the overview, not the fleet's hosts", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.locator('section.source[data-source="local"]')).toHaveCount(1);
  await page.waitForTimeout(1500);
  await expect(page.locator("section.source[data-source]")).toHaveCount(1);
  await page.getByTestId("fleet-link").click();
  await expect(page).toHaveURL(/\/fleet$/);
});

test("the overview of a real fleet has no serious accessibility violation and fits a 375 px phone", async ({ page }) => {
  await overview(page);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  await page.setViewportSize({ width: 375, height: 800 });
  const x = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(x).toBeLessThanOrEqual(0);
});

test("the one-metric page draws every host's CPU from the live points", async ({ page }) => {
  await page.goto("/fleet/metric?figure=cpu_pct&range=5m");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.getByTestId("metric-legend").locator("li")).toHaveCount(5, { timeout: 15_000 });
  await page.screenshot({ path: "test-results/screenshots/fleet-metric-real.png" });
});

// Last: it stops the victim's exporter.
test("a host whose exporter stops goes down within a few intervals", async ({ page }) => {
  await overview(page);
  expect(victim?.pid).toBeTruthy();
  process.kill(victim!.pid!);
  stopped = true;
  // 250 ms intervals, down after 3 missed: well within 10 s, at the top of the worst-first order.
  await expect(page.locator('tr.host[data-host="victim"]')).toHaveAttribute("data-status", "down", { timeout: 10_000 });
  expect((await names(page))[0]).toBe("victim");
  await expect(page.getByTestId("fleet-counts")).toContainText("1 down");
});

test("a corrupt targets file keeps the hosts and says why on the page until it is good again", async ({ page }) => {
  await page.goto("/fleet");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.getByTestId("targets-problem")).toHaveCount(0);
  const file = `../${FLEET_TARGETS}`;
  const good = readFileSync(file, "utf8");
  try {
    writeFileSync(file, '[\n  {"targets": ["127.0.0.1:1"], "labels": {"env": ["prod"]}}\n]\n');
    await expect(page.getByTestId("targets-problem")).toContainText("line 2", { timeout: 10_000 });
    await expect(page.locator("tr.host")).toHaveCount(HOSTS.length + 1); // the last good set, and this machine
  } finally {
    writeFileSync(file, good);
  }
  await expect(page.getByTestId("targets-problem")).toHaveCount(0, { timeout: 10_000 });
});
