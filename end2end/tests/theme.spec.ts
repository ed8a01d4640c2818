import { expect, test, type Page } from "@playwright/test";

// The page background, as the browser computed it.
const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const LIGHT = "rgb(246, 248, 250)";
const DARK = "rgb(13, 17, 23)";

test("the theme follows the system's light or dark preference", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await expect.poll(() => background(page)).toBe(LIGHT);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await page.screenshot({ path: "test-results/screenshots/light.png" });
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(() => background(page)).toBe(DARK);
  // Past the cards' 0.2 s colour transition.
  await page.waitForTimeout(500);
  await page.screenshot({ path: "test-results/screenshots/dark.png" });
});

test("the toggle's choice wins over the system and survives a reload without a flash", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (msg) => msg.type() === "error" && problems.push(msg.text()));
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  const toggle = page.locator(".theme-toggle");
  await expect(toggle).toHaveText("Theme: system");
  await toggle.click(); // light
  await toggle.click(); // dark
  await expect(toggle).toHaveText("Theme: dark");
  await expect.poll(() => background(page)).toBe(DARK);

  // On reload the stored choice is on <html> before <body> exists, so the first paint is dark.
  await page.addInitScript(() => {
    const seen: (string | undefined)[] = [];
    (window as unknown as { __themes: (string | undefined)[] }).__themes = seen;
    new MutationObserver((_, observer) => {
      if (document.body) {
        seen.push(document.documentElement.dataset.theme);
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.reload();
  await expect(toggle).toHaveText("Theme: dark");
  const seen = await page.evaluate(() => (window as unknown as { __themes: (string | undefined)[] }).__themes);
  expect(seen).toEqual(["dark"]);
  await expect.poll(() => background(page)).toBe(DARK);

  // Back to the system's: light again, and nothing stored.
  await toggle.click();
  await expect(toggle).toHaveText("Theme: system");
  await expect.poll(() => background(page)).toBe(LIGHT);
  expect(await page.evaluate(() => localStorage.getItem("livedash-theme"))).toBeNull();
  expect(problems).toEqual([]);
});
