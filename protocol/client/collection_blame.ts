/**
 * Which chunk a collection's failure started at. When a chunk task fails, the scheduler fails
 * every task that depends on it in the same stimulus, down to the collection's output key, and
 * reports the failure under that output key; its story (`get_story`) tells the way back.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { RemoteError } from "../errors.ts";
import type { ClientContext } from "./client_context.ts";
import { type KeyState, keyText } from "./key_state.ts";

/** Most graph levels walked back to find the chunk a failure started at. */
const BLAME_MAX_LEVELS = 64;

/**
 * Fails a collection's output key with `error`, naming the chunk the scheduler blames (or
 * `error`'s own key when the story does not tell).
 */
export function failCollection(ctx: ClientContext, state: KeyState, error: RemoteError): void {
  blamedKey(ctx, state.key).catch(() => undefined).then((blamed) => {
    if (state.status !== "pending" || ctx.keys.get(state.key) !== state) return;
    if (!blamed || blamed === error.key) return state.fail("error", error);
    state.fail(
      "error",
      new RemoteError(blamed, error.type, error.module, error.pythonMessage, error.traceback, {
        cause: error.cause,
      }),
    );
  });
}

/**
 * The key the scheduler blames for `key`'s failure: walks the scheduler's story back from
 * `key` along the tasks that recommended their dependents to err in the same stimulus, to the
 * one that went from processing to erred (one `get_story` call per level of the graph).
 */
async function blamedKey(ctx: ClientContext, key: string): Promise<string | undefined> {
  let stimulus: unknown;
  let frontier: unknown[] = [key];
  const seen = new Set([key]);
  for (let level = 0; level < BLAME_MAX_LEVELS && frontier.length > 0; level++) {
    const reply = await ctx.call({ op: "get_story", keys_or_stimuli: frontier }, ctx.timeoutMs);
    const erred = (Array.isArray(reply) ? reply : []).filter((t): t is unknown[] =>
      Array.isArray(t) && t[2] === "erred"
    );
    stimulus ??= erred.findLast((t) => keyText(t[0]) === key)?.[4];
    if (stimulus === undefined) return undefined;
    const wanted = new Set(frontier.map(keyText));
    const causes = erred.filter((t) =>
      t[4] === stimulus && recommendedKeys(t[3]).some((k) => wanted.has(keyText(k)))
    );
    const root = causes.find((t) => t[1] === "processing");
    if (root) return keyText(root[0]);
    frontier = causes.map((t) => t[0]).filter((k) => !seen.has(keyText(k)));
    for (const k of frontier) seen.add(keyText(k));
  }
  return undefined;
}

/** Keys of a story entry's recommendations (a map, with array keys for tuple keys). */
function recommendedKeys(recommendations: unknown): unknown[] {
  if (recommendations instanceof Map) return [...recommendations.keys()];
  return isPlainObject(recommendations) ? Object.keys(recommendations) : [];
}
