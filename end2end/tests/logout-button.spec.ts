import { expect, test } from "@playwright/test";
import { LOGIN_URL, PASSWORD } from "../playwright.config";

// The dashboard's top bar offers "Log out" only where there is a logout: under `--login form`
// (sessions), not under `--login basic` (the browser's own Basic dialog, which has none). Seen
// once the page has hydrated and gone live, so that it is the hydrated top bar that is checked.
test("the hydrated top bar has Log out under --login form and none under --login basic", async ({ page, browser }) => {
  // The default server runs `--login basic`; this context answers its challenge.
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(page.getByRole("button", { name: "Pause" })).toBeVisible();
  await expect(page.getByTestId("logout")).toBeHidden();
  await expect(page.getByRole("button", { name: "Log out" })).toHaveCount(0);
  // Nor on a page rendered by the server alone (the Alerts view).
  await page.goto("/alerts");
  await expect(page.getByRole("heading", { name: "Alerts", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Log out" })).toHaveCount(0);

  // The login form's server (`--login form`): logged in by the form, the same bar has it.
  const context = await browser.newContext({ baseURL: LOGIN_URL, httpCredentials: undefined });
  const form = await context.newPage();
  await form.goto("/");
  await expect(form).toHaveURL(/\/login\?next=/);
  await form.getByLabel("User name").fill("admin");
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(form.getByTestId("connection")).toHaveAttribute("data-state", "live");
  await expect(form.getByRole("button", { name: "Log out" })).toBeVisible();
  await form.goto("/alerts");
  await expect(form.getByRole("button", { name: "Log out" })).toBeVisible();
  await form.getByRole("button", { name: "Log out" }).click();
  await expect(form).toHaveURL(/\/login\?done=logout$/);
  await context.close();
});
