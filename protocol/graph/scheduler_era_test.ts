import assert from "node:assert/strict";
import { UnsupportedSchedulerVersion } from "../errors.ts";
import { parseVersion, schedulerDialect } from "./scheduler_era.ts";

Deno.test("scheduler era - versions map to graph envelopes and field gates", () => {
  assert.deepEqual(schedulerDialect("2026.8.0"), {
    distributed: "2026.8.0",
    era: "expr",
    spanMetadata: true,
    cancelNeedsReason: true,
    identityTakesNWorkers: true,
    heartbeatReplies: true,
    tupleKeys: true,
    pluginIdempotent: true,
    restartStimulusId: true,
    publish: "batched",
  });
  assert.equal(schedulerDialect("2025.4.0").era, "expr");
  assert.equal(schedulerDialect("2025.3.0").era, "hlg");
  assert.equal(schedulerDialect("2025.3.0").cancelNeedsReason, true);
  assert.equal(schedulerDialect("2025.3.0").identityTakesNWorkers, false);
  assert.equal(schedulerDialect("2025.3.0").heartbeatReplies, false);
  assert.equal(schedulerDialect("2025.4.0").heartbeatReplies, true);
  assert.equal(schedulerDialect("2025.1.1").cancelNeedsReason, false);
  assert.equal(schedulerDialect("2024.11.0").era, "hlg");
  assert.equal(schedulerDialect("2026.8.0+12.gabcdef").era, "expr");
  // DEDL's release and the tuple era around it: no span_metadata before 2024.5.2.
  assert.deepEqual(schedulerDialect("2023.8.0"), {
    distributed: "2023.8.0",
    era: "tuple",
    spanMetadata: false,
    cancelNeedsReason: false,
    identityTakesNWorkers: false,
    heartbeatReplies: false,
    tupleKeys: false,
    pluginIdempotent: false,
    restartStimulusId: false,
    publish: "single",
  });
  assert.equal(schedulerDialect("2024.10.0").era, "tuple");
  assert.equal(schedulerDialect("2024.5.2").spanMetadata, true);
  assert.equal(schedulerDialect("2024.5.1").spanMetadata, false);
  assert.equal(schedulerDialect("2023.4.0").era, "tuple");
  assert.deepEqual(parseVersion("2025.10"), [2025, 10, 0]);
  // Gates of the cluster operations (each read in distributed's source at the boundary tags).
  assert.equal(schedulerDialect("2023.8.1").tupleKeys, false);
  assert.equal(schedulerDialect("2023.9.0").tupleKeys, true);
  assert.equal(schedulerDialect("2023.9.1").pluginIdempotent, false);
  assert.equal(schedulerDialect("2023.9.2").pluginIdempotent, true);
  assert.equal(schedulerDialect("2024.3.1").restartStimulusId, false);
  assert.equal(schedulerDialect("2024.4.0").restartStimulusId, true);
  assert.equal(schedulerDialect("2024.4.1").publish, "single");
  assert.equal(schedulerDialect("2024.4.2").publish, "flush");
  assert.equal(schedulerDialect("2026.3.0").publish, "flush");
});

Deno.test("scheduler era - older or unparsable versions are refused with the range", () => {
  for (const v of ["2023.3.2", "2022.12.1", "garbage", undefined]) {
    assert.throws(() => schedulerDialect(v), (e: unknown) => {
      assert.ok(e instanceof UnsupportedSchedulerVersion);
      assert.match(e.message, new RegExp(`distributed ${String(v)}`));
      assert.match(e.message, /2023\.4\.0/);
      return true;
    });
  }
});
