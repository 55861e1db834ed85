/**
 * The project's test command (`deno task test`): starts the local replica if it is not running,
 * runs `deno test`, stops the replica again if it started it, and ends with the plain summary line
 * `N passed, N failed, N skipped`. Extra arguments are passed to `deno test` (e.g. file names).
 * `--keep-replica` leaves a replica it started running.
 * @module
 */
import { join } from "node:path";
import { REPLICA_DIR, REPO_ROOT } from "./replica/endpoints.ts";
import { replicaStatus, startReplica, stopReplica } from "./replica/replica.ts";

const keep = Deno.args.includes("--keep-replica");
const testArgs = Deno.args.filter((a) => a !== "--keep-replica");

/** Counts test cases in deno's JUnit report. */
function countJunit(xml: string): { passed: number; failed: number; skipped: number } {
  let passed = 0, failed = 0, skipped = 0;
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failed++;
    else if (/<skipped\b/.test(body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

let startedHere = false;
let code = 1;
let counts = { passed: 0, failed: 0, skipped: 0 };
try {
  if (!(await replicaStatus())) {
    await startReplica();
    startedHere = true;
  }
  await Deno.mkdir(REPLICA_DIR, { recursive: true });
  const junit = join(REPLICA_DIR, "junit.xml");
  await Deno.remove(junit).catch(() => {});
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", `--junit-path=${junit}`, ...testArgs],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  code = result.code;
  try {
    counts = countJunit(await Deno.readTextFile(junit));
  } catch {
    counts.failed = Math.max(counts.failed, 1);
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // e.g. a type error before any test
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  counts.failed = Math.max(counts.failed, 1);
} finally {
  if (startedHere && !keep) {
    await stopReplica().catch((e) => {
      console.error(`could not stop the replica: ${e}`);
      counts.failed++;
    });
  }
}
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
Deno.exit(counts.failed > 0 || code !== 0 ? 1 : 0);
