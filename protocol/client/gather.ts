/**
 * Fetching computed values: one `gather` RPC for a set of keys, decoded into JS values; keys
 * lost between completion and transfer are recomputed and fetched again, a few times.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import type { DecodeMessageOptions } from "../codec/message.ts";
import { deserialize } from "../codec/serialize.ts";
import { DataLost, RemoteSerializationFailed, UnexpectedReply, ZlibNotLoaded } from "../errors.ts";
import type { ClientContext } from "./client_context.ts";
import { keyText } from "./key_state.ts";

/**
 * Serializer families asked for when gathering, in order of preference (see
 * `docs/wire-protocol.md`, "Serializer families").
 */
const GATHER_SERIALIZERS = ["msgpack", "dask", "pickle"];
/** Times a gather is tried when keys were lost between completion and transfer. */
const GATHER_ATTEMPTS = 3;

/** A value that could not be deserialized; the error is raised naming its key. */
class Undecodable {
  constructor(readonly error: unknown) {}
}

/**
 * Values are deserialized as the reply is decoded: a reply of many small values then holds no
 * headers and frames per value until its end (they would outlive the JS heap's young generation
 * and grow it).
 */
const DECODE_VALUES: DecodeMessageOptions = {
  onSerialized(value) {
    try {
      return deserialize(value);
    } catch (e) {
      if (e instanceof ZlibNotLoaded) throw e; // the reply is decoded again once it is loaded
      return new Undecodable(e);
    }
  },
};

/** Values fetched by {@link gatherKeys}. */
export interface GatheredValues {
  /**
   * The value of `key` (its text).
   * @throws {RemoteSerializationFailed} (naming the key) or a decoding error for a value that
   *   could not be read.
   */
  get(key: string): unknown;
}

/**
 * The values of `keys` (all in memory), decoded.
 * @throws {DataLost} when keys are still missing after the last attempt.
 * @throws {UnexpectedReply} for a reply of another shape.
 */
export async function gatherKeys(
  ctx: ClientContext,
  keys: readonly string[],
): Promise<GatheredValues> {
  for (let attempt = 1;; attempt++) {
    const reply = await ctx.call(
      { op: "gather", keys: keys.map((k) => ctx.keys.wire(k)), serializers: GATHER_SERIALIZERS },
      ctx.transferTimeoutMs,
      DECODE_VALUES,
    );
    if (!isPlainObject(reply)) {
      throw new UnexpectedReply(`gather got an unexpected reply: ${String(reply)}`);
    }
    if (reply.status === "OK") return new ReplyValues(reply.data);
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
  if (!(value instanceof Undecodable)) return value;
  const e = value.error;
  // Name the key whose value the worker could not serialize.
  if (e instanceof RemoteSerializationFailed && !e.key) {
    throw new RemoteSerializationFailed(e.details, key, { cause: e });
  }
  throw e;
}

/**
 * A reply's `data` read in place (no second map of every value): string keys as they are, tuple
 * keys (arrays) by their text.
 */
class ReplyValues implements GatheredValues {
  #byText: Map<string, unknown> | undefined;

  constructor(readonly data: unknown) {}

  get(key: string): unknown {
    return decodeValue(this.#lookup(key), key);
  }

  #lookup(key: string): unknown {
    const data = this.data;
    if (data instanceof Map) {
      if (data.has(key)) return data.get(key);
      this.#byText ??= new Map([...data].map(([k, v]) => [keyText(k), v]));
      return this.#byText.get(key);
    }
    if (isPlainObject(data)) return Object.hasOwn(data, key) ? data[key] : undefined;
    return undefined;
  }
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
