/**
 * Sending graphs: the nodes a client does not hold yet go to the scheduler in one
 * `update-graph`, and every node gets a future; a graph a worker built for a collection goes
 * out byte for byte.
 * @module
 */
import type { StreamOp } from "../connection/batched_stream.ts";
import { GraphBuildFailed } from "../errors.ts";
import type { CollectionGraph } from "../graph/collection_graph.ts";
import type { Node } from "../graph/py.ts";
import { collectGraph, taskDict } from "../graph/task_graph.ts";
import {
  type GraphPlacement,
  prebuiltUpdateGraphMessage,
  updateGraphMessage,
} from "../graph/update_graph.ts";
import type { ClientContext } from "./client_context.ts";
import type { Future } from "./future.ts";

/** Submits the graphs of one client. */
export class Submission {
  readonly #ctx: ClientContext;
  #graphs = 0;

  /** Submits through `ctx`. */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /**
   * Sends what `nodes` need that the client does not hold, and returns a future per node.
   * @throws {GraphBuildFailed} when a node uses a future the client does not hold, or the graph
   *   cannot be encoded; nothing is sent then.
   */
  nodes(nodes: readonly Node[], placement: GraphPlacement = {}): Future[] {
    const { keys, dialect, stream } = this.#ctx;
    const fresh = new Map<string, Node>();
    for (const node of nodes) if (!keys.has(node.key)) fresh.set(node.key, node);
    if (fresh.size > 0) {
      const collected = collectGraph([...fresh.values()], (key) => keys.has(key));
      for (const node of collected.values()) {
        for (const f of node.futures) {
          if (!keys.has(f.key) || !keys.owns(f)) {
            throw new GraphBuildFailed(
              `node ${node.key} uses future ${f.key}, which this client does not hold ` +
                `(released, cancelled, or from another client)`,
            );
          }
        }
      }
      const dsk = taskDict(collected.values(), dialect.era);
      const token = `${this.#ctx.id}-${++this.#graphs}`;
      const msg = updateGraphMessage(dialect, dsk, [...fresh.keys()], token, placement);
      // Encoding happens now: a bad graph throws here, before any state changes.
      const sent = stream.sendNow(msg as StreamOp);
      for (const key of fresh.keys()) keys.add(key);
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return nodes.map((node) => keys.future(keys.get(node.key)!, node.attrs));
  }

  /** Sends a graph pickled on a worker, its payload untouched, and returns its futures. */
  prebuilt(graph: CollectionGraph, attrs: Record<string, unknown>): Future[] {
    const { keys, dialect, stream } = this.#ctx;
    if (graph.keys.some((key) => !keys.has(key))) {
      const msg = prebuiltUpdateGraphMessage(dialect, graph.payload, graph.keys);
      const sent = stream.sendNow(msg as StreamOp);
      for (const key of graph.keys) {
        if (!keys.has(key)) keys.add(key, { collectionOutput: true });
      }
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return graph.keys.map((key) => keys.future(keys.get(key)!, attrs));
  }
}
