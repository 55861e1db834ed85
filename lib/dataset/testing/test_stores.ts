/**
 * Test fixture: the small stores of make_test_stores.py in a temporary folder, served by a real
 * S3-compatible server (the replica's S3Proxy, anonymous reads, path-style URLs) so that they
 * can be read as files, by HTTP URL and by `s3://` URL.
 * @module
 */
import { join } from "node:path";
import { readEndpoints } from "../../../tests/replica/endpoints.ts";
import {
  installS3Proxy,
  prepareObjectStore,
  STORE_BUCKET,
} from "../../../tests/replica/object_store.ts";
import { freePort } from "../../../tests/replica/process.ts";

/** The replica's Pythons that have zarr >= 3 (they can write and read Zarr v3). */
export async function pythonsWithZarr3(): Promise<string[]> {
  const ep = await readEndpoints();
  const candidates = [...new Set([ep.python, ...Object.values(ep.pythons)])];
  const found: string[] = [];
  for (const python of candidates) {
    const out = await new Deno.Command(python, {
      args: ["-c", "import zarr; print(zarr.__version__)"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const major = Number(new TextDecoder().decode(out.stdout).trim().split(".")[0]);
    if (out.success && major >= 3) found.push(python);
  }
  return found;
}

/** The written stores and the server in front of them. */
export class TestStores implements AsyncDisposable {
  readonly #server: Deno.ChildProcess;

  private constructor(
    /** The folder that holds the stores. */
    readonly folder: string,
    /** The names written (`v2_consolidated.zarr`, …). */
    readonly names: readonly string[],
    /** The Python that wrote them (xarray, zarr). */
    readonly python: string,
    /** The S3 endpoint serving the folder as bucket `datasets`. */
    readonly endpoint: string,
    server: Deno.ChildProcess,
  ) {
    this.#server = server;
  }

  /** Writes the stores with `python` (default: a replica Python with zarr 3, else the main one). */
  static async create(python?: string): Promise<TestStores> {
    const ep = await readEndpoints();
    python ??= (await pythonsWithZarr3())[0] ?? ep.python;
    const folder = await Deno.makeTempDir({ prefix: "dedl-dataset-stores-" });
    const data = join(folder, "data");
    const script = new URL("./make_test_stores.py", import.meta.url).pathname;
    const out = await new Deno.Command(python, {
      args: [script, data],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`make_test_stores.py failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const names = new TextDecoder().decode(out.stdout).trim().split("\n");
    const jar = await installS3Proxy(async (cmd, args) => {
      const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
      if (!r.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(r.stderr)}`);
    });
    const launch = await prepareObjectStore(jar, join(folder, "store"), data, freePort());
    const server = new Deno.Command(launch.cmd, {
      args: launch.args,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const stores = new TestStores(folder, names, python, launch.endpoint, server);
    try {
      await stores.#waitReady();
    } catch (e) {
      await stores[Symbol.asyncDispose]();
      throw e;
    }
    return stores;
  }

  /** Local path of a store. */
  path(name: string): string {
    return join(this.folder, "data", name);
  }

  /** HTTP URL of a store (path-style). */
  url(name: string): string {
    return `${this.endpoint}/${STORE_BUCKET}/${name}`;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`${this.url(this.names[0])}/.zattrs`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.body?.cancel();
        if (res.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error("the test object store did not start in 60 s");
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops the server and removes the folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#server.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#server.status;
    await Deno.remove(this.folder, { recursive: true }).catch(() => {});
  }
}
