/**
 * What a test asks a real scheduler about keys: which it holds in memory, and waiting until that
 * changes (the scheduler frees released keys a moment after the client's message).
 * @module
 */
import { sleep } from "../../base/mod.ts";
import type { Client } from "../client/client.ts";
import { keyText } from "../client/key_state.ts";

/** Keys the scheduler holds in memory (`who_has` for all keys), as key texts. */
export async function keysInMemory(client: Client): Promise<Set<string>> {
  const reply = await client.rpc("who_has", { keys: null });
  const entries = reply instanceof Map ? [...reply] : Object.entries(reply as object);
  return new Set(entries.filter(([, w]) => (w as unknown[]).length > 0).map(([k]) => keyText(k)));
}

/** Checks `check` every 100 ms until it holds; throws naming `what` after `ms`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}
