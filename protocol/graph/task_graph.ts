/**
 * The graph one submission sends: the nodes a client does not hold yet, and their `{key: task}`
 * dict in the form the scheduler's era reads.
 * @module
 */
import type { PyValue } from "../codec/pickle/python_values.ts";
import type { Node } from "./py.ts";
import type { GraphEra } from "./scheduler_era.ts";
import { tupleTask } from "./tuple_task.ts";

/**
 * Collects the nodes needed to compute `targets`: each target and, transitively, its
 * dependencies, except keys for which `skip(key)` is true (already on the cluster for this
 * client; they are referenced by `TaskRef`).
 */
export function collectGraph(
  targets: readonly Node[],
  skip: (key: string) => boolean,
): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const stack: Node[] = [...targets];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (nodes.has(node.key)) continue;
    nodes.set(node.key, node);
    for (const dep of node.dependencies) {
      if (!nodes.has(dep.key) && !skip(dep.key)) stack.push(dep);
    }
  }
  return nodes;
}

/**
 * The `{key: task}` dict of collected nodes, ready to pickle: `dask._task_spec` objects, or
 * `dask.core` tuples for schedulers of the `"tuple"` era.
 */
export function taskDict(nodes: Iterable<Node>, era: GraphEra): Record<string, PyValue> {
  const dsk: Record<string, PyValue> = {};
  for (const node of nodes) {
    dsk[node.key] = era === "tuple" ? tupleTask(node.taskSpec) : node.taskSpec;
  }
  return dsk;
}
