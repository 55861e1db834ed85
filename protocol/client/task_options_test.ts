import assert from "node:assert/strict";
import { GraphBuildFailed } from "../errors.ts";
import { placementOf } from "./task_options.ts";

Deno.test("task options - become the scheduler's annotations and user priority", () => {
  assert.deepEqual(placementOf({}), { annotations: {}, userPriority: undefined });
  assert.deepEqual(
    placementOf({
      retries: 2,
      workers: ["tcp://10.0.0.5:4000"],
      allowOtherWorkers: true,
      priority: -3,
    }),
    {
      annotations: { retries: 2, workers: ["tcp://10.0.0.5:4000"], allow_other_workers: true },
      userPriority: -3,
    },
  );
});

Deno.test("task options - invalid ones are refused with what to give instead", () => {
  for (
    const [options, pattern] of [
      [{ retries: -1 }, /retries is -1; give an integer >= 0/],
      [{ retries: 2n }, /retries is "2"; give an integer >= 0/],
      [{ workers: ["a", ""] }, /workers is \["a",""\]; give a non-empty list/],
      [{ allowOtherWorkers: false }, /only together with workers/],
      [{ priority: Infinity }, /priority is null; give an integer/],
    ] as const
  ) {
    assert.throws(() => placementOf(options as never), (e: unknown) => {
      assert.ok(e instanceof GraphBuildFailed, String(e));
      assert.equal(e.code, "ERR_GRAPH_BUILD_FAILED");
      assert.match(e.message, pattern);
      return true;
    });
  }
});
