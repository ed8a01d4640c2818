import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { LOGIN_URL, PASSWORD } from "../playwright.config";

// The login form, logout and the Sessions view, in a browser that has no Basic credentials (the
// server of LOGIN_PORT, in the default form mode).
test.use({ httpCredentials: undefined, baseURL: LOGIN_URL });

const FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

async function logIn(page: Page, user = "admin", password = PASSWORD) {
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function loggedInContext(browser: Browser, userAgent?: string) {
  const context = await browser.newContext({ baseURL: LOGIN_URL, userAgent });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=/);
  await logIn(page);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  return { context, page };
}

test("log in with the form, see live data, reload, log out, and Back shows no data", async ({ page }) => {
  // A navigation without a session lands on the form, which brings the browser back after login.
  await page.goto("/?chart=cpu_pct&source=local&range=5m");
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "current-password");
  await logIn(page);
  await expect(page).toHaveURL(/\?chart=cpu_pct&source=local&range=5m$/);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.getByTestId("chart-svg")).toBeVisible();
  // Reload: still logged in, still live.
  await page.reload();
  await expect(page).not.toHaveURL(/\/login/);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "livedash_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
  // Log out from the top bar.
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login\?done=logout$/);
  await expect(page.getByRole("status")).toHaveText("You have logged out.");
  expect((await page.context().cookies()).find((c) => c.name === "livedash_session")).toBeUndefined();
  // Back: the dashboard is asked for again (no-store) and answered with the form, no data.
  await page.goBack();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByTestId("connection")).toHaveCount(0);
  await expect(page.getByTestId("chart-svg")).toHaveCount(0);
});

test("a wrong password and an unknown user get the same message", async ({ page }) => {
  await page.goto("/login");
  await logIn(page, "admin", "not the password");
  const wrong = await page.getByTestId("login-error").textContent();
  const wrongPage = await page.locator("main").innerText();
  await logIn(page, "nobody-here", "not the password");
  await expect(page.getByTestId("login-error")).toBeVisible();
  expect(await page.getByTestId("login-error").textContent()).toBe(wrong);
  expect(await page.locator("main").innerText()).toBe(wrongPage);
  expect(wrong).toBe("Wrong user name or password.");
});

test("a session revoked from a second browser loses its socket within a second", async ({ browser }) => {
  const sockets: { closed: number | null }[] = [];
  const a = await browser.newContext({ baseURL: LOGIN_URL, userAgent: FIREFOX_UA });
  const pageA = await a.newPage();
  pageA.on("websocket", (ws) => {
    const s = { closed: null as number | null };
    sockets.push(s);
    ws.on("close", () => (s.closed = Date.now()));
  });
  await pageA.goto("/");
  await logIn(pageA);
  await expect(pageA.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const { context: b, page: pageB } = await loggedInContext(browser);
  await pageB.goto("/sessions");
  const rowA = pageB.getByTestId("session-row").filter({ hasText: "Firefox 133 on Linux" });
  await expect(rowA).toHaveCount(1);
  await expect(pageB.getByTestId("session-row").filter({ hasText: "(this device)" })).toHaveCount(1);
  const open = sockets.filter((s) => s.closed === null).length;
  expect(open).toBeGreaterThan(0);
  await rowA.getByRole("button", { name: /Revoke/ }).click();
  const revoked = Date.now();
  await expect(pageB.getByTestId("notice")).toHaveText("The session was revoked.");
  await expect(rowA).toHaveCount(0);
  // Every socket page A had open closes (1 s, with margin for a loaded machine).
  await expect.poll(() => sockets.every((s) => s.closed !== null), { timeout: 2_000 }).toBe(true);
  const last = Math.max(...sockets.map((s) => s.closed ?? 0));
  expect(last - revoked).toBeLessThan(1_500);
  await expect(pageA.getByTestId("connection")).not.toHaveAttribute("data-state", "live");
  // And a reload of A finds the form.
  await pageA.reload();
  await expect(pageA).toHaveURL(/\/login/);
  await a.close();
  await b.close();
});

test("a link to a chart followed from a page on another site opens the chart logged in", async ({ browser }) => {
  const { context, page } = await loggedInContext(browser);
  const chart = `${LOGIN_URL}/?chart=cpu_pct&source=local&range=5m`;
  // A chat message or an e-mail on another site, linking to the chart.
  await page.route("https://chat.example/**", (route) =>
    route.fulfill({ contentType: "text/html", body: `<!doctype html><title>chat</title><a href="${chart}">the CPU chart</a>` }),
  );
  await page.goto("https://chat.example/room");
  await page.getByText("the CPU chart").click();
  await expect(page).toHaveURL(chart);
  await expect(page.getByTestId("chart-svg")).toBeVisible();
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await context.close();
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`the login form and the Sessions view have no serious accessibility violation in the ${colorScheme} theme`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.emulateMedia({ colorScheme });
    await page.goto("/login");
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: `test-results/screenshots/login-${colorScheme}.png` });
    await logIn(page, "admin", "not the password");
    await expect(page.getByTestId("login-error")).toBeVisible();
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: `test-results/screenshots/login-error-${colorScheme}.png` });
    await logIn(page);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await page.goto("/sessions");
    await expect(page.getByTestId("last-login")).toContainText("Last login:");
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: `test-results/screenshots/sessions-${colorScheme}.png`, fullPage: true });
    await page.getByTestId("logout").click();
    await expect(page).toHaveURL(/\/login\?done=logout$/);
  });
}
