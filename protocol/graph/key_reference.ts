/**
 * How the graph builder recognises a key already on the cluster among a call's arguments (a
 * `Future`) without depending on the client: futures carry a brand symbol.
 * @module
 */

/** Brand of objects that stand for a key already on the cluster (futures). */
export const KEY_REFERENCE: unique symbol = Symbol.for("dedl.dask.keyReference");

/**
 * A key already on the cluster that a node can depend on: a `Future` of the client that
 * computes the node.
 */
export interface KeyReference {
  /** The Dask key. */
  readonly key: string;
  /** Brand set by `Future`. */
  readonly [KEY_REFERENCE]: true;
}

/** Whether `value` stands for a key on the cluster. */
export function isKeyReference(value: object): value is KeyReference {
  return KEY_REFERENCE in value;
}
