/**
 * Fetching computed values: one `gather` RPC for a set of keys, decoded into JS values; keys
 * lost between completion and transfer are recomputed and fetched again, a few times.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { deserialize, Serialized } from "../codec/serialize.ts";
import { DataLost, RemoteSerializationFailed, UnexpectedReply } from "../errors.ts";
import type { ClientContext } from "./client_context.ts";
import { keyText } from "./key_state.ts";

/**
 * Serializer families asked for when gathering, in order of preference (see
 * `docs/wire-protocol.md`, "Serializer families").
 */
const GATHER_SERIALIZERS = ["msgpack", "dask", "pickle"];
/** Times a gather is tried when keys were lost between completion and transfer. */
const GATHER_ATTEMPTS = 3;

/**
 * The values of `keys` (all in memory), decoded.
 * @throws {DataLost} when keys are still missing after the last attempt.
 * @throws {UnexpectedReply} for a reply of another shape.
 */
export async function gatherKeys(
  ctx: ClientContext,
  keys: readonly string[],
): Promise<Map<string, unknown>> {
  for (let attempt = 1;; attempt++) {
    const reply = await ctx.call(
      { op: "gather", keys: keys.map((k) => ctx.keys.wire(k)), serializers: GATHER_SERIALIZERS },
      ctx.transferTimeoutMs,
    );
    if (!isPlainObject(reply)) {
      throw new UnexpectedReply(`gather got an unexpected reply: ${String(reply)}`);
    }
    if (reply.status === "OK") {
      return new Map(keys.map((key) => [key, decodeValue(lookup(reply.data, key), key)]));
    }
    // Keys lost between completion and transfer: ask for a fresh report, wait, retry.
    const missing = missingKeys(reply.keys) ?? [...keys];
    if (attempt >= GATHER_ATTEMPTS) {
      throw new DataLost(
        `gather could not fetch ${missing.join(", ")} after ${attempt} attempts: the workers ` +
          `holding them are gone`,
      );
    }
    for (const key of missing) {
      ctx.keys.get(key)?.reset();
      ctx.stream.send({ op: "report-key", key: ctx.keys.wire(key) });
    }
    await Promise.all(missing.map((k) => ctx.keys.get(k)?.wait()));
  }
}

function decodeValue(value: unknown, key: string): unknown {
  try {
    return value instanceof Serialized ? deserialize(value) : value;
  } catch (e) {
    // Name the key whose value the worker could not serialize.
    if (e instanceof RemoteSerializationFailed && !e.key) {
      throw new RemoteSerializationFailed(e.details, key, { cause: e });
    }
    throw e;
  }
}

/** The value of `key` (its text) in a reply's `data`, whose keys may be tuples (arrays). */
function lookup(data: unknown, key: string): unknown {
  if (data instanceof Map) {
    if (data.has(key)) return data.get(key);
    for (const [k, v] of data) if (keyText(k) === key) return v;
    return undefined;
  }
  if (isPlainObject(data)) return data[key];
  return undefined;
}

/**
 * The keys a failed gather names: a list, or (distributed 2023.8.0 and older) a map from each
 * missing key to the workers that were asked for it.
 */
function missingKeys(keys: unknown): string[] | undefined {
  if (Array.isArray(keys)) return keys.map(keyText);
  if (keys instanceof Map) return [...keys.keys()].map(keyText);
  if (isPlainObject(keys)) return Object.keys(keys);
  return undefined;
}
