import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, expect, test } from "@playwright/test";
import { CHROMIUM_ARGS, PASSWORD, TLS_DATA_DIR, TLS_PORT } from "../playwright.config";

// The browser trusts exactly the certificate livedash made (pinned by its public key, the way
// `--ignore-certificate-errors-spki-list` works), not any certificate: a person who verified the
// fingerprint and imported the certificate gets the same.
function pinnedKey(): string {
  const pem = readFileSync(join(__dirname, "..", "..", TLS_DATA_DIR, "tls", "cert.pem"), "utf8");
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

test("over HTTPS with the pinned self-signed certificate the page hydrates and goes live on wss", async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${pinnedKey()}`],
  });
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));

  const response = await page.goto(`https://localhost:${TLS_PORT}/`);
  expect(response!.status()).toBe(200);
  expect(response!.headers()["strict-transport-security"]).toContain("max-age=");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  expect(sockets[0]).toMatch(new RegExp(`^wss://localhost:${TLS_PORT}/ws\\?ticket=`));
  expect(problems).toEqual([]);
  await browser.close();
});

test("a browser without the pin refuses the self-signed certificate", async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  await expect(page.goto(`https://localhost:${TLS_PORT}/healthz`)).rejects.toThrow(/ERR_CERT/);
  await browser.close();
});
