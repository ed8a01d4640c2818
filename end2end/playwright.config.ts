import { mkdirSync, writeFileSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";

// The browser tests run the real server (built by scripts/build.sh) on a port of their own and
// drive Debian's Chromium: Playwright's own browser download is not reachable from here.
export const PORT = Number(process.env.LIVEDASH_E2E_PORT ?? 3917);
export const TLS_PORT = PORT + 1;
// livedash under a sub-path (--public-url), reached through nginx running the README's block.
export const SUBPATH_PORT = PORT + 2;
export const PROXY_PORT = PORT + 3;
export const PUBLIC_URL = `http://127.0.0.1:${PROXY_PORT}/dash`;
// livedash fed by an upstream that a test starts and stops on UPSTREAM_PORT.
export const UPSTREAM_LIVEDASH_PORT = PORT + 4;
export const UPSTREAM_PORT = PORT + 5;
// livedash on a store filled with eight days of this machine's series (down for a day, 3 to 2 days
// ago), and livedash keeping history in memory only.
export const FILLED_PORT = PORT + 6;
export const NO_STORE_PORT = PORT + 7;
// Two instances sharing their source through one Redis, behind nginx running the README's
// round-robin block: the page, its ticket and its socket may each land on another instance.
export const REDIS_PORT = PORT + 8;
export const CLUSTER_A_PORT = PORT + 9;
export const CLUSTER_B_PORT = PORT + 10;
export const CLUSTER_PROXY_PORT = PORT + 11;
export const CLUSTER_URL = `http://127.0.0.1:${CLUSTER_PROXY_PORT}`;
export const CLUSTER_LOG = "../target/e2e-nginx-cluster/upstreams.log";
// livedash with notification channels (end2end/tests/notify.spec.ts): its upstream and the
// receiver of its webhooks are started by the spec; every webhook URL holds NOTIFY_SECRET.
export const NOTIFY_PORT = PORT + 12;
export const NOTIFY_UPSTREAM_PORT = PORT + 13;
export const RECEIVER_PORT = PORT + 14;
export const NOTIFY_SECRET = "e2e-hook-token-31337";
export const NOTIFY_CONFIG = "target/e2e-notify.toml";
export const PASSWORD = "e2e-secret-password";
// livedash for the login form's tests (end2end/tests/login.spec.ts): a server of its own, so that
// its failed logins and "log out everywhere" touch no other spec's server.
export const LOGIN_PORT = PORT + 20;
export const LOGIN_URL = `http://127.0.0.1:${LOGIN_PORT}`;
// livedash for the second factor's tests (end2end/tests/totp.spec.ts): a server of its own, whose
// admin gets a second factor (which no other spec's Basic credentials would then pass).
export const TOTP_PORT = PORT + 21;
export const TOTP_URL = `http://127.0.0.1:${TOTP_PORT}`;
// livedash with a targets file (end2end/tests/fleet.spec.ts): six fake node_exporters served by one
// process on FLEET_EXPORTER_PORT.., and one more host on FLEET_VICTIM_PORT that the spec serves
// from a process of its own (stopped by its PID to watch the host go down).
export const FLEET_PORT = PORT + 22;
export const FLEET_URL = `http://127.0.0.1:${FLEET_PORT}`;
export const FLEET_EXPORTER_PORT = PORT + 30;
export const FLEET_VICTIM_PORT = PORT + 40;
export const FLEET_TARGETS = "target/e2e-fleet-targets.json";
// The debug binary alone (built by scripts/build.sh --debug-server after the site, so it embeds
// it), copied to an empty directory made anew for every run and started from there
// (end2end/tests/embedded.spec.ts): no target/site beside it, nothing but what it carries.
export const EMBEDDED_PORT = PORT + 24;
export const EMBEDDED_URL = `http://127.0.0.1:${EMBEDDED_PORT}`;
const EMBEDDED_DIR = `/tmp/livedash-e2e-embedded-${EMBEDDED_PORT}`;
// The TLS server keeps its self-signed certificate here (made fresh for every run).
export const TLS_DATA_DIR = "target/e2e-tls";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// The upstream-fed server's config file: per-series settings, as a user would write them.
export const UPSTREAM_CONFIG = "target/e2e-upstream.toml";
mkdirSync("../target", { recursive: true });
writeFileSync(
  `../${UPSTREAM_CONFIG}`,
  `[[source]]
name = "up"
url = "http://127.0.0.1:${UPSTREAM_PORT}/"

[[source.series]]
match = "latency_ms"
label = "API latency"
decimals = 1
warn_above = 100
critical_above = 200

[[source.series]]
match = "requests"
label = "Requests served"
suffix = "req"

[[source.series]]
match = "net.*"
unit = "bytes/s"

[[source.series]]
match = "secret"
hidden = true

[[alert]]
name = "queue backed up"
source = "up"
series = "queue_depth"
above = 100
severity = "critical"

[[alert]]
name = "backlog high"
source = "up"
series = "backlog"
above = 100
severity = "critical"
`,
);

const fleetHost = (i: number, env: string, role: string) => ({
  targets: [`127.0.0.1:${FLEET_EXPORTER_PORT + i}`],
  labels: { name: `${role}-${i}`, env, role },
});
writeFileSync(
  `../${FLEET_TARGETS}`,
  JSON.stringify([
    fleetHost(0, "prod", "web"),
    fleetHost(1, "prod", "web"),
    fleetHost(2, "prod", "db"),
    fleetHost(3, "dev", "web"),
    fleetHost(4, "dev", "db"),
    fleetHost(5, "dev", "cache"),
    { targets: [`127.0.0.1:${FLEET_VICTIM_PORT}`], labels: { name: "victim", env: "prod", role: "cache" } },
  ]),
);

writeFileSync(
  `../${NOTIFY_CONFIG}`,
  `[[source]]
name = "jobs"
url = "http://127.0.0.1:${NOTIFY_UPSTREAM_PORT}/"

[[alert]]
name = "jobs piling up"
source = "jobs"
series = "queued"
above = 100
severity = "warning"

[[notify]]
name = "ops"
webhook = "http://127.0.0.1:${RECEIVER_PORT}/ok/${NOTIFY_SECRET}?token=${NOTIFY_SECRET}"

[[notify]]
name = "picky"
webhook = "http://127.0.0.1:${RECEIVER_PORT}/refuse/${NOTIFY_SECRET}"
`,
);

// The secret the cluster's instances share.
const CLUSTER_KEY = "target/e2e-cluster.key";
writeFileSync(`../${CLUSTER_KEY}`, "an end-to-end secret shared by both instances\n", { mode: 0o600 });

// A process the tests need, started from the repository root and stopped after them.
function background(command: string) {
  return { command, cwd: "..", reuseExistingServer: false, timeout: 60_000, stdout: "pipe", stderr: "pipe" } as const;
}

// How a server's history store starts: fresh and empty (the default), filled by the fill_store
// example (`args` after its path; `down` as FILL_DOWN), or none at all.
type Store = "fresh" | "none" | { fill: string; down?: string };

// The built server with `args`, ready when `ready` (a URL or a port) answers, `before` run first.
// Each keeps its history in a store of its own, made anew for every run. Browsers log in to it by
// Basic (`--login basic`: the specs' contexts answer the Basic challenge with their
// httpCredentials, which a redirect to the login form would never send) unless `args` choose
// `--login form`, as the login form's own servers do.
function livedash(args: string, ready: { url: string } | { port: number }, before = "", store: Store = "fresh") {
  if (!args.includes("--login ")) args += " --login basic";
  const port = "port" in ready ? ready.port : new URL(ready.url).port;
  const path = `target/e2e-store/${port}.db`;
  const fill =
    typeof store === "object"
      ? `${store.down ? `FILL_DOWN=${store.down} ` : ""}target/debug/examples/fill_store ${path} ${store.fill} >/dev/null && `
      : "";
  const prepare = store === "none" ? "" : `mkdir -p target/e2e-store && rm -f ${path}* && ${fill}`;
  const storeArg = store === "none" ? "none" : path;
  return {
    ...background(`${before}${prepare}target/debug/livedash ${args} --interval 250ms --store ${storeArg}`),
    ...ready,
    env: { LIVEDASH_ADMIN_PASSWORD: PASSWORD, RUST_LOG: "warn" },
  };
}

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
        launchOptions: { executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS },
      },
    },
  ],
  webServer: [
    livedash(`--listen 127.0.0.1:${PORT}`, { url: `http://127.0.0.1:${PORT}/healthz` }),
    // Playwright's readiness probe cannot verify this certificate; it only waits for the port.
    livedash(
      `--listen 127.0.0.1:${TLS_PORT} --tls-self-signed --data-dir ${TLS_DATA_DIR}`,
      { port: TLS_PORT },
      `rm -rf ${TLS_DATA_DIR} && `,
    ),
    livedash(`--listen 127.0.0.1:${SUBPATH_PORT} --public-url ${PUBLIC_URL} --trusted-proxy 127.0.0.1`, {
      url: `http://127.0.0.1:${SUBPATH_PORT}/dash/healthz`,
    }),
    { ...background(`bash end2end/nginx.sh ${PROXY_PORT} ${SUBPATH_PORT}`), url: `${PUBLIC_URL}/healthz` },
    livedash(`--listen 127.0.0.1:${FILLED_PORT}`, { url: `http://127.0.0.1:${FILLED_PORT}/healthz` }, "", {
      fill: "local 8d 24h local",
      down: "3d..2d",
    }),
    livedash(`--listen 127.0.0.1:${LOGIN_PORT} --data-dir target/e2e-login --login form`, { url: `${LOGIN_URL}/healthz` }),
    livedash(`--listen 127.0.0.1:${TOTP_PORT} --data-dir target/e2e-totp --login form`, { url: `${TOTP_URL}/healthz` }),
    { ...background(`target/debug/examples/fake_exporter 6 ${FLEET_EXPORTER_PORT}`), port: FLEET_EXPORTER_PORT + 5 },
    livedash(`--listen 127.0.0.1:${FLEET_PORT} --targets-file ${FLEET_TARGETS}`, { url: `${FLEET_URL}/healthz` }),
    livedash(`--listen 127.0.0.1:${NO_STORE_PORT}`, { url: `http://127.0.0.1:${NO_STORE_PORT}/healthz` }, "", "none"),
    livedash(`--listen 127.0.0.1:${UPSTREAM_LIVEDASH_PORT} --config ${UPSTREAM_CONFIG}`, {
      url: `http://127.0.0.1:${UPSTREAM_LIVEDASH_PORT}/healthz`,
    }),
    livedash(`--listen 127.0.0.1:${NOTIFY_PORT} --config ${NOTIFY_CONFIG}`, {
      url: `http://127.0.0.1:${NOTIFY_PORT}/healthz`,
    }),
    {
      ...background(`redis-server --bind 127.0.0.1 --port ${REDIS_PORT} --save '' --appendonly no --loglevel warning`),
      port: REDIS_PORT,
    },
    ...[CLUSTER_A_PORT, CLUSTER_B_PORT].map((port) =>
      livedash(
        `--listen 127.0.0.1:${port} --data-dir target/e2e-cluster-${port} --redis-url redis://127.0.0.1:${REDIS_PORT} ` +
          `--cluster-key-file ${CLUSTER_KEY} --redis-prefix e2e --redis-lease 1s --public-url ${CLUSTER_URL} ` +
          `--trusted-proxy 127.0.0.1`,
        { url: `http://127.0.0.1:${port}/healthz` },
      ),
    ),
    {
      ...background(
        `rm -rf ${EMBEDDED_DIR} && mkdir -p ${EMBEDDED_DIR} && cp target/debug/livedash ${EMBEDDED_DIR}/ && ` +
          `cd ${EMBEDDED_DIR} && exec ./livedash --listen 127.0.0.1:${EMBEDDED_PORT} --data-dir ${EMBEDDED_DIR}/data ` +
          `--store none --login basic --interval 250ms`,
      ),
      url: `${EMBEDDED_URL}/healthz`,
      env: { LIVEDASH_ADMIN_PASSWORD: PASSWORD, RUST_LOG: "info" },
    },
    {
      ...background(`bash end2end/nginx-cluster.sh ${CLUSTER_PROXY_PORT} ${CLUSTER_A_PORT} ${CLUSTER_B_PORT}`),
      url: `${CLUSTER_URL}/healthz`,
    },
  ],
});
