import { expect, test } from "@playwright/test";
import { PROXY_PORT, PUBLIC_URL, SUBPATH_PORT } from "../playwright.config";

// livedash started with --public-url http://127.0.0.1:<PROXY_PORT>/dash, behind nginx running
// the server block from README.md (end2end/nginx.sh).

test("through nginx on a sub-path the page loads its assets, hydrates and goes live", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const failed: string[] = [];
  page.on("response", (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
  const sockets: string[] = [];
  const frames: string[] = [];
  page.on("websocket", (ws) => {
    sockets.push(ws.url());
    ws.on("framereceived", (f) => frames.push(String(f.payload)));
  });

  // Without the trailing slash, the proxy sends the browser to the page's canonical address.
  const response = await page.goto(PUBLIC_URL);
  expect(response!.status()).toBe(200);
  expect(page.url()).toBe(`${PUBLIC_URL}/`);

  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "live");
  expect(sockets[0]).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${PROXY_PORT}/dash/ws\\?ticket=[^&]+&sub=configured&since=\\d+$`));
  await expect.poll(() => frames.filter((f) => JSON.parse(f).type === "sample").length).toBeGreaterThan(1);

  // The stylesheet came from /dash/pkg/ and applies (the page's dark background).
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).not.toBe("rgba(0, 0, 0, 0)");
  const assets = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
  for (const file of ["pkg/livedash.css", "pkg/livedash.js", "pkg/livedash_bg.wasm"]) {
    expect(assets).toContain(`${PUBLIC_URL}/${file}`);
  }
  expect(failed).toEqual([]);
  expect(problems).toEqual([]);
});

test("a page opened at another origin than --public-url is told to check it", async ({ page }) => {
  // The same server reached directly, not through its public URL: the socket's Origin is wrong.
  await page.goto(`http://127.0.0.1:${SUBPATH_PORT}/dash/`);
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "reconnecting");
  await expect(badge).toHaveAttribute("title", /--public-url/);
  await expect(badge).toHaveAttribute("title", new RegExp(`expects http://127\\.0\\.0\\.1:${PROXY_PORT}`));
  // Once it keeps failing, the reason is on the page itself, not only in a tooltip.
  await expect(page.getByTestId("connection-problem")).toContainText("--public-url");
});
