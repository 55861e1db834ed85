/**
 * How `dedl-dask` fails: one clear line on stderr and the documented exit code, for mistakes on
 * the command line, refused logins and unreachable sites — against the replica's real servers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../../tests/replica/process.ts";
import { ENDPOINTS_PATH, readEndpoints } from "../../tests/replica/endpoints.ts";
import { KeycloakAdmin } from "../auth/testing/keycloak_admin.ts";
import { ExitCode } from "./output/exit_codes.ts";
import { COMMANDS } from "./main.ts";
import { oneErrorLine, runCli } from "./testing/cli_process.ts";
import { outwardAddress, tcpRelay } from "../gateway/testing/tcp_relay.ts";

const ep = await readEndpoints();
const SITES = ["--sites", ENDPOINTS_PATH];

Deno.test("cli errors - an unknown site names the known ones (exit 2)", async () => {
  const options = await runCli(["options", "nowhere", ...SITES]);
  assert.equal(options.code, ExitCode.usage);
  assert.equal(
    oneErrorLine(options),
    `dedl-dask: location "nowhere" is not a known site; known sites: central, lumi`,
  );
  const sites = await runCli(["sites", "--only", "central,nowhere", ...SITES]);
  assert.equal(sites.code, ExitCode.usage);
  assert.match(oneErrorLine(sites), /"nowhere" is not a known site/);
  assert.equal(sites.stdout, "");
});

Deno.test("cli errors - a bad option value is refused before any cluster starts (exit 2)", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const login = ["--username", user.username, "--password-stdin", ...SITES];
  const tooMany = await runCli(["new", "--worker-cores", "11", ...login], { stdin: user.password });
  assert.equal(tooMany.code, ExitCode.usage);
  assert.match(
    oneErrorLine(tooMany),
    /^dedl-dask: (central|lumi): cluster option worker_cores = 11 is not allowed; worker_cores takes an integer from 1 to 10$/,
  );
  const typo = await runCli(["new", "--worker-core", "2", ...login], { stdin: user.password });
  assert.equal(typo.code, ExitCode.usage);
  assert.match(oneErrorLine(typo), /unknown option --worker-core: .*--worker-cores/);
  const text = await runCli(["new", "--worker-memory", "lots", ...login], { stdin: user.password });
  assert.equal(text.code, ExitCode.usage);
  assert.match(oneErrorLine(text), /worker_memory = "lots" .* a number from 1 to 32/);
  // Nothing was started at either site.
  const clusters = await runCli(["clusters", "--json", ...login], { stdin: user.password });
  assert.equal(clusters.code, 0, clusters.stderr);
  assert.deepEqual(JSON.parse(clusters.stdout), []);
});

Deno.test("cli errors - a gateway that is down is reported per site (exit 4)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dedl-cli-down-" });
  try {
    const registry = join(dir, "down.json");
    const address = `http://127.0.0.1:${freePort()}`;
    await Deno.writeTextFile(
      registry,
      JSON.stringify({
        issuer: ep.issuer,
        client_id: ep.client_id,
        sites: { down: { name: "Down Site", address } },
      }),
    );
    const sites = await runCli(["sites", "--sites", registry]);
    assert.equal(sites.code, ExitCode.unavailable);
    assert.match(sites.stdout, /down\s+Down Site\s+http:\/\/127\.0\.0\.1:\d+\s+DOWN/);
    assert.match(oneErrorLine(sites), /site "down" is not available: .*connection refused/);

    const user = ep.users[0];
    const login = ["--username", user.username, "--password-stdin", "--sites", registry];
    for (const args of [["clusters"], ["new"], ["options", "down"], ["stop", "--all"]]) {
      const r = await runCli([...args, ...login], { stdin: user.password });
      assert.equal(r.code, ExitCode.unavailable, `${args.join(" ")}: ${r.stderr}`);
      assert.match(oneErrorLine(r), new RegExp(`"down" is not available: .*${address}`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const outward = outwardAddress();

Deno.test({
  name: "cli errors - --require-https refuses a plain-HTTP gateway (exit 2); without it, a warning",
  ignore: outward === undefined, // a machine with loopback only has no other address to test with
  async fn() {
    const via = tcpRelay(outward!, new URL(ep.sites.central.address));
    const dir = await Deno.makeTempDir({ prefix: "dedl-cli-http-" });
    try {
      const registry = join(dir, "http.json");
      await Deno.writeTextFile(
        registry,
        JSON.stringify({
          issuer: ep.issuer,
          client_id: ep.client_id,
          sites: { central: { ...ep.sites.central, address: via.url } },
        }),
      );
      const user = ep.users[0];
      const login = ["--username", user.username, "--password-stdin", "--sites", registry];
      const strict = await runCli(["clusters", "--require-https", ...login], {
        stdin: user.password,
      });
      assert.equal(strict.code, ExitCode.usage, strict.stderr);
      assert.match(oneErrorLine(strict), /refused to send an access token to .* over plain HTTP/);
      const lax = await runCli(["clusters", ...login], { stdin: user.password });
      assert.equal(lax.code, 0, lax.stderr);
      assert.match(lax.stderr, /warning: central: access tokens go to .* over plain HTTP/);
    } finally {
      via.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("cli errors - a wrong password or no way to log in is an auth failure (exit 3)", async () => {
  // An account that does not exist: no real account's failed-login count goes up.
  const wrong = await runCli(
    ["whoami", "--username", "cli-test-nobody", "--password-stdin", ...SITES],
    { stdin: "not-the-password\n" },
  );
  assert.equal(wrong.code, ExitCode.auth);
  assert.match(
    oneErrorLine(wrong),
    /login as "cli-test-nobody" failed: .*Invalid user credentials/,
  );
  assert.ok(!wrong.stderr.includes("not-the-password"));

  const noTerminal = await runCli(["clusters", "--username", ep.users[1].username, ...SITES]);
  assert.equal(noTerminal.code, ExitCode.auth);
  assert.match(oneErrorLine(noTerminal), /not logged in .*--password-stdin/);
});

Deno.test("cli errors - an unreachable identity provider is exit 4", async () => {
  const r = await runCli([
    "whoami",
    "--issuer",
    `http://127.0.0.1:${freePort()}/auth/realms/dedl`,
    "--username",
    "alice",
    "--password-stdin",
  ], { stdin: "x" });
  assert.equal(r.code, ExitCode.unavailable);
  assert.match(oneErrorLine(r), /identity provider unreachable/);
});

Deno.test("cli errors - mistakes on the command line are usage errors (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [["bogus"], /unknown command 'bogus'; commands: login, .*run/],
    [["sites", "--bogus"], /unknown option --bogus; see 'dedl-dask sites --help'/],
    [["scale", "central"], /'scale' needs 'scale <site> <name> <n>'/],
    [["scale", "central", "x", "-1"], /unknown option -1|must be a whole number/],
    [["scale", "central", "x", "two"], /<n> must be a whole number ≥ 0, got "two"/],
    [["stop"], /'stop' needs <site> <name>, --all or --orphans/],
    [["stop", "central", "x", "--all"], /--all takes no site or name/],
    [["stop", "--all", "--orphans"], /choose --all or --orphans/],
    [["new", "--workers", "2", "--min", "1"], /--workers and --min\/--max exclude each other/],
    [["sites", "--sites", "/nonexistent/bridges.json"], /could not read the site registry/],
    [["--sites", "x", "sites"], /the command comes first/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, ExitCode.usage, `${args.join(" ")}: ${r.stderr}`);
    assert.match(oneErrorLine(r), pattern);
  }
});

Deno.test("cli errors - --debug adds the stack trace, otherwise there is none", async () => {
  const plain = await runCli(["options", "nowhere", ...SITES]);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  const debug = await runCli(["options", "nowhere", "--debug", ...SITES]);
  assert.equal(debug.code, ExitCode.usage);
  assert.match(debug.stderr, /^dedl-dask: location "nowhere"/);
  assert.match(debug.stderr, /UnknownLocation: .*\n\s+at /);
});

Deno.test("cli - --help of every command, and the exit codes in the main help", async () => {
  const main = await runCli(["--help"]);
  assert.equal(main.code, 0);
  for (const c of COMMANDS) assert.match(main.stdout, new RegExp(`\\n  ${c.name}\\s+\\S`));
  assert.match(main.stdout, /Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 /);
  for (const c of COMMANDS) {
    const r = await runCli([c.name, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`dedl-dask ${c.name}: `), r.stdout);
    assert.match(r.stdout, /Usage:\n {2}dedl-dask /);
    assert.match(r.stdout, /--json/);
  }
  const none = await runCli([]);
  assert.equal(none.code, ExitCode.usage);
  assert.match(none.stdout, /Commands:/);
});
