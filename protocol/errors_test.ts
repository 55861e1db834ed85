import assert from "node:assert/strict";
import { DedlDaskError, type ErrorKind } from "../base/mod.ts";
import * as deprecated from "./deprecated.ts";
import * as errors from "./errors.ts";

const KINDS: ErrorKind[] = [
  "usage",
  "auth",
  "unavailable",
  "remote",
  "cancelled",
  "protocol",
  "timeout",
];

/** Every concrete error class of the layer, made with placeholder arguments. */
function instances(): DedlDaskError[] {
  return Object.values(errors)
    .filter((c) => c !== errors.DaskProtocolError)
    .map((C) => new (C as unknown as new (...args: unknown[]) => DedlDaskError)("a", "b", "c"));
}

Deno.test("errors - one root, a stable unique code and a kind for every class", () => {
  const codes = new Set<string>();
  for (const e of instances()) {
    assert.ok(e instanceof errors.DaskProtocolError, e.name);
    assert.ok(e instanceof DedlDaskError, e.name);
    assert.match(e.code, /^ERR_[A-Z0-9_]+$/, e.name);
    assert.ok(!codes.has(e.code), `${e.code} is used twice`);
    codes.add(e.code);
    assert.ok(KINDS.includes(e.kind), `${e.name} has kind ${e.kind}`);
    assert.ok(!e.name.endsWith("Error") || e.name === "RemoteError", `${e.name} keeps "Error"`);
  }
  assert.equal(new errors.ZlibNotLoaded().code, "ERR_ZLIB_NOT_LOADED");
  assert.ok(new errors.ZlibNotLoaded() instanceof errors.DecodeFailed);
});

Deno.test("errors - the names before 0.2 are the same classes", () => {
  for (const [old, alias] of Object.entries(deprecated)) {
    assert.ok(Object.values(errors).includes(alias as never), `${old} is not an error class`);
    assert.equal(new (alias as new (...a: unknown[]) => Error)("a", "b", "c").name, alias.name);
  }
  assert.equal(deprecated.CancelledError, errors.TaskCancelled);
  assert.equal(deprecated.GraphBuildError, errors.GraphBuildFailed);
});
