/**
 * The `dedl-dask` command line against the replica's two real sites, run as a child process the
 * way a user's shell runs it. Each test logs in as a throw-away Keycloak user, so that
 * `stop --all` can never touch the clusters of other tests (alice, bob).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OidcAuth } from "../auth/oidc_auth.ts";
import { KeycloakAdmin, type TemporaryUser } from "../auth/testing/keycloak_admin.ts";
import { answerDeviceLogin } from "../auth/testing/keycloak_device_approval.ts";
import { Gateway } from "../gateway/gateway.ts";
import { ExitCode } from "./output/exit_codes.ts";
import { ENDPOINTS_PATH, readEndpoints } from "../../tests/replica/endpoints.ts";
import {
  type CliResult,
  JWT_SHAPE,
  oneErrorLine,
  runCli,
  spawnCli,
} from "./testing/cli_process.ts";

const ep = await readEndpoints();
const SITES = ["--sites", ENDPOINTS_PATH];

/** A temporary user, a private cache folder, and cleanup of every cluster the user has. */
async function withUser(fn: (user: TemporaryUser, cacheHome: string) => Promise<void>) {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const cacheHome = await Deno.makeTempDir({ prefix: "dedl-cli-test-" });
  try {
    await fn(user, cacheHome);
  } finally {
    await stopEverything(user);
    await Deno.remove(cacheHome, { recursive: true });
  }
}

/** The library's view of the user's clusters at every site (to check the CLI against). */
async function gateways(user: TemporaryUser) {
  const auth = await OidcAuth.password({
    issuer: ep.issuer,
    clientId: ep.client_id,
    username: user.username,
    password: user.password,
  });
  const byName = Object.fromEntries(
    Object.entries(ep.sites).map(([site, s]) => [
      site,
      new Gateway({ address: s.address, proxyAddress: s.proxy_address, auth }),
    ]),
  );
  return { auth, byName };
}

async function stopEverything(user: TemporaryUser): Promise<void> {
  const { auth, byName } = await gateways(user);
  await using _ = auth;
  await Promise.all(
    Object.values(byName).map(async (gateway) => {
      for (const c of await gateway.listClusters()) await gateway.stopCluster(c.name);
    }),
  );
}

/** Checks no run printed the password or anything shaped like a token. */
function assertNoSecrets(results: CliResult[], password: string): void {
  for (const r of results) {
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(password), "a password was printed");
      assert.ok(!JWT_SHAPE.test(text), "a token was printed");
    }
  }
}

Deno.test("cli - login, new, clusters, dashboard, scale, adapt, stop, logout", async () => {
  await withUser(async (user, cacheHome) => {
    const runs: CliResult[] = [];
    const cli = async (args: string[], stdin?: string) => {
      const r = await runCli([...args, ...SITES], { cacheHome, stdin });
      runs.push(r);
      return r;
    };
    const ok = (r: CliResult) => {
      assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
      return r;
    };

    // login --remember: only a refresh token is kept, in a private file.
    const login = ok(
      await cli(
        ["login", "--remember", "--username", user.username, "--password-stdin"],
        `${user.password}\n`,
      ),
    );
    assert.match(login.stdout, new RegExp(`Logged in as ${user.username} at ${ep.issuer}`));
    const cacheFile = join(cacheHome, "dedl-dask", "refresh-tokens.json");
    assert.equal((await Deno.stat(cacheFile)).mode! & 0o777, 0o600);
    const cached = await Deno.readTextFile(cacheFile);
    assert.ok(!cached.includes(user.password));

    // Later commands resume the session: no password, no stdin.
    const whoami = JSON.parse(ok(await cli(["whoami", "--json"])).stdout);
    assert.equal(whoami.username, user.username);
    assert.equal(whoami.issuer, ep.issuer);
    assert.equal(whoami.remembered, true);

    // Credentials that are given are checked, whatever session is remembered.
    const wrong = `not-${user.password}`;
    for (const args of [["login"], ["login", "--remember"], ["whoami"]]) {
      const refused = await cli(
        [...args, "--username", user.username, "--password-stdin"],
        `${wrong}\n`,
      );
      assert.equal(refused.code, ExitCode.auth, `${args.join(" ")}: ${refused.stdout}`);
      assert.match(refused.stderr, /Invalid user credentials/);
      assert.ok(!refused.stdout.includes("Logged in"), refused.stdout);
      assertNoSecrets([refused], wrong);
    }
    assert.equal(JSON.parse(ok(await cli(["whoami", "--json"])).stdout).remembered, true);

    // new: a cluster at both sites, with the options given as flags.
    const started = JSON.parse(
      ok(
        await cli([
          "new",
          "--worker-cores",
          "1",
          "--worker-memory",
          "1.5",
          "--min",
          "0",
          "--max",
          "1",
          "--json",
        ]),
      ).stdout,
    ) as {
      site: string;
      name: string;
      status: string;
      dashboardLink: string;
      options: Record<string, unknown>;
    }[];
    assert.deepEqual(started.map((c) => c.site).sort(), ["central", "lumi"]);
    for (const c of started) {
      assert.equal(c.status, "RUNNING");
      assert.equal(c.options.worker_cores, 1);
      assert.equal(c.options.worker_memory, 1.5);
      assert.ok(c.dashboardLink.startsWith(`${ep.sites[c.site].address}/`), c.dashboardLink);
    }
    const central = started.find((c) => c.site === "central")!;
    const lumi = started.find((c) => c.site === "lumi")!;

    // clusters: both, as the gateways report them; the people's table has a row for each.
    const listed = JSON.parse(ok(await cli(["clusters", "--json"])).stdout) as {
      site: string;
      name: string;
      status: string;
    }[];
    assert.deepEqual(
      listed.map((c) => `${c.site}/${c.name}/${c.status}`).sort(),
      started.map((c) => `${c.site}/${c.name}/RUNNING`).sort(),
    );
    const table = ok(await cli(["clusters"])).stdout.trimEnd().split("\n");
    assert.match(table[0], /^SITE\s+NAME\s+STATUS\s+STARTED\s+OPTIONS$/);
    assert.equal(table.length, 3);

    // dashboard: the links answer with the cluster's Dask dashboard.
    const links = JSON.parse(ok(await cli(["dashboard", "--json"])).stdout) as {
      name: string;
      dashboardLink: string;
    }[];
    assert.deepEqual(links.map((l) => l.name).sort(), started.map((c) => c.name).sort());
    const one = ok(await cli(["dashboard", "central", central.name]));
    assert.equal(one.stdout.trim(), central.dashboardLink);
    const page = await fetch(central.dashboardLink, { signal: AbortSignal.timeout(30_000) });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Dask|bokeh/i);

    // scale: a worker joins the scheduler (asked through the library).
    const scaled = JSON.parse(
      ok(await cli(["scale", "central", central.name, "1", "--json"])).stdout,
    );
    assert.equal(scaled.ok, true);
    const { auth, byName } = await gateways(user);
    await using _auth = auth;
    const cluster = await byName.central.connect(central.name);
    assert.equal(await cluster.waitForWorkers(1, { timeoutMs: 120_000 }), 1);

    // scale beyond the site's limit: the gateway's cap is a notice, not a failure.
    const capped = ok(await cli(["scale", "central", central.name, "25", "--json"]));
    assert.equal(JSON.parse(capped.stdout).ok, false);
    assert.match(capped.stderr, /limit of 10 workers/);

    const adapted = JSON.parse(
      ok(await cli(["adapt", "central", central.name, "--min", "0", "--max", "1", "--json"]))
        .stdout,
    );
    assert.equal(adapted.ok, true);

    // stop one cluster, then --all stops the other.
    const stopped = ok(await cli(["stop", "central", central.name]));
    assert.match(stopped.stdout, new RegExp(`central\\s+${central.name}\\s+STOPPED`));
    const all = JSON.parse(ok(await cli(["stop", "--all", "--json"])).stdout);
    assert.deepEqual(all, [{ site: "lumi", name: lumi.name, status: "STOPPED" }]);
    assert.deepEqual(JSON.parse(ok(await cli(["clusters", "--json"])).stdout), []);
    assert.equal((await byName.lumi.getCluster(lumi.name)).status, "STOPPED");

    // logout ends the session: the next command has no login to resume.
    assert.equal(JSON.parse(ok(await cli(["logout", "--json"])).stdout).outcome, "revoked");
    const after = await cli(["whoami"]);
    assert.equal(after.code, 3);
    assert.match(oneErrorLine(after), /not logged in/);
    assertNoSecrets(runs, user.password);
  });
});

Deno.test("cli - run gives a script a logged-in MultiCluster and stops its clusters", async () => {
  await withUser(async (user, cacheHome) => {
    const dir = await Deno.makeTempDir({ prefix: "dedl-cli-script-" });
    try {
      const mod = new URL("../../mod.ts", import.meta.url).href;
      const where = join(dir, "where.ts");
      await Deno.writeTextFile(
        where,
        `import { py, type MultiCluster } from "${mod}";
export default async function (mc: MultiCluster, { args }: { args: readonly string[] }) {
  const [started] = await mc.newCluster({ worker_cores: 1 }, {
    sites: ["lumi"], adapt: { minimum: 1, maximum: 1 },
  });
  if (!started.ok) throw started.error;
  const site = await mc.compute(py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" }));
  return { site, args, cluster: started.value.name };
}
`,
      );
      const failing = join(dir, "failing.ts");
      await Deno.writeTextFile(
        failing,
        `import type { MultiCluster } from "${mod}";
export default async function (mc: MultiCluster) {
  const [started] = await mc.newCluster({}, { sites: ["central"], adapt: false });
  console.log(started.ok ? started.value.name : "failed");
  throw new Error("the analysis went wrong");
}
`,
      );
      const login = ["--username", user.username, "--password-stdin", ...SITES];
      const { auth, byName } = await gateways(user);
      await using _auth = auth;

      const run = await runCli(["run", where, "--json", ...login, "--", "a", "b c"], {
        cacheHome,
        stdin: user.password,
      });
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout); // --json: stdout holds the result only
      assert.deepEqual({ site: result.site, args: result.args }, {
        site: "lumi",
        args: ["a", "b c"],
      });
      assert.equal((await byName.lumi.getCluster(result.cluster)).status, "STOPPED");
      // stderr is no terminal here: the computation's progress as plain lines, the last one final.
      const lines = run.stderr.split("\n").filter((l) => l.startsWith("progress "));
      assert.match(lines.at(-1) ?? "", /^progress lumi +1\/1 tasks +100% .* done$/, run.stderr);
      assert.ok(!run.stderr.includes("\x1b["), "no control sequence");

      // On a terminal: a live bar, redrawn in place, ending full.
      const live = await runCli(["run", where, ...login], {
        cacheHome,
        stdin: user.password,
        stderrTerminal: true,
      });
      assert.equal(live.code, 0, live.stderr);
      assert.match(live.stdout, /site: "lumi"/);
      const redrawn = live.stderr.split("\x1b[K").map((l) => l.split("\r").at(-1));
      assert.ok(live.stderr.includes("\x1b[1A"), "the bar is redrawn in place");
      assert.ok(
        redrawn.some((l) => /^lumi +█+ +1\/1 tasks +100% .* done$/.test(l ?? "")),
        live.stderr,
      );

      const failed = await runCli(["run", failing, ...login], { cacheHome, stdin: user.password });
      assert.equal(failed.code, 1);
      assert.equal(oneErrorLine(failed), "dedl-dask: the analysis went wrong");
      const name = failed.stdout.trim();
      assert.match(name, /^[0-9a-f]{32}$/);
      assert.equal((await byName.central.getCluster(name)).status, "STOPPED");

      const missing = await runCli(["run", join(dir, "nope.ts"), ...login], { cacheHome });
      assert.equal(missing.code, 2);
      assert.match(oneErrorLine(missing), /cannot run .*nope\.ts.*default-export/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("cli - Ctrl-C during run stops the clusters the script started", async () => {
  await withUser(async (user, cacheHome) => {
    const dir = await Deno.makeTempDir({ prefix: "dedl-cli-script-" });
    try {
      const mod = new URL("../../mod.ts", import.meta.url).href;
      const script = join(dir, "long.ts");
      await Deno.writeTextFile(
        script,
        `import { py, type MultiCluster } from "${mod}";
export default async function (mc: MultiCluster) {
  const [started] = await mc.newCluster({}, { sites: ["central"], adapt: { minimum: 1, maximum: 1 } });
  if (!started.ok) throw started.error;
  console.log(started.value.name);
  await mc.compute(py.call(py.fn("time.sleep"), 600).withAttrs({ location: "central" }));
}
`,
      );
      const child = await spawnCli(
        ["run", script, "--username", user.username, "--password-stdin", ...SITES],
        { cacheHome, stdin: user.password },
      );
      const killer = setTimeout(() => child.kill("SIGKILL"), 180_000);
      try {
        // The cluster's name is the script's first line: it is running now.
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        const name = text.trim();
        assert.match(name, /^[0-9a-f]{32}$/, `script printed: ${text}`);
        child.kill("SIGINT");
        const [status, stderr] = await Promise.all([
          child.status,
          new Response(child.stderr).text(),
          (async () => {
            while (!(await reader.read()).done) { /* the rest of stdout is not needed */ }
          })(),
        ]);
        assert.equal(status.code, 130, stderr);
        assert.match(stderr, /SIGINT: stopping the clusters/);
        const { auth, byName } = await gateways(user);
        await using _auth = auth;
        assert.ok(
          ["STOPPED", "STOPPING"].includes((await byName.central.getCluster(name)).status),
        );
      } finally {
        clearTimeout(killer);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("cli - login --device --remember, then commands resume the device session", async () => {
  await withUser(async (user, cacheHome) => {
    const child = await spawnCli(["login", "--device", "--remember", ...SITES], { cacheHome });
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    try {
      // The CLI shows the URL and the code on stderr; a "browser" approves them.
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let stderr = "";
      let shown: RegExpMatchArray | null = null;
      while (!shown) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += value;
        shown = stderr.match(/open (\S+) and confirm the code (\S+) /);
      }
      assert.ok(shown, `no device prompt in: ${stderr}`);
      const [, url, userCode] = shown;
      await answerDeviceLogin({
        prompt: { verificationUri: url.split("?")[0], userCode, expiresIn: 600 },
        username: user.username,
        password: user.password,
        decision: "accept",
      });
      const [status, stdout] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        (async () => {
          for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += r.value;
        })(),
      ]);
      assert.equal(status.code, 0, stderr);
      assert.match(stdout, new RegExp(`Logged in as ${user.username} at `));
    } finally {
      clearTimeout(killer);
    }
    const whoami = await runCli(["whoami", "--json", ...SITES], { cacheHome });
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(JSON.parse(whoami.stdout).username, user.username);
    const logout = await runCli(["logout", "--json", ...SITES], { cacheHome });
    assert.equal(JSON.parse(logout.stdout).outcome, "revoked");
  });
});
