/**
 * One load measurement in a process of its own (so that the test runner's own memory does not
 * count), reporting one JSON line on stdout:
 *
 *   deno run -A --v8-flags=--expose-gc protocol/testing/load_child.ts one-client <address> <n>
 *   deno run -A --v8-flags=--expose-gc protocol/testing/load_child.ts many-clients <address> <clients> <n>
 *
 * `one-client`: `map` of `operator.neg` over n values, then `gather`, through one client.
 * `many-clients`: that many clients connect at once, each maps and gathers n values of its own.
 * Both release every future afterwards and report the peak RSS growth over the process's
 * warmed-up baseline, the JS heap still used once everything is released (after full garbage
 * collections) against the baseline, and the tasks the scheduler still holds (`who_has` over
 * every task), asked while the clients are still connected — a client that closes has its keys
 * dropped by the scheduler anyway, which would hide keys it never released.
 * @module
 */
import { Client } from "../client/client.ts";
import type { Future } from "../client/future.ts";
import { py } from "../graph/py.ts";

/** What the child reports. */
export interface LoadReport {
  /** Peak RSS minus the RSS before the load, in bytes. */
  readonly peakRssGrowth: number;
  /** JS heap used after the release (and full collections) minus before the load, in bytes. */
  readonly retainedHeap: number;
  /** Tasks the scheduler still knows once the futures were released. */
  readonly tasksLeft: number;
  /** Milliseconds from the first `map` to the last value gathered. */
  readonly ms: number;
  /** Tasks computed and checked. */
  readonly tasks: number;
}

const NEG = py.fn("operator.neg");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

function collect(): number {
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}

/** Maps over `n` values from `base`, gathers, checks every value, releases every future. */
async function mapGather(client: Client, base: number, n: number): Promise<void> {
  const futures: Future[] = client.map(NEG, Array.from({ length: n }, (_, i) => base + i));
  const values = await client.gather(futures);
  for (let i = 0; i < n; i++) {
    if (Number(values[i]) !== -(base + i)) throw new Error(`task ${i} gave ${values[i]}`);
  }
  for (const f of futures) f.release();
}

/** Tasks the scheduler knows, polled until none are left or 20 s have passed. */
async function tasksLeft(client: Client): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const all = await client.rpc("who_has");
    const n = all instanceof Map ? all.size : Object.keys(all as object).length;
    if (n === 0 || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const [mode, address, ...counts] = Deno.args;
const base = 1_000_000 * (Date.now() % 1_000_000); // keys new to the scheduler on every run
const clients: Client[] = [];
try {
  // Warm up (code compiled, pools and caches filled) before the baseline.
  const first = await Client.connect(address, { timeoutMs: 60_000 });
  clients.push(first);
  await mapGather(first, base - 10_000, 1_000);
  let tasks = 0;
  let extra: Client[] = [];
  if (mode === "many-clients") await (await Client.connect(address)).close();
  const heapBefore = collect();
  const rssBefore = Deno.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 10);
  const started = performance.now();
  if (mode === "one-client") {
    const n = Number(counts[0]);
    await mapGather(first, base, n);
    tasks = n;
  } else if (mode === "many-clients") {
    const [count, n] = counts.map(Number);
    extra = await Promise.all(
      Array.from({ length: count }, () => Client.connect(address, { timeoutMs: 60_000 })),
    );
    clients.push(...extra);
    await Promise.all(extra.map((c, i) => mapGather(c, base + (i + 1) * 1_000_000, n)));
    tasks = count * n;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  const left = await tasksLeft(first);
  await Promise.all(extra.map((c) => c.close()));
  const report: LoadReport = {
    peakRssGrowth: peak - rssBefore,
    retainedHeap: collect() - heapBefore,
    tasksLeft: left,
    ms,
    tasks,
  };
  console.log(JSON.stringify(report));
} finally {
  await Promise.all(clients.map((c) => c.close()));
}
