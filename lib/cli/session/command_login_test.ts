/**
 * `dedl-dask login --desp` and `login --client-credentials` end to end, as child processes
 * against the replica: its `desp` realm (DESP's login pages and second factor), the exchange at
 * its `dedl` realm, and its real gateways. No run may print a password, one-time code, client
 * secret or token.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { totpCode } from "../../auth/testing/totp.ts";
import { ENDPOINTS_PATH, readEndpoints } from "../../../tests/replica/endpoints.ts";
import { ExitCode } from "../output/exit_codes.ts";
import { CLIENT_SECRET_ENV } from "./credential_input.ts";
import { type CliResult, JWT_SHAPE, oneErrorLine, runCli } from "../testing/cli_process.ts";

const ep = await readEndpoints();
const SITES = ["--sites", ENDPOINTS_PATH];
const carol = ep.desp.users.find((u) => !u.totp_secret)!;
const dave = ep.desp.users.find((u) => u.totp_secret)!;
const account = ep.service_accounts[0];

function assertNoSecrets(results: CliResult[], secrets: string[]): void {
  for (const r of results) {
    for (const text of [r.stdout, r.stderr]) {
      for (const secret of secrets) assert.ok(!text.includes(secret), "a secret was printed");
      assert.ok(!JWT_SHAPE.test(text), "a token was printed");
    }
  }
}

async function withCacheHome(fn: (cacheHome: string) => Promise<void>): Promise<void> {
  const cacheHome = await Deno.makeTempDir({ prefix: "dedl-cli-login-" });
  try {
    await fn(cacheHome);
  } finally {
    await Deno.remove(cacheHome, { recursive: true });
  }
}

Deno.test("cli login --desp - with a one-time code from stdin, remembered, used, logged out", async () => {
  await withCacheHome(async (cacheHome) => {
    const runs: CliResult[] = [];
    const cli = async (args: string[], stdin?: string) => {
      const r = await runCli([...args, ...SITES], { cacheHome, stdin });
      runs.push(r);
      return r;
    };
    const code = await totpCode(dave.totp_secret!);
    const login = await cli(
      ["login", "--desp", "--remember", "-u", dave.username, "--password-stdin", "--otp-stdin"],
      `${dave.password}\n${code}\n`,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`Logged in as ${dave.username} at ${ep.issuer}\\.`));
    assert.match(login.stdout, /Session remembered in .*refresh-tokens\.json/);

    // What is kept: DESP's refresh token only, in a private file; the login's note, no secret.
    const cacheFile = join(cacheHome, "dedl-dask", "refresh-tokens.json");
    assert.equal((await Deno.stat(cacheFile)).mode! & 0o777, 0o600);
    const cached = JSON.parse(await Deno.readTextFile(cacheFile)).refreshTokens;
    assert.deepEqual(Object.keys(cached), [`${ep.desp.issuer} dedl-hda ${dave.username}`]);
    const notes = await Deno.readTextFile(join(cacheHome, "dedl-dask", "cli-logins.json"));
    assert.deepEqual(Object.values(JSON.parse(notes).logins), [
      { method: "desp", username: dave.username, despIssuer: ep.desp.issuer },
    ]);
    for (const text of [JSON.stringify(cached), notes]) {
      assert.ok(!text.includes(dave.password));
      assert.ok(!text.includes(code));
    }

    // Later commands resume it: no password, no code, no stdin.
    const whoami = await cli(["whoami", "--json"]);
    assert.equal(whoami.code, 0, whoami.stderr);
    const info = JSON.parse(whoami.stdout);
    assert.equal(info.username, dave.username);
    assert.equal(info.method, "desp");
    assert.equal(info.remembered, true);
    const clusters = await cli(["clusters", "--json"]); // the gateways take the DEDL token
    assert.equal(clusters.code, 0, clusters.stderr);
    assert.deepEqual(JSON.parse(clusters.stdout), []);

    const logout = await cli(["logout"]);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, new RegExp(`Logged out of ${ep.issuer}`));
    const after = await cli(["whoami"]);
    assert.equal(after.code, ExitCode.auth);
    assert.match(oneErrorLine(after), /not logged in/);
    assertNoSecrets(runs, [dave.password, code, dave.totp_secret!]);
  });
});

Deno.test("cli login --desp - wrong password, and a code asked for without a way to give it", async () => {
  const wrong = await runCli(
    ["whoami", "--desp", "-u", carol.username, "--password-stdin", ...SITES],
    { stdin: "not-the-password\n" },
  );
  assert.equal(wrong.code, ExitCode.auth);
  assert.match(oneErrorLine(wrong), /login as "carol" failed: .*Invalid username or password/);
  const noCode = await runCli(
    ["whoami", "--desp", "-u", dave.username, "--password-stdin", ...SITES],
    { stdin: `${dave.password}\n` },
  );
  assert.equal(noCode.code, ExitCode.auth);
  assert.match(oneErrorLine(noCode), /one-time code .*--otp-stdin/);
  const plain = await runCli(
    ["whoami", "--desp", "-u", carol.username, "--password-stdin", "--json", ...SITES],
    { stdin: `${carol.password}\n` },
  );
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout).remembered, false);
  assertNoSecrets([wrong, noCode, plain], [carol.password, dave.password, "not-the-password"]);
});

Deno.test("cli login --client-credentials - secret from the environment or stdin, never stored", async () => {
  await withCacheHome(async (cacheHome) => {
    const env = { [CLIENT_SECRET_ENV]: account.client_secret };
    const runs: CliResult[] = [];
    const cli = async (
      args: string[],
      options: { stdin?: string; env?: Record<string, string> },
    ) => {
      const r = await runCli([...args, ...SITES], { cacheHome, ...options });
      runs.push(r);
      return r;
    };
    const login = await cli(
      ["login", "--client-credentials", "--client-id", account.client_id, "--remember", "--json"],
      { env },
    );
    assert.equal(login.code, 0, login.stderr);
    const info = JSON.parse(login.stdout);
    assert.equal(info.username, `service-account-${account.client_id}`);
    assert.equal(info.method, "client-credentials");
    assert.equal(info.remembered, true);
    assert.equal(info.tokenCache, null);
    const notes = await Deno.readTextFile(join(cacheHome, "dedl-dask", "cli-logins.json"));
    assert.ok(!notes.includes(account.client_secret));
    await assert.rejects(Deno.stat(join(cacheHome, "dedl-dask", "refresh-tokens.json")));

    // Later commands use the remembered account with the secret from the environment or stdin.
    const clusters = await cli(["clusters", "--json"], { env });
    assert.equal(clusters.code, 0, clusters.stderr);
    const piped = await cli(["whoami", "--json"], { stdin: `${account.client_secret}\n` });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(JSON.parse(piped.stdout).method, "client-credentials");
    const noSecret = await cli(["whoami"], {});
    assert.equal(noSecret.code, ExitCode.auth);
    assert.match(oneErrorLine(noSecret), new RegExp(`\\$${CLIENT_SECRET_ENV} or pipe it`));

    const wrong = await cli(
      ["whoami", "--client-credentials", "--client-id", account.client_id],
      { env: { [CLIENT_SECRET_ENV]: "not-the-secret" } },
    );
    assert.equal(wrong.code, ExitCode.auth);
    assert.match(oneErrorLine(wrong), /service account "dedl-pipeline" was refused/);

    const logout = await cli(["logout"], {});
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /Forgot the service account/);
    assertNoSecrets(runs, [account.client_secret, "not-the-secret"]);
  });
});

Deno.test("cli login - a secret on the command line, or two ways at once, are usage errors", async () => {
  const cases: [string[], RegExp][] = [
    [["login", "--client-credentials", "--client-secret", "x"], /unknown option --client-secret/],
    [["login", "--desp", "--device"], /choose one way to log in: --desp or --device/],
    [["login", "--otp-stdin"], /--otp-stdin goes with --desp/],
    [["login", "--client-credentials"], /--client-credentials needs --client-id/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli([...args, ...SITES]);
    assert.equal(r.code, ExitCode.usage, `${args.join(" ")}: ${r.stderr}`);
    assert.match(oneErrorLine(r), pattern);
  }
});
