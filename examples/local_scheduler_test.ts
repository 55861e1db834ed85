/**
 * `examples/local_scheduler.ts` run as its users run it, against a real scheduler with two
 * workers on each era's software (DEDL's 2023.8.0 and the newest): it must end with exit 0 and
 * print what it computed there — π from 16 million random points, the statistics of the array it
 * scattered, and the outer product as an `NDArray`.
 */
import assert from "node:assert/strict";
import { LocalCluster } from "../protocol/testing/local_cluster.ts";
import { pinnedDistributed } from "../tests/replica/python_env.ts";
import { failedRun, runExample } from "./testing/example_run.ts";

for (const era of ["dedl", "current"] as const) {
  Deno.test(`example local_scheduler - runs on a ${era} scheduler`, async () => {
    await using cluster = await LocalCluster.start({ era, workers: 2 });
    const run = await runExample("local_scheduler.ts", [cluster.address], 120_000);
    assert.equal(run.code, 0, failedRun(run));
    const lines = run.stdout.trim().split("\n");
    assert.match(
      lines[0],
      new RegExp(
        `^connected to distributed ${await pinnedDistributed(era)} at .+ with 2 worker\\(s\\)$`,
      ),
    );
    const pi = Number(/^pi is about (\S+)$/m.exec(run.stdout)?.[1]);
    assert.ok(Math.abs(pi - Math.PI) < 0.005, `pi ${pi}`);
    // The same series computed here: 15 + 10 sin(i / 500), i < 10 000.
    const xs = Array.from({ length: 10_000 }, (_, i) => 15 + 10 * Math.sin(i / 500));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.match(run.stdout, new RegExp(`^mean ${mean.toFixed(3)}, std ${std.toFixed(3)}$`, "m"));
    assert.match(
      run.stdout,
      // int64 values come as bigints (numpy's int64 exceeds a JS number's exact range).
      /^outer product <i8 \[3,2\]: \[ \[ 10n, 20n \], \[ 20n, 40n \], \[ 30n, 60n \] \]$/m,
    );
  });
}
