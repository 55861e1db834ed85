/**
 * `stopClustersOnSignal` in a child process (signals go to the whole process): it calls the
 * program's callbacks, stops the clusters, and without `exit` leaves the process to the program;
 * the first signal removes its listeners, so a second one ends the process. The replica test of
 * a real Ctrl-C with clusters at both sites is in `multi_cluster_test.ts`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../../tests/replica/process.ts";

const script = (port: number) => `
import { MultiCluster, stopClustersOnSignal } from "${new URL("./mod.ts", import.meta.url).href}";
const noLogin = { identity: "", accessToken: () => Promise.reject(new Error("no login")) };
const mc = await MultiCluster.connect({
  auth: noLogin,
  sites: { down: { name: "Down", address: "http://127.0.0.1:${port}" } },
});
let stopped = false;
using _ = stopClustersOnSignal(mc, {
  onSignal: (signal) => console.log("signal " + signal),
  onStopped: (signal, outcomes) => {
    stopped = true;
    console.log("stopped " + signal + " " + outcomes.length);
  },
});
// Disposed at once: this one must never react.
stopClustersOnSignal(mc, { onSignal: () => console.log("disposed guard reacted") })[Symbol.dispose]();
console.log("ready");
while (!stopped) await new Promise((r) => setTimeout(r, 50));
console.log("still running");
await new Promise((r) => setTimeout(r, 60_000));
console.log("not interrupted");
`;

Deno.test("stopClustersOnSignal - callbacks, no exit unless asked, and a second signal ends the process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dedl-signal-" });
  try {
    const path = join(dir, "guarded.ts");
    await Deno.writeTextFile(path, script(freePort()));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", path],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    let seen = "";
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      if (!seen.includes(text)) assert.fail(`no "${text}" in:\n${seen}\n${await stderr}`);
    };
    try {
      await until("ready\n");
      child.kill("SIGTERM");
      await until("still running\n");
      assert.equal(seen, "ready\nsignal SIGTERM\nstopped SIGTERM 0\nstill running\n");
      child.kill("SIGTERM");
      const status = await child.status;
      await reader.cancel().catch(() => {});
      assert.equal(status.success, false);
      assert.equal(status.signal, "SIGTERM", "the default action of the second signal");
      assert.doesNotMatch(await stderr, /disposed guard reacted|not interrupted/);
    } finally {
      clearTimeout(killer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
