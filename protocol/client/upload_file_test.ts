import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "./client.ts";
import { py } from "../graph/py.ts";
import { InvalidModule, InvalidModuleSyntax, ModuleImportFailed, RemoteError } from "../errors.ts";
import { pyGlobal, PyInstance } from "../codec/pickle/python_values.ts";
import { dumps } from "../codec/pickle/writer.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../testing/python_codec_driver.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { readModuleFile } from "./upload_file.ts";

const WAIT = { timeoutMs: 60_000 };

/** A module of our own: a flood-severity class per pixel from the flooded share. */
const SEVERITY = `
import numpy as np

BOUNDS = (0.05, 0.25, 0.5)

def classify(share):
    return np.digitize(np.asarray(share, dtype=float), BOUNDS).tolist()

def where_am_i():
    return __file__
`;

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

Deno.test("upload file - module names and files are checked before anything is sent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "flood_severity.py");
    await Deno.writeTextFile(path, SEVERITY);
    const read = await readModuleFile(path);
    assert.equal(read.name, "flood_severity.py");
    assert.equal(read.label, path);
    assert.equal(new TextDecoder().decode(read.data), SEVERITY);
    const fromUrl = await readModuleFile(new URL(`file://${path}`));
    assert.equal(fromUrl.name, "flood_severity.py");
    const inline = await readModuleFile({ name: "m.py", source: "x = 1\n" });
    assert.deepEqual([...inline.data], [...new TextEncoder().encode("x = 1\n")]);

    for (
      const [bad, why] of [
        [join(dir, "missing.py"), /cannot read the module .*missing\.py/],
        [join(dir, "notes.txt"), /give a Python file "name\.py"/],
        [{ name: "flood-severity.py", source: "" }, /"flood-severity" is not a module name/],
        [{ name: "sub/m.py", source: "" }, /give a Python file/],
        [{ name: "m.py", source: 42 }, /must be a string or Uint8Array/],
        [{ nom: "m.py" }, /takes a path or \{ name, source \}/],
      ] as const
    ) {
      await assert.rejects(
        readModuleFile(bad as unknown as string),
        (e: unknown) => e instanceof InvalidModule && why.test(e.message),
        String(why),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const era of CODEC_ERAS) {
  Deno.test(`upload file (${era}) - the plugins unpickle to distributed's own classes`, async () => {
    const py = await PythonCodecDriver.start(era);
    try {
      const state = { filename: "m.py", load: true, data: new TextEncoder().encode("x = 1\n") };
      const got = await py.run<string[]>(
        `
from distributed.diagnostics.plugin import SchedulerUploadFile, UploadFile
s = pickle.loads(args["s"]); w = pickle.loads(args["w"])
assert type(s) is SchedulerUploadFile and type(w) is UploadFile, (type(s), type(w))
result = [s.filename, str(s.load), s.data.decode(), w.filename, str(w.load), w.data.decode()]
`,
        {
          s: dumps(
            new PyInstance(pyGlobal("distributed.diagnostics.plugin.SchedulerUploadFile"), state),
          ),
          w: dumps(new PyInstance(pyGlobal("distributed.diagnostics.plugin.UploadFile"), state)),
        },
      );
      assert.deepEqual(got, ["m.py", "True", "x = 1\n", "m.py", "True", "x = 1\n"]);
    } finally {
      await py.close();
    }
  });

  Deno.test(`upload file (${era}) - a module of our own runs on every worker`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 1 });
    await using client = await Client.connect(cluster.address);
    const dir = await Deno.makeTempDir();
    const path = join(dir, "flood_severity.py");
    await Deno.writeTextFile(path, SEVERITY);

    await step(
      t,
      "before the upload the module is unknown (the scheduler cannot unpickle the graph)",
      async () => {
        await assert.rejects(
          client.submit("flood_severity.classify", [0.5]).result(WAIT),
          (e: unknown) => {
            assert.ok(e instanceof RemoteError, String(e));
            assert.equal(e.type, "ModuleNotFoundError");
            assert.match(e.pythonMessage, /could not load the task graph: No module named/);
            return true;
          },
        );
      },
    );

    await step(t, "uploaded from a path, its function runs in a task", async () => {
      const uploaded = await client.uploadFile(path);
      assert.equal(uploaded.name, "flood_severity.py");
      assert.equal(uploaded.bytes, new TextEncoder().encode(SEVERITY).length);
      assert.equal(uploaded.workers.length, 1);
      const classes = await client.submit("flood_severity.classify", [0, 0.1, 0.3, 0.9])
        .result(WAIT);
      assert.deepEqual(classes, [0, 1, 2, 3]);
    });

    await step(t, "a worker that joins later imports it too", async () => {
      const late = await cluster.addWorker();
      const pinned = client.compute(py.call("flood_severity.where_am_i"), { workers: [late] });
      const file = await pinned.result(WAIT);
      assert.match(String(file), /flood_severity\.py$/);
      const who = await client.rpc("who_has", { keys: [pinned.key] }) as Record<string, string[]>;
      assert.deepEqual(who[pinned.key], [late], "the task ran on the worker that joined later");
    });

    await step(t, "uploading the same file name again replaces the module", async () => {
      await client.uploadFile({
        name: "flood_severity.py",
        source: SEVERITY.replace("(0.05, 0.25, 0.5)", "(0.5, 0.6, 0.7)"),
      });
      assert.deepEqual(await client.submit("flood_severity.classify", [0.3, 0.65]).result(WAIT), [
        0,
        2,
      ]);
    });

    await step(
      t,
      "a syntax error names the file and the line; nothing stays registered",
      async () => {
        const broken = join(dir, "broken.py");
        await Deno.writeTextFile(
          broken,
          "import math\n\ndef area(r:\n    return math.pi * r * r\n",
        );
        await assert.rejects(client.uploadFile(broken), (e: unknown) => {
          assert.ok(e instanceof InvalidModuleSyntax, String(e));
          assert.equal(e.file, broken);
          assert.equal(e.line, 3);
          assert.equal(e.text.trim(), "def area(r:");
          assert.equal(e.code, "ERR_INVALID_MODULE_SYNTAX");
          assert.match(e.message, new RegExp(`^${broken}, line 3: SyntaxError: `));
          assert.match(e.message, /def area\(r:\n/);
          return true;
        });
        // A worker joining now must not stumble over the broken module: nothing of it is left.
        const late = await cluster.addWorker();
        const ok = client.submit("flood_severity.classify", [0.9]);
        assert.deepEqual(await ok.result(WAIT), [3]);
        await assert.rejects(
          client.compute(
            py.call("importlib.import_module", "broken").attr("__name__"),
            { workers: [late] },
          ).result(WAIT),
          /No module named 'broken'/,
        );
      },
    );

    await step(t, "a module whose import fails names the package and where", async () => {
      await assert.rejects(
        client.uploadFile({ name: "needs_more.py", source: "import not_installed_here\n" }),
        (e: unknown) => {
          assert.ok(e instanceof ModuleImportFailed, String(e));
          assert.equal(e.type, "ModuleNotFoundError");
          assert.equal(e.where, "the scheduler");
          assert.match(e.message, /needs_more\.py failed on the scheduler .*not_installed_here/);
          return true;
        },
      );
    });
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("upload file - a module is fetched from an http(s) URL", async () => {
  const served = "def f():\n    return 1\n";
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    return path === "/mods/mine.py" ? new Response(served) : new Response("no", { status: 404 });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}/mods/`;
    const read = await readModuleFile(new URL("mine.py", base));
    assert.equal(read.name, "mine.py");
    assert.equal(new TextDecoder().decode(read.data), served);
    await assert.rejects(
      readModuleFile(new URL("gone.py", base)),
      (e: unknown) => e instanceof InvalidModule && /HTTP 404/.test(e.message),
    );
    await assert.rejects(
      readModuleFile(new URL("ftp://example.org/m.py")),
      (e: unknown) => e instanceof InvalidModule && /file: or http\(s\): URL/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }
});
