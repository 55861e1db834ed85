/**
 * Graph-encoding throughput: building `py` nodes and encoding them into the `update-graph`
 * message a scheduler receives (pickle + msgpack + framing), for every graph dialect.
 * Prints tasks per second; the goal is at least 20 000 tasks/s. Never asserts.
 *
 *   deno run -A bench/graph_encoding.ts [tasks]
 * @module
 */
import { frameMessage } from "../protocol/connection/framing.ts";
import { py } from "../protocol/graph/py.ts";
import { collectGraph, taskDict } from "../protocol/graph/task_graph.ts";
import { encodeMessage } from "../protocol/codec/message.ts";
import { type GraphEra, schedulerDialect } from "../protocol/graph/scheduler_era.ts";
import { updateGraphMessage } from "../protocol/graph/update_graph.ts";

const tasks = Number(Deno.args[0] ?? 20_000);
const inc = py.fn("operator.add");
const total = py.fn("builtins.sum");

function build() {
  // A map (one task per value) feeding tree reductions of 100 inputs each: typical user graphs.
  const leaves = Array.from({ length: tasks }, (_, i) => inc.call(i, 1));
  const sums = [];
  for (let i = 0; i < leaves.length; i += 100) sums.push(total.call(leaves.slice(i, i + 100)));
  return [...leaves, total.call(sums)];
}

/** A release of each era, for its dialect. */
const RELEASE: Record<GraphEra, string> = { expr: "2026.8.0", hlg: "2025.3.0", tuple: "2023.8.0" };

function encode(era: GraphEra) {
  const nodes = build();
  const graph = collectGraph([nodes[nodes.length - 1]], () => false);
  const dialect = schedulerDialect(RELEASE[era]);
  const dsk = taskDict(graph.values(), era);
  const msg = updateGraphMessage(dialect, dsk, [nodes[nodes.length - 1].key], "t");
  const chunks = frameMessage(encodeMessage([msg]));
  return { count: graph.size, bytes: chunks.reduce((n, c) => n + c.length, 0) };
}

for (const era of ["expr", "hlg", "tuple"] as const) {
  encode(era); // warm-up
  const runs = 5;
  let best = Infinity;
  let result = { count: 0, bytes: 0 };
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    result = encode(era);
    best = Math.min(best, performance.now() - t0);
  }
  const rate = Math.round(result.count / (best / 1000));
  console.log(
    `${era.padEnd(4)} ${result.count} tasks, ${(result.bytes / 1e6).toFixed(2)} MB on the wire: ` +
      `best ${best.toFixed(1)} ms of ${runs} -> ${
        rate.toLocaleString("en")
      } tasks/s (build+encode)`,
  );
}
