/**
 * Runs every other auth test file in a child `deno test` and checks that its whole stdout and
 * stderr contain no password, one-time code, client secret, access token or refresh token:
 * neither the exact secrets the tests handled (recorded through `testing/secret_log.ts`) nor
 * anything shaped like a JWT.
 */
import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { SECRETS_FILE_ENV } from "./testing/secret_log.ts";

const CHILD_ENV = "DEDL_AUTH_OUTPUT_SCAN_CHILD";
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/g;

/** Descriptions of the secrets found in `output` (never the secrets themselves). */
function findLeaks(output: string, secrets: string[]): string[] {
  const leaks = secrets
    .filter((s) => output.includes(s))
    .map((s) => `a recorded secret (${s.length} chars)`);
  for (const m of output.matchAll(JWT_SHAPE)) leaks.push(`a JWT at offset ${m.index}`);
  return leaks;
}

function redact(output: string, secrets: string[]): string {
  let text = output.replaceAll(JWT_SHAPE, "<jwt>");
  for (const s of secrets) text = text.replaceAll(s, "<secret>");
  return text;
}

Deno.test("auth output - the scan finds a planted password or token", () => {
  const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
  assert.equal(findLeaks("ok\nall fine\n", ["hunter2-password"]).length, 0);
  assert.equal(findLeaks("login with hunter2-password\n", ["hunter2-password"]).length, 1);
  assert.equal(findLeaks(`Authorization: Bearer ${token}\n`, []).length, 1);
});

Deno.test({
  name: "auth output - no password or token in the output of all auth tests",
  ignore: Deno.env.get(CHILD_ENV) === "1",
  async fn() {
    const here = new URL(".", import.meta.url);
    const self = new URL(import.meta.url).pathname.split("/").pop()!;
    const files = [...Deno.readDirSync(here)]
      .map((e) => e.name)
      .filter((name) => name.endsWith("_test.ts") && name !== self)
      .sort();
    assert.ok(files.includes("oidc_auth_test.ts"));
    const secretsFile = await Deno.makeTempFile({ prefix: "dedl-auth-secrets-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "--parallel", ...files],
        cwd: here,
        env: { [SECRETS_FILE_ENV]: secretsFile, [CHILD_ENV]: "1", NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      const output = decoder.decode(run.stdout) + decoder.decode(run.stderr);
      const { users, admin, desp, service_accounts } = await readEndpoints();
      const secrets = [
        ...(await Deno.readTextFile(secretsFile)).split("\n").filter((s) => s.length >= 8),
        ...users.map((u) => u.password),
        admin.password,
        ...desp.users.flatMap((u) => [u.password, ...(u.totp_secret ? [u.totp_secret] : [])]),
        ...service_accounts.map((a) => a.client_secret),
      ];
      assert.ok(run.success, `the auth tests failed:\n${redact(output, secrets).slice(-4000)}`);
      assert.ok(secrets.length > 50, `only ${secrets.length} secrets were recorded`);
      assert.match(output, /passed/);
      assert.deepEqual(findLeaks(output, secrets), []);
    } finally {
      await Deno.remove(secretsFile);
    }
  },
});
