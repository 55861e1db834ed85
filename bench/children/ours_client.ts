/**
 * Our side of the client benchmarks, one measurement per process (Python's counterpart is
 * bench/children/python_client.py, with the same modes and configuration):
 *
 *   deno run -A bench/children/ours_client.ts <mode>   (configuration: one JSON line on stdin)
 *
 * Modes: `cold-direct`, `cold-gateway` (connect, one task, its result — the runner times the
 * whole process up to the `result` report), `tasks` (map over n values + gather), `graph` (an
 * n-node graph: leaves, partial sums, a total), `gather` and `scatter` (n float64 values).
 * @module
 */
import { Client, Gateway, NDArray, py } from "../../mod.ts";
import { emit, emitDone, readConfig } from "./child_report.ts";

/** What the runner sends (the same fields as for the Python child). */
interface ChildConfig {
  /** `tcp://` scheduler, or the gateway's API address when `cluster` is set. */
  readonly address: string;
  /** The gateway's scheduler proxy. */
  readonly proxy_address?: string;
  /** A RUNNING gateway cluster to connect to. */
  readonly cluster?: string;
  /** A fresh bearer token for the gateway. */
  readonly token?: string;
  /** Makes the cold-start task's key new on every run. */
  readonly nonce?: number;
  /** First input value (keys differ between repetitions). */
  readonly base?: number;
  /** Number of tasks or nodes, or of float64 values to move. */
  readonly n?: number;
}

const mode = Deno.args[0];
const config = await readConfig<ChildConfig>();

async function connect(): Promise<Client> {
  if (config.cluster === undefined) return await Client.connect(config.address);
  const token = config.token ?? "";
  const gateway = new Gateway({
    address: config.address,
    proxyAddress: config.proxy_address,
    auth: { identity: "bench", accessToken: () => Promise.resolve(token) },
  });
  const cluster = await gateway.connect(config.cluster);
  return await cluster.getClient();
}

const client = await connect();
try {
  const n = config.n ?? 0;
  const base = config.base ?? 0;
  switch (mode) {
    case "cold-direct":
    case "cold-gateway": {
      const value = await client.submit(py.fn("operator.add"), config.nonce ?? 0, 1).result();
      emit("result", { value: Number(value) });
      break;
    }
    case "tasks": {
      const t0 = performance.now();
      const values = Array.from({ length: n }, (_, i) => base + i);
      const futures = client.map(py.fn("operator.neg"), values);
      const results = await client.gather(futures);
      const ms = performance.now() - t0;
      emit("result", { ms, check: results.reduce((a: number, b) => a + Number(b), 0) });
      break;
    }
    case "graph": {
      const width = 100;
      const leavesN = n - Math.floor(n / (width + 1)) - 1;
      const t0 = performance.now();
      const add = py.fn("operator.add");
      const sum = py.fn("builtins.sum");
      const leaves = Array.from({ length: leavesN }, (_, i) => add.call(i, base));
      const sums = [];
      for (let i = 0; i < leavesN; i += width) sums.push(sum.call(leaves.slice(i, i + width)));
      const value = await client.compute(sum.call(sums)).result();
      const ms = performance.now() - t0;
      emit("result", { ms, check: Number(value), nodes: leavesN + sums.length + 1 });
      break;
    }
    case "gather": {
      const future = client.submit(py.fn("numpy.ones"), n);
      await future.wait();
      const t0 = performance.now();
      const value = await future.result();
      const ms = performance.now() - t0;
      if (!(value instanceof NDArray)) throw new Error(`expected an NDArray, got ${value}`);
      emit("result", { ms, bytes: value.data.byteLength, check: value.get(n - 1) });
      break;
    }
    case "scatter": {
      const data = new Float64Array(n).fill(1);
      const t0 = performance.now();
      const [future] = await client.scatter([data]);
      const ms = performance.now() - t0;
      emit("result", { ms, bytes: data.byteLength, key: future.key });
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await client.close();
}
emitDone();
Deno.exit(0);
