// What the page benchmarks (page.mjs, fleet.mjs) share: the processes they start from the
// repository root (livedash with a fresh admin password, exporters, upstreams), stopped by
// their process ids when the benchmark ends, and a wait for a URL to answer.
import { spawn } from "node:child_process";

/** The admin password every livedash started here has. */
export const PASSWORD = `bench-${Math.random().toString(36).slice(2)}`;

const children = [];

/** Stops every process started here. */
export function stopAll() {
  for (const c of children) c.kill("SIGTERM");
}
process.on("exit", stopAll);

/** Starts `command` from the repository root (the benchmarks run from end2end/). */
export function start(command, args) {
  const child = spawn(command, args, {
    cwd: "..",
    env: { ...process.env, LIVEDASH_ADMIN_PASSWORD: PASSWORD, RUST_LOG: "warn" },
    stdio: "ignore",
  });
  children.push(child);
  return child;
}

/** Waits until `url` answers 2xx, looking every 100 ms, `tries` times at most. */
export async function waitFor(url, tries) {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}
