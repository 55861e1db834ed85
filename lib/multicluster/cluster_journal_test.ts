import assert from "node:assert/strict";
import { ClusterJournal, type JournalEntry } from "./cluster_journal.ts";

const entry = { site: "central", gateway: "http://127.0.0.1:1", name: "abc123", account: "bob" };

Deno.test("cluster journal - records privately, lists, forgets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = new ClusterJournal(`${dir}/clusters`);
    assert.deepEqual(await journal.entries(), [], "a missing folder is an empty journal");
    await journal.record(entry);
    await journal.record({ ...entry, site: "lumi", gateway: "http://127.0.0.1:2", name: "def" });
    const entries = await journal.entries();
    assert.equal(entries.length, 2);
    const central = entries.find((e) => e.site === "central")!;
    assert.equal(central.pid, Deno.pid);
    assert.equal(central.account, "bob");
    assert.ok(central.pidStart !== null && central.pidStart > 0);
    assert.equal((await Deno.stat(`${dir}/clusters`)).mode! & 0o777, 0o700);
    for await (const f of Deno.readDir(`${dir}/clusters`)) {
      assert.equal((await Deno.stat(`${dir}/clusters/${f.name}`)).mode! & 0o777, 0o600);
    }
    assert.deepEqual(await journal.orphans(), [], "this process is alive");
    await journal.forget(central);
    await journal.forget(central); // twice is fine
    assert.deepEqual((await journal.entries()).map((e) => e.name), ["def"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cluster journal - a gone process, or a reused pid, leaves orphans", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = new ClusterJournal(dir);
    const child = new Deno.Command("true").spawn();
    const gonePid = child.pid;
    await child.status;
    const write = async (e: JournalEntry) =>
      await Deno.writeTextFile(`${dir}/${e.pid}-${e.name}.json`, JSON.stringify(e));
    const base = { ...entry, startedAt: new Date().toISOString() };
    await write({ ...base, pid: gonePid, pidStart: 1, name: "gone" });
    // This process's pid with another start time: the pid was reused by a later process.
    await write({ ...base, pid: 1, pidStart: -5, name: "reused" });
    await Deno.writeTextFile(`${dir}/junk.json`, "{ not json");
    const orphans = (await journal.orphans()).map((o) => o.name).sort();
    assert.deepEqual(orphans, ["gone", "reused"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
