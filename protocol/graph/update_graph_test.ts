import assert from "node:assert/strict";
import { py } from "./py.ts";
import { schedulerDialect } from "./scheduler_era.ts";
import { collectGraph, taskDict } from "./task_graph.ts";
import { updateGraphMessage } from "./update_graph.ts";

Deno.test("update graph - independent tasks carry their order, others let the scheduler order", () => {
  const dialect = schedulerDialect("2023.8.0");
  const nodes = [3, 1, 2].map((v) => py.call("operator.neg", v));
  const dsk = taskDict(collectGraph(nodes, () => false).values(), dialect.era);
  const keys = nodes.map((n) => n.key);
  const inOrder = updateGraphMessage(dialect, dsk, keys, "t", {}, true);
  assert.deepEqual(inOrder.internal_priority, new Map(keys.map((k, i) => [k, i])));
  assert.equal(updateGraphMessage(dialect, dsk, keys, "t").internal_priority, null);
});
