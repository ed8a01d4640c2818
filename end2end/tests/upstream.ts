import { createServer, type Server } from "node:http";
import { UPSTREAM_PORT } from "../playwright.config";

// What the test upstream serves next: a test may change it while the upstream runs.
export const served = { latency_ms: 42.25, queue_depth: 3, backlog: 3 };

// A JSON upstream on UPSTREAM_PORT (the livedash on UPSTREAM_LIVEDASH_PORT reads it as source
// "up", with the per-series settings of playwright.config.ts), started and stopped by a test.
export function startUpstream(): Promise<Server> {
  let n = 0;
  const server = createServer((_, res) => {
    n += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        cpu_pct: 40 + (n % 10),
        requests: n,
        disk_pct: 95,
        mem_pct: 80,
        latency_ms: served.latency_ms,
        queue_depth: served.queue_depth,
        backlog: served.backlog,
        net: { rx: 1500, tx: 2500 },
        secret: 7,
      }),
    );
  });
  return new Promise((resolve) => server.listen(UPSTREAM_PORT, "127.0.0.1", () => resolve(server)));
}

// Stops it at once, keep-alive connections included (livedash keeps one open).
export function stopUpstream(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
