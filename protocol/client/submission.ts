/**
 * Sending graphs: the nodes a client does not hold yet go to the scheduler in one
 * `update-graph`, and every node gets a future; a graph a worker built for a collection goes
 * out byte for byte.
 * @module
 */
import type { StreamOp } from "../connection/batched_stream.ts";
import { GraphBuildFailed } from "../errors.ts";
import type { Node, NodeAttrs } from "../graph/py.ts";
import { collectGraph, taskDict } from "../graph/task_graph.ts";
import {
  type GraphPlacement,
  prebuiltUpdateGraphMessage,
  updateGraphMessage,
} from "../graph/update_graph.ts";
import type { ClientContext } from "./client_context.ts";
import type { Future } from "./future.ts";
import { keyText } from "./key_state.ts";

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
    let leaves = true;
    for (const node of nodes) {
      if (keys.has(node.key) || fresh.has(node.key)) continue;
      fresh.set(node.key, node);
      if (node.dependencies.length > 0) leaves = false;
    }
    if (fresh.size > 0) {
      const wanted = [...fresh.values()];
      // Calls of plain values (a map) are the whole graph: nothing more to collect.
      const graph = leaves ? undefined : collectGraph(wanted, (key) => keys.has(key));
      const collected = graph ? [...graph.values()] : wanted;
      // Independent tasks (a map) run in the order given, as Python's client asks.
      let independent = !graph || graph.size === fresh.size;
      for (const node of collected) {
        for (const f of node.futures) {
          if (!keys.has(f.key) || !keys.owns(f)) {
            throw new GraphBuildFailed(
              `node ${node.key} uses future ${f.key}, which this client does not hold ` +
                `(released, cancelled, or from another client)`,
            );
          }
        }
        if (independent && graph) {
          independent = !node.dependencies.some((d) => graph.has(d.key));
        }
      }
      const dsk = taskDict(collected, dialect.era);
      const token = `${this.#ctx.id}-${++this.#graphs}`;
      const wantedKeys = wanted.map((node) => node.key);
      const msg = updateGraphMessage(dialect, dsk, wantedKeys, token, placement, independent);
      // Encoding happens now: a bad graph throws here, before any state changes.
      const sent = stream.sendNow(msg as StreamOp);
      for (const key of wantedKeys) keys.add(key);
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return nodes.map((node) => keys.future(keys.get(node.key)!, node.attrs));
  }

  /**
   * Sends a graph pickled on a worker, its payload untouched, wanting `wireKeys` (keys as the
   * scheduler names them: strings, or tuples as arrays), and returns a future per key. With
   * `collectionOutput`, a failure is reported with the chunk the scheduler's story blames.
   */
  prebuilt(
    payload: Uint8Array,
    wireKeys: readonly unknown[],
    attrs: NodeAttrs,
    options: { readonly collectionOutput?: boolean } = {},
  ): Future[] {
    const { keys, dialect, stream } = this.#ctx;
    const texts = wireKeys.map(keyText);
    if (texts.some((key) => !keys.has(key))) {
      const msg = prebuiltUpdateGraphMessage(dialect, payload, wireKeys);
      const sent = stream.sendNow(msg as StreamOp);
      texts.forEach((key, i) => {
        if (!keys.has(key)) {
          keys.add(key, { wire: wireKeys[i], collectionOutput: options.collectionOutput });
        }
      });
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return texts.map((key) => keys.future(keys.get(key)!, attrs));
  }
}
