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
import { loads } from "../codec/pickle/reader.ts";
import { PyObject } from "../codec/pickle/python_objects.ts";
import { PyCall, PyGlobal, PyTuple, type PyValue } from "../codec/pickle/python_values.ts";
import { dumps } from "../codec/pickle/writer.ts";
import { deserialize, Serialized } from "../codec/serialize.ts";
import {
  InvalidArgument,
  PublishedDatasetExists,
  PublishedDatasetNotFound,
  RpcFailed,
} from "../errors.ts";
import type { ClientContext } from "./client_context.ts";
import type { Future } from "./future.ts";
import { keyText } from "./key_state.ts";
import { holdParts } from "./persist.ts";

/** Options of {@link Client.publishDataset}. */
export interface PublishOptions {
  /** Replace a dataset of the same name (default `false`: `PublishedDatasetExists`). */
  readonly override?: boolean;
}

const FUTURE = new PyGlobal("distributed.client", "Future");
const PICKLE_HEADER = { serializer: "pickle", writeable: [] };

/**
 * Publishes `value` (a future or a list of futures of this client) under `name`.
 * @throws {PublishedDatasetExists} when the name is taken and `override` is not set.
 */
export async function publishDataset(
  ctx: ClientContext,
  name: string,
  value: Future | readonly Future[],
  options: PublishOptions = {},
): Promise<void> {
  checkName(name);
  const futures = Array.isArray(value) ? value as readonly Future[] : [value as Future];
  if (futures.length === 0) {
    throw new InvalidArgument(`publishDataset("${name}"): give a future or a list of futures`);
  }
  const held = futures.map((f) => ctx.keys.held(f));
  // A persisted collection's chunks travel with it (see persist.ts).
  const states = held.flatMap((state) => [state, ...(state.parts ?? [])]);
  const keys = [...new Map(states.map((s) => [s.key, s.wire])).values()];
  const futureObjects = held.map((state) => new PyCall(FUTURE, [pyKey(state.wire)]));
  const data = new Serialized(PICKLE_HEADER, [
    dumps(Array.isArray(value) ? futureObjects : futureObjects[0]),
  ]);
  const override = options.override ?? false;
  try {
    if (ctx.dialect.publish === "batched") {
      const uid = flush(ctx);
      await ctx.call({
        op: "publish_put",
        names: [name],
        keys: [keys],
        data: [data],
        override,
        client: ctx.id,
        uid,
      }, ctx.timeoutMs);
      return;
    }
    if (ctx.dialect.publish === "flush") {
      const uid = flush(ctx);
      await ctx.call({ op: "publish_wait_flush", uid }, ctx.timeoutMs);
    }
    await ctx.call({
      op: "publish_put",
      keys,
      data,
      name,
      override,
      client: ctx.id,
    }, ctx.timeoutMs);
  } catch (e) {
    if (e instanceof RpcFailed && /KeyError/.test(e.exceptionText)) {
      throw new PublishedDatasetExists(name, { cause: e });
    }
    throw e;
  }
}

/**
 * The dataset published under `name`, as futures of this client: one future when one was
 * published, a list for a list. A dataset published by Python with other values (e.g. a
 * persisted collection) gives the futures of all its keys.
 * @throws {PublishedDatasetNotFound} naming the datasets that exist.
 */
export async function getDataset(ctx: ClientContext, name: string): Promise<Future | Future[]> {
  checkName(name);
  const reply = ctx.dialect.publish === "batched"
    ? ((await ctx.call({ op: "publish_get", names: [name] }, ctx.timeoutMs)) as unknown[])?.[0]
    : await ctx.call({ op: "publish_get", name, client: ctx.id }, ctx.timeoutMs);
  if (reply === null || reply === undefined || typeof reply !== "object") {
    throw new PublishedDatasetNotFound(name, await listDatasets(ctx));
  }
  const r = reply as Record<string, unknown>;
  const keys = Array.isArray(r.keys) ? r.keys : [];
  const published = publishedFutureKeys(r.data);
  if (published === undefined || published.length === 0) {
    return adopt(ctx, keys);
  }
  const texts = new Set(published.map(keyText));
  const parts = keys.filter((k) => !texts.has(keyText(k)));
  const futures = adopt(ctx, published);
  if (parts.length > 0 && futures.length === 1) {
    // A persisted collection: its chunks stay alive as long as the future (see persist.ts).
    holdParts(ctx.keys, futures[0], adopt(ctx, parts));
  }
  const single = r.data instanceof Serialized ? !Array.isArray(decode(r.data)) : true;
  return single && futures.length === 1 ? futures[0] : futures;
}

/** Names of the published datasets. */
export async function listDatasets(ctx: ClientContext): Promise<string[]> {
  const reply = await ctx.call({ op: "publish_list" }, ctx.timeoutMs);
  return Array.isArray(reply) ? reply.map(keyText) : [];
}

/** Removes a dataset (a missing one is no error); the scheduler frees keys no one else holds. */
export async function unpublishDataset(ctx: ClientContext, name: string): Promise<void> {
  checkName(name);
  if (ctx.dialect.publish === "batched") {
    const uid = flush(ctx);
    await ctx.call(
      { op: "publish_delete", names: [name], client: ctx.id, uid },
      ctx.timeoutMs,
    );
    return;
  }
  await ctx.call({ op: "publish_delete", name }, ctx.timeoutMs);
}

/**
 * Sends a stream marker the scheduler waits for before handling the next publish call, so that
 * graphs this client sent before are known there first (distributed ≥ 2024.4.2).
 */
function flush(ctx: ClientContext): string {
  const uid = crypto.randomUUID().replaceAll("-", "");
  ctx.stream.send({ op: "publish_flush_batched_send", uid });
  return uid;
}

/**
 * Futures for keys already on the cluster: the scheduler is told this client wants them, and
 * reports them as it does for the client's own.
 */
function adopt(ctx: ClientContext, wireKeys: readonly unknown[]): Future[] {
  const { keys } = ctx;
  const texts = wireKeys.map(keyText);
  const fresh = wireKeys.filter((_, i) => !keys.has(texts[i]));
  texts.forEach((key, i) => {
    if (!keys.has(key)) keys.add(key, { wire: wireKeys[i] });
  });
  if (fresh.length > 0) {
    ctx.stream.send({ op: "client-desires-keys", keys: fresh, client: ctx.id });
  }
  return texts.map((key) => keys.future(keys.get(key)!, {}));
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
    throw new InvalidArgument(
      `a dataset name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
}
