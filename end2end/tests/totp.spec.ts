import { createHmac } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { PASSWORD, TOTP_URL } from "../playwright.config";

// The second factor in a browser without Basic credentials (the server of TOTP_PORT): enrolled
// from /account/totp with the password and a code this test computes from the secret the page shows, then the
// login form's code step with a code, and with a recovery code that works once.
test.use({ httpCredentials: undefined, extraHTTPHeaders: {}, baseURL: TOTP_URL });

/// The bytes of an RFC 4648 base32 text (no padding).
function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/\s|=/g, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` for the step `offset` steps from now.
function totp(secret: string, offset = 0): string {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  const value = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

async function password(page: Page) {
  await page.goto("/login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

/// A new browser (no cookie) that logs in with the password and then `code`.
async function logInWith(browser: Browser, code: string) {
  const context = await browser.newContext({ baseURL: TOTP_URL });
  const page = await context.newPage();
  await password(page);
  await expect(page.getByTestId("code-form")).toBeVisible();
  await page.getByLabel("Code", { exact: true }).fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  return { context, page };
}

/// Whether the browser of `page` is logged in: it left the form, and the API answers it.
async function expectLoggedIn(page: Page) {
  await expect(page).not.toHaveURL(/\/login/);
  expect((await page.request.get("/api/snapshot")).status()).toBe(200);
}

async function serious(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("enrol from the page, log in with a computed code, and a recovery code works once", async ({ page, browser }) => {
  // Logged in with the password (no second factor yet), the page shows a QR code and the secret.
  await password(page);
  await expectLoggedIn(page);
  // Reached from the Sessions view.
  await page.goto("/sessions");
  expect(await serious(page)).toEqual([]);
  await page.getByTestId("totp-link").click();
  await expect(page).toHaveURL(/\/account\/totp$/);
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await serious(page)).toEqual([]);
    await page.screenshot({ path: `test-results/screenshots/totp-enrol-${colorScheme}.png`, fullPage: true });
  }

  // The enrolment asks for the password too (a stolen session alone cannot enrol): a wrong one
  // changes nothing and says so, with the same secret shown again.
  await expect(page.getByLabel("Your password")).toHaveAttribute("autocomplete", "current-password");
  await page.getByLabel("Your password").fill("not the password");
  await page.getByLabel("Code", { exact: true }).fill(totp(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("notice")).toHaveText("That password is not right: nothing was changed.");
  await expect(page.getByTestId("totp-secret")).toHaveText(secret);
  // A wrong first code is refused with the same secret shown again; the right one turns it on.
  await page.getByLabel("Your password").fill(PASSWORD);
  await page.getByLabel("Code", { exact: true }).fill("000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("notice")).toContainText("code is not right");
  await expect(page.getByTestId("totp-secret")).toHaveText(secret);
  await page.getByLabel("Your password").fill(PASSWORD);
  await page.getByLabel("Code", { exact: true }).fill(totp(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  const codes = await page.getByTestId("recovery-codes").locator("code").allTextContents();
  expect(codes).toHaveLength(10);
  expect(new Set(codes).size).toBe(10);
  // Shown once: the page now says it is on, without the codes.
  await page.goto("/account/totp");
  await expect(page.getByTestId("totp-on")).toHaveText("10 recovery codes left.");
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);

  // Another browser: the password alone leads to the code step; the next step's code logs in
  // (the enrolment's own code has been taken).
  const first = await logInWith(browser, totp(secret));
  await expect(first.page.getByTestId("login-error")).toHaveText("That code is not right.");
  await first.context.close();
  const withCode = await logInWith(browser, totp(secret, 1));
  await expectLoggedIn(withCode.page);
  await withCode.context.close();

  // A recovery code logs in once; the second time it is refused.
  const recovered = await logInWith(browser, codes[0]);
  await expectLoggedIn(recovered.page);
  await recovered.page.goto("/account/totp");
  await expect(recovered.page.getByTestId("totp-on")).toHaveText("9 recovery codes left.");
  await recovered.context.close();
  const again = await logInWith(browser, codes[0]);
  await expect(again.page.getByTestId("login-error")).toHaveText("That code is not right.");
  expect((await again.page.request.get("/api/snapshot")).status()).toBe(401);
  await again.context.close();
});
