import assert from "node:assert/strict";
import { sleep } from "./sleep.ts";

Deno.test("sleep - waits, and an abort cuts it short without a leftover timer", async () => {
  let started = Date.now();
  await sleep(30);
  assert.ok(Date.now() - started >= 25);
  const controller = new AbortController();
  started = Date.now();
  const waiting = sleep(60_000, controller.signal);
  controller.abort();
  await waiting;
  assert.ok(Date.now() - started < 1000);
  await sleep(60_000, AbortSignal.abort());
});
