/**
 * Published datasets: futures kept on the scheduler under a name, for another client (a later
 * script) to pick up, like Python's `Client.publish_dataset` / `get_dataset` /
 * `list_datasets` / `unpublish_dataset` (the scheduler's `PublishExtension`,
 * distributed/publish.py; the three forms are in {@link PublishDialect}).
 *
 * The scheduler keeps, per name, the keys (it holds them in memory for the dataset, whichever
 * client computed them) and an opaque `data` value it hands back to readers. The data written
 * here is what Python writes: a pickled `distributed.client.Future(key)` (or a list of them), so
 * Python's `get_dataset` reads our datasets too. Reading, this client turns the keys into its
 * own futures (and tells the scheduler it wants them). A persisted collection is published with
 * its chunks, and a reader's future keeps them alive as the persisting client's does.
 * @module
 */
import type { ClientOps } from "./client_ops.ts";
import {
  DatasetExistsError,
  DatasetNotFoundError,
  InvalidArgumentError,
  RpcError,
} from "./errors.ts";
import type { Future } from "./future.ts";
import { holdParts } from "./persist.ts";
import { loads } from "./pickle/reader.ts";
import { PyObject } from "./pickle/python_objects.ts";
import { dumps, PyCall, PyGlobal, PyTuple, type PyValue } from "./pickle/writer.ts";
import { deserialize, Serialized } from "./serialize.ts";
import { keyText } from "./task_key.ts";

/** Options of {@link Client.publishDataset}. */
export interface PublishOptions {
  /** Replace a dataset of the same name (default `false`: `DatasetExistsError`). */
  readonly override?: boolean;
}

const FUTURE = new PyGlobal("distributed.client", "Future");
const PICKLE_HEADER = { serializer: "pickle", writeable: [] };

/**
 * Publishes `value` (a future or a list of futures of this client) under `name`.
 * @throws {DatasetExistsError} when the name is taken and `override` is not set.
 */
export async function publishDataset(
  ops: ClientOps,
  name: string,
  value: Future | readonly Future[],
  options: PublishOptions = {},
): Promise<void> {
  checkName(name);
  const futures = Array.isArray(value) ? value as readonly Future[] : [value as Future];
  if (futures.length === 0) {
    throw new InvalidArgumentError(`publishDataset("${name}"): give a future or a list of futures`);
  }
  for (const f of futures) ops.checkOwn(f);
  // A persisted collection's chunks travel with it (see persist.ts).
  const states = futures.flatMap((f) => [f.state, ...(f.state.parts ?? [])]);
  const keys = [...new Map(states.map((s) => [s.key, s.wire])).values()];
  const futureObjects = futures.map((f) => new PyCall(FUTURE, [pyKey(f.state.wire)]));
  const data = new Serialized(PICKLE_HEADER, [
    dumps(Array.isArray(value) ? futureObjects : futureObjects[0]),
  ]);
  const override = options.override ?? false;
  try {
    if (ops.dialect.publish === "batched") {
      const uid = flush(ops);
      await ops.call({
        op: "publish_put",
        names: [name],
        keys: [keys],
        data: [data],
        override,
        client: ops.client.id,
        uid,
      }, ops.timeoutMs);
      return;
    }
    if (ops.dialect.publish === "flush") {
      const uid = flush(ops);
      await ops.call({ op: "publish_wait_flush", uid }, ops.timeoutMs);
    }
    await ops.call({
      op: "publish_put",
      keys,
      data,
      name,
      override,
      client: ops.client.id,
    }, ops.timeoutMs);
  } catch (e) {
    if (e instanceof RpcError && /KeyError/.test(e.exceptionText)) {
      throw new DatasetExistsError(name, { cause: e });
    }
    throw e;
  }
}

/**
 * The dataset published under `name`, as futures of this client: one future when one was
 * published, a list for a list. A dataset published by Python with other values (e.g. a
 * persisted collection) gives the futures of all its keys.
 * @throws {DatasetNotFoundError} naming the datasets that exist.
 */
export async function getDataset(ops: ClientOps, name: string): Promise<Future | Future[]> {
  checkName(name);
  const reply = ops.dialect.publish === "batched"
    ? ((await ops.call({ op: "publish_get", names: [name] }, ops.timeoutMs)) as unknown[])?.[0]
    : await ops.call({ op: "publish_get", name, client: ops.client.id }, ops.timeoutMs);
  if (reply === null || reply === undefined || typeof reply !== "object") {
    throw new DatasetNotFoundError(name, await listDatasets(ops));
  }
  const r = reply as Record<string, unknown>;
  const keys = Array.isArray(r.keys) ? r.keys : [];
  const published = publishedFutureKeys(r.data);
  if (published === undefined || published.length === 0) {
    return ops.adopt(keys, {});
  }
  const texts = new Set(published.map(keyText));
  const parts = keys.filter((k) => !texts.has(keyText(k)));
  const futures = ops.adopt(published, {});
  if (parts.length > 0 && futures.length === 1) {
    // A persisted collection: its chunks stay alive as long as the future (see persist.ts).
    holdParts(futures[0], ops.adopt(parts, {}));
  }
  const single = r.data instanceof Serialized ? !Array.isArray(decode(r.data)) : true;
  return single && futures.length === 1 ? futures[0] : futures;
}

/** Names of the published datasets. */
export async function listDatasets(ops: ClientOps): Promise<string[]> {
  const reply = await ops.call({ op: "publish_list" }, ops.timeoutMs);
  return Array.isArray(reply) ? reply.map(keyText) : [];
}

/** Removes a dataset (a missing one is no error); the scheduler frees keys no one else holds. */
export async function unpublishDataset(ops: ClientOps, name: string): Promise<void> {
  checkName(name);
  if (ops.dialect.publish === "batched") {
    const uid = flush(ops);
    await ops.call(
      { op: "publish_delete", names: [name], client: ops.client.id, uid },
      ops.timeoutMs,
    );
    return;
  }
  await ops.call({ op: "publish_delete", name }, ops.timeoutMs);
}

/**
 * Sends a stream marker the scheduler waits for before handling the next publish call, so that
 * graphs this client sent before are known there first (distributed ≥ 2024.4.2).
 */
function flush(ops: ClientOps): string {
  const uid = crypto.randomUUID().replaceAll("-", "");
  ops.send({ op: "publish_flush_batched_send", uid });
  return uid;
}

/** Keys of the `distributed.client.Future`s in a dataset's data (a future or a list of them). */
function publishedFutureKeys(data: unknown): unknown[] | undefined {
  const value = data instanceof Serialized ? decode(data) : data;
  const items = Array.isArray(value) ? value : [value];
  const keys: unknown[] = [];
  for (const item of items) {
    if (
      !(item instanceof PyObject) || item.module !== "distributed.client" || item.name !== "Future"
    ) {
      return undefined;
    }
    keys.push(item.args[0]);
  }
  return keys;
}

function decode(data: Serialized): unknown {
  try {
    const v = deserialize(data);
    return v instanceof Uint8Array ? loads(v) : v;
  } catch {
    return undefined;
  }
}

/** A wire key as a Python key: tuple keys (arrays) as tuples. */
function pyKey(key: unknown): PyValue {
  return Array.isArray(key) ? new PyTuple(key.map(pyKey)) : key as PyValue;
}

function checkName(name: string): void {
  if (typeof name !== "string" || name === "") {
    throw new InvalidArgumentError(
      `a dataset name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
}
