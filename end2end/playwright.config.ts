import { defineConfig, devices } from "@playwright/test";

// The browser tests run the real server (built by scripts/build.sh) on a port of their own and
// drive Debian's Chromium: Playwright's own browser download is not reachable from here.
export const PORT = Number(process.env.LIVEDASH_E2E_PORT ?? 3917);
export const PASSWORD = "e2e-secret-password";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    httpCredentials: { username: "admin", password: PASSWORD },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: {
    command: `target/debug/livedash --listen 127.0.0.1:${PORT} --interval 250ms`,
    cwd: "..",
    url: `http://127.0.0.1:${PORT}/healthz`,
    env: { LIVEDASH_ADMIN_PASSWORD: PASSWORD, RUST_LOG: "warn" },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
