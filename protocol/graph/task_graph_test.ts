import assert from "node:assert/strict";
import { py } from "./py.ts";
import { collectGraph } from "./task_graph.ts";

Deno.test("graph - collecting shares nodes and skips keys already held", () => {
  const x = py.call("operator.add", 1, 2);
  const y = py.call("operator.mul", x, x);
  const z = py.call("builtins.sum", [x, y]);
  assert.deepEqual(y.dependencies.map((d) => d.key), [x.key]);
  const all = collectGraph([z, y], () => false);
  assert.deepEqual(new Set(all.keys()), new Set([x.key, y.key, z.key]));
  const partial = collectGraph([z], (key) => key === y.key);
  assert.deepEqual(new Set(partial.keys()), new Set([x.key, z.key]));
});
