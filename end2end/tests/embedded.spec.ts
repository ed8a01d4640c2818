import { expect, test } from "@playwright/test";
import { EMBEDDED_URL } from "../playwright.config";

// The debug binary copied alone to an empty directory and started there (playwright.config.ts):
// everything the page needs comes out of the binary itself.

test("the binary alone in an empty directory serves a page that hydrates, and its health", async ({ page, request }) => {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const files: string[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.startsWith("/pkg/")) files.push(`${new URL(r.url()).pathname} ${r.status()}`);
  });

  await page.goto(`${EMBEDDED_URL}/`);
  // Hydrated: the socket is live, and a live value changes in place without a reload.
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "live");
  const spark = page.locator('[data-series="cpu_pct"] .spark-line');
  const before = await spark.getAttribute("d");
  await expect.poll(async () => spark.getAttribute("d")).not.toBe(before);
  // The bundle came from the binary: script, wasm and style sheet, all found.
  expect(files).toEqual(
    expect.arrayContaining(["/pkg/livedash.js 200", "/pkg/livedash_bg.wasm 200", "/pkg/livedash.css 200"]),
  );
  // Compressed, as built, with a tag to revalidate against.
  const wasm = await request.get(`${EMBEDDED_URL}/pkg/livedash_bg.wasm`, { headers: { "Accept-Encoding": "gzip" } });
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()["content-type"]).toBe("application/wasm");
  expect(wasm.headers()["content-encoding"]).toBe("gzip");
  const etag = wasm.headers()["etag"];
  expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
  const again = await request.get(`${EMBEDDED_URL}/pkg/livedash_bg.wasm`, {
    headers: { "Accept-Encoding": "gzip", "If-None-Match": etag },
  });
  expect(again.status()).toBe(304);

  const health = await request.get(`${EMBEDDED_URL}/healthz`);
  expect(health.status()).toBe(200);
  expect((await health.json()).status).toMatch(/^(ok|degraded)$/);
  expect(problems).toEqual([]);
});
