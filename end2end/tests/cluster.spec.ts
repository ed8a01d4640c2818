import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { type Page, expect, test } from "@playwright/test";
import { CLUSTER_A_PORT, CLUSTER_B_PORT, CLUSTER_LOG, CLUSTER_URL, PASSWORD, REDIS_PORT } from "../playwright.config";

// Two livedash instances sharing their source through one Redis, behind nginx running the
// README's round-robin block (end2end/nginx-cluster.sh): no sticky sessions.

type Served = { path: string; by: string };

// The seq of every sample frame `page`'s sockets receive, as they come.
function sampleSeqs(page: Page): number[] {
  const samples: number[] = [];
  page.on("websocket", (ws) =>
    ws.on("framereceived", (f) => {
      const frame = JSON.parse(String(f.payload));
      if (frame.type === "sample") samples.push(frame.seq);
    }),
  );
  return samples;
}

// What nginx logged since `from` lines: each request's path and the instance that served it.
function served(from: number): Served[] {
  const lines = readFileSync(CLUSTER_LOG, "utf8").split("\n").filter(Boolean).slice(from);
  return lines.map((line) => {
    const [path, by] = line.split(" ");
    return { path, by };
  });
}

function logLength(): number {
  try {
    return readFileSync(CLUSTER_LOG, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

test("through a round-robin proxy the page, its ticket and its socket land on different instances and the page goes live", async ({
  browser,
}) => {
  const instances = new Set([`127.0.0.1:${CLUSTER_A_PORT}`, `127.0.0.1:${CLUSTER_B_PORT}`]);
  const seen = { page: new Set<string>(), ticket: new Set<string>(), socket: new Set<string>() };
  let crossed = 0;
  // Each load goes live, whichever instance serves what; a few loads show every kind of request
  // served by both instances, and the ticket and the socket of one load by different ones.
  for (let load = 0; load < 6 && (crossed === 0 || seen.socket.size < 2 || seen.page.size < 2); load++) {
    const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
    // The icon is answered here, not through the proxy: the browser asks for it at a moment of its
    // own, often between the ticket and the socket, which then always land on the same instance.
    await context.route("**/favicon.svg", (route) => route.fulfill({ status: 204 }));
    // One more request on every other load shifts the round robin: the page comes from each.
    if (load % 2 === 1) expect((await context.request.get(`${CLUSTER_URL}/healthz`)).status()).toBe(200);
    const from = logLength();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    const samples = sampleSeqs(page);
    await page.goto(`${CLUSTER_URL}/`);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await expect.poll(() => samples.length).toBeGreaterThan(1);
    await expect(page.getByTestId("cluster-problem")).toHaveCount(0);
    expect(problems).toEqual([]);
    await context.close();
    // nginx logs a socket when it ends.
    await expect.poll(() => served(from).some((s) => s.path.startsWith("/ws?"))).toBe(true);
    const requests = served(from);
    const by = (prefix: string) => requests.find((s) => s.path.startsWith(prefix))?.by;
    const [ticketBy, socketBy] = [by("/api/ws-ticket"), by("/ws?")];
    // The browser first asks without credentials (401), then with them: the page is the last "/".
    const home = requests.filter((s) => s.path === "/").at(-1)?.by;
    for (const instance of [home, ticketBy, socketBy]) expect(instances).toContain(instance);
    seen.page.add(home!);
    seen.ticket.add(ticketBy!);
    seen.socket.add(socketBy!);
    if (ticketBy !== socketBy) crossed++;
  }
  expect(crossed, "a ticket minted by one instance opened a socket on the other").toBeGreaterThan(0);
  expect(seen.page.size, "pages from both instances").toBe(2);
  expect(seen.socket.size, "sockets on both instances").toBe(2);
});

test("both instances show the same samples with the same seqs", async ({ browser }) => {
  const seqs: number[][] = [];
  for (const port of [CLUSTER_A_PORT, CLUSTER_B_PORT]) {
    // Straight to each instance (not through the proxy): its own origin is not the public one, so
    // this reads the snapshot API instead of opening a socket.
    const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
    const response = await context.request.get(`http://127.0.0.1:${port}/api/snapshot`);
    expect(response.status()).toBe(200);
    const hello = await response.json();
    expect(hello.cluster.shared).toBe(true);
    seqs.push(hello.history.map((s: { seq: number }) => s.seq));
    await context.close();
  }
  // From the first sample both hold, the same run of samples: one fetch, one seq, everywhere (the
  // two snapshots were read a moment apart: the later may hold one more at the end).
  const [a, b] = seqs;
  const first = a.find((s) => b.includes(s));
  expect(first).toBeDefined();
  const [tailA, tailB] = [a.slice(a.indexOf(first!)), b.slice(b.indexOf(first!))];
  const n = Math.min(tailA.length, tailB.length);
  expect(n).toBeGreaterThan(5);
  expect(tailA.slice(0, n)).toEqual(tailB.slice(0, n));
});

test("when Redis goes away the page says so and stays live, and the line goes once Redis is back", async ({
  browser,
}) => {
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: PASSWORD } });
  const page = await context.newPage();
  const samples = sampleSeqs(page);
  await page.goto(`${CLUSTER_URL}/`);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  // The Redis the tests started goes away (its data with it).
  execFileSync("redis-cli", ["-p", String(REDIS_PORT), "shutdown", "nosave"]);
  const problem = page.getByTestId("cluster-problem");
  await expect(problem).toContainText("Shared fetching is unavailable");
  await expect(problem).toContainText(`Redis at redis://127.0.0.1:${REDIS_PORT} does not answer`);
  const before = samples.length;
  await expect.poll(() => samples.length, { timeout: 5_000 }).toBeGreaterThan(before + 3);
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
  mkdirSync("test-results/screenshots", { recursive: true });
  await page.screenshot({ path: "test-results/screenshots/cluster-alone.png" });
  // Redis comes back on the same port: the instances rejoin by themselves.
  const redis = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(REDIS_PORT), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  try {
    await expect(problem).toHaveCount(0, { timeout: 15_000 });
    const after = samples.length;
    await expect.poll(() => samples.length, { timeout: 5_000 }).toBeGreaterThan(after + 3);
  } finally {
    redis.kill();
  }
  await context.close();
});
