import assert from "node:assert/strict";
import { KeyState, keyText, whenSettled } from "./key_state.ts";

Deno.test("key state - tuple keys read as Python prints them, strings as they are", () => {
  assert.equal(keyText("sum-abc"), "sum-abc");
  assert.equal(keyText(["x", 0, 1]), "('x', 0, 1)");
  assert.equal(keyText(["x"]), "('x',)");
  assert.equal(keyText(["a", ["b", 2]]), "('a', ('b', 2))");
  assert.equal(keyText(["it's", 0]), `("it's", 0)`);
  assert.equal(keyText(["a\\b'\"\n", 0]), "('a\\\\b\\'\"\\n', 0)");
  assert.equal(keyText(7), "7");
});

Deno.test("key state - whenSettled waits for all keys with one watcher, or stops early", async () => {
  const states = ["a", "b", "c"].map((k) => new KeyState(k));
  const all = whenSettled(states);
  let resolved = false;
  all.done.then(() => (resolved = true));
  states[0].finish();
  states[1].fail("error", new Error("boom"));
  await Promise.resolve();
  assert.equal(resolved, false);
  states[2].finish();
  assert.equal(await all.done, undefined);

  const fresh = ["x", "y"].map((k) => new KeyState(k));
  const firstError = whenSettled(fresh, (s) => s.status !== "finished");
  fresh[1].fail("cancelled", new Error("gone"));
  assert.equal(await firstError.done, fresh[1]);
  // The wait let go of the other key: settling it reaches nobody.
  fresh[0].finish();

  // Already settled keys count at once, in the order given.
  const settled = [new KeyState("p"), new KeyState("q")];
  settled[0].finish();
  settled[1].fail("lost", new Error("lost"));
  assert.equal(await whenSettled(settled, (s) => s.status !== "finished").done, settled[1]);
  assert.equal(await whenSettled([]).done, undefined);
});

Deno.test("key state - wait() is shared while pending, and a cancelled group wait lets go", async () => {
  const state = new KeyState("k");
  const first = state.wait();
  assert.equal(state.wait(), first);
  const group = whenSettled([state]);
  group.cancel();
  let groupDone = false;
  group.done.then(() => (groupDone = true));
  state.fail("error", new Error("bad"));
  await assert.rejects(first, /bad/);
  await Promise.resolve();
  assert.equal(groupDone, false);
  state.reset();
  const again = state.wait();
  assert.notEqual(again, first);
  state.finish();
  await again;
});
