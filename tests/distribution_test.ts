/**
 * The ways dedl-dask reaches users, each run for real: `mod.ts` imported by URL from a folder with
 * no configuration of ours, the CLI run by URL, the CLI bundled into one JavaScript file, and the
 * CLI compiled into a binary (only when a deno runtime for `deno compile` is at hand).
 */
import assert from "node:assert/strict";
import { extname, join, normalize, relative } from "node:path";
import { ENDPOINTS_PATH, readEndpoints, REPO_ROOT } from "./replica/endpoints.ts";

const ep = await readEndpoints();

const MEDIA_TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript",
  ".json": "application/json",
};

/** Serves the repository's files read-only over HTTP on loopback, as a web host would. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> & { base: string; served: Set<string> } {
  const served = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = normalize(join(REPO_ROOT, decodeURIComponent(new URL(req.url).pathname)));
    const inside = !relative(REPO_ROOT, path).startsWith("..");
    const type = MEDIA_TYPES[extname(path)];
    if (req.method !== "GET" || !inside || !type || path.includes(`${REPO_ROOT}.replica`)) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(path);
      served.add(new URL(req.url).pathname);
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return Object.assign(server, { base: `http://127.0.0.1:${server.addr.port}`, served });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` in `cwd` with colours off. */
async function deno(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A temporary folder with nothing of ours in it (and none above it: it is under /tmp). */
async function emptyFolder(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "dedl-dist-" });
}

function assertSitesJson(stdout: string): void {
  const sites = JSON.parse(stdout) as { site: string; available: boolean; version: string }[];
  assert.deepEqual(sites.map((s) => s.site).sort(), Object.keys(ep.sites).sort());
  for (const s of sites) {
    assert.equal(s.available, true, s.site);
    assert.match(s.version, /^\d{4}\.\d+\.\d+$/);
  }
}

Deno.test("distribution - mod.ts imported by URL from a folder with no config", async () => {
  await using server = serveRepository();
  const dir = await emptyFolder();
  try {
    const script = join(dir, "remote_use.ts");
    await Deno.writeTextFile(
      script,
      `import { MultiCluster, OidcAuth, type SiteStatus } from "${server.base}/mod.ts";
import { parseSiteRegistry } from "${server.base}/lib/multicluster/mod.ts";

const ep = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const sites = parseSiteRegistry(ep, "endpoints");
const user = ep.users[0];
await using auth = await OidcAuth.password({
  issuer: ep.issuer,
  clientId: ep.client_id,
  username: user.username,
  password: user.password,
});
await using mc = await MultiCluster.connect({ auth, sites });
const listed = await mc.clusters();
const status: SiteStatus[] = mc.status();
console.log(JSON.stringify({
  user: auth.username,
  sites: status.map((s) => ({ site: s.site, available: s.available, version: s.version })),
  listed: listed.map((o) => o.ok),
}));
`,
    );
    const allow = [
      "--no-config",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      "--allow-net=127.0.0.1",
      `--allow-read=${ENDPOINTS_PATH}`,
      "--allow-env",
    ];
    // The public types resolve for a remote importer too.
    const check = await deno([
      "check",
      ...allow.filter((a) => a.startsWith("--no-config") || a.startsWith("--allow-import")),
      script,
    ], dir);
    assert.equal(check.code, 0, check.stderr);

    const run = await deno(["run", ...allow, script, ENDPOINTS_PATH], dir);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.user, ep.users[0].username);
    assertSitesJson(JSON.stringify(result.sites));
    assert.deepEqual(result.listed, [true, true]);
    // The library came from the server, down to the protocol layer.
    for (
      const path of ["/mod.ts", "/lib/multicluster/multi_cluster.ts", "/protocol/client/client.ts"]
    ) {
      assert.ok(server.served.has(path), `${path} was not fetched`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("distribution - the CLI runs by URL", async () => {
  await using server = serveRepository();
  const dir = await emptyFolder();
  try {
    const main = `${server.base}/lib/cli/main.ts`;
    const help = await deno(["run", "-A", "--no-config", main, "--help"], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^dedl-dask \d+\.\d+\.\d+: /);
    assert.match(help.stdout, /Exit codes:/);
    const sites = await deno([
      "run",
      "-A",
      "--no-config",
      main,
      "sites",
      "--sites",
      ENDPOINTS_PATH,
      "--json",
    ], dir);
    assert.equal(sites.code, 0, sites.stderr);
    assertSitesJson(sites.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("distribution - deno bundle makes one JavaScript file that runs", async () => {
  const dir = await emptyFolder();
  try {
    const bundle = join(dir, "dedl-dask.js");
    const made = await deno(
      ["bundle", "--platform", "deno", "-o", bundle, "lib/cli/main.ts"],
      REPO_ROOT,
    );
    assert.equal(made.code, 0, made.stderr);
    // One file: its only imports are Deno's built-in node: modules.
    const code = await Deno.readTextFile(bundle);
    // Static imports start a line; a bare `from "…"` may be prose inside a bundled string.
    const imports = [
      ...code.matchAll(
        /^\s*(?:import|export)\b[^"\n]*?\bfrom\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/gm,
      ),
    ].map((m) => m[1] ?? m[2]);
    assert.ok(imports.includes("node:tls"), "the lazily loaded node:tls is found");
    assert.deepEqual(imports.filter((s) => !s.startsWith("node:")), []);

    const help = await deno(["run", "-A", "--no-config", bundle, "--help"], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Commands:/);
    const sites = await deno([
      "run",
      "-A",
      "--no-config",
      bundle,
      "sites",
      "--sites",
      ENDPOINTS_PATH,
      "--json",
    ], dir);
    assert.equal(sites.code, 0, sites.stderr);
    assertSitesJson(sites.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const DENORT_BIN = Deno.env.get("DENORT_BIN");
if (!DENORT_BIN) {
  console.log(
    "distribution_test: skipping the deno compile test: set DENORT_BIN to the denort binary of " +
      `deno ${Deno.version.deno} (deno compile downloads it otherwise, from a host not reachable here)`,
  );
}

Deno.test({
  name: "distribution - deno compile makes a binary that runs",
  ignore: !DENORT_BIN,
  async fn() {
    const dir = await emptyFolder();
    try {
      const binary = join(dir, "dedl-dask");
      const made = await deno(
        ["compile", "-A", "-o", binary, "lib/cli/main.ts"],
        REPO_ROOT,
        { DENORT_BIN: DENORT_BIN! },
      );
      assert.equal(made.code, 0, made.stderr);
      const out = await new Deno.Command(binary, {
        args: ["sites", "--sites", ENDPOINTS_PATH, "--json"],
        cwd: dir,
        stdin: "null",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assertSitesJson(new TextDecoder().decode(out.stdout));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
