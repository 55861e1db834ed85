import assert from "node:assert/strict";
import { ClusterFailed, WorkersTimeout } from "../../gateway/mod.ts";
import { SiteUnavailable } from "../../multicluster/mod.ts";
import { InvalidCommandLine, NotLoggedIn, SiteFailure } from "../errors.ts";
import { EXIT_CODES_HELP, ExitCode, exitCodeOf, firstExitCode } from "./exit_codes.ts";

Deno.test("exit codes - by the error's kind, a site's failure by its cause's", () => {
  const cases: [unknown, number][] = [
    [new InvalidCommandLine("bad"), ExitCode.usage],
    [new NotLoggedIn("no session"), ExitCode.auth],
    [new SiteUnavailable("lumi", "down"), ExitCode.unavailable],
    [new ClusterFailed("http://gw", "c1", "FAILED", null), ExitCode.failure],
    [new WorkersTimeout("c1", 2, 1, 1000), ExitCode.failure],
    [new Error("a script's own error"), ExitCode.failure],
    ["not even an error", ExitCode.failure],
    [new SiteFailure("central", new NotLoggedIn("x")), ExitCode.auth],
    [new SiteFailure("central", new SiteUnavailable("central", "down")), ExitCode.unavailable],
    [new SiteFailure("central", new Error("foreign")), ExitCode.failure],
  ];
  for (const [error, code] of cases) assert.equal(exitCodeOf(error), code, String(error));
  assert.equal(new SiteFailure("central", new NotLoggedIn("x")).kind, "auth");
  assert.equal(firstExitCode([]), ExitCode.ok);
  assert.equal(firstExitCode([new NotLoggedIn("x"), new InvalidCommandLine("y")]), ExitCode.auth);
});

Deno.test("exit codes - the help has one line per code, every kind named under its code", () => {
  const lines = EXIT_CODES_HELP.split("\n");
  assert.equal(lines[0], "Exit codes:");
  assert.deepEqual(lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[0])), [
    0,
    1,
    2,
    3,
    4,
    130,
  ]);
  assert.match(
    lines[2],
    /^ {2}1 {4}failed: a task or a cluster failed at its site; a wait ran out/,
  );
  assert.match(lines[3], /^ {2}2 {4}usage error/);
  assert.match(lines[4], /^ {2}3 {4}authentication failed/);
  assert.match(lines[5], /^ {2}4 {4}a site's gateway or the identity provider/);
});
