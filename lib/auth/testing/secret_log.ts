/**
 * Test support: the secrets a test run handled (passwords, tokens), written to the file named by
 * `DEDL_AUTH_SECRETS_FILE` so that `no_secret_output_test.ts` can look for them in the run's
 * output. Without that variable nothing is recorded.
 * @module
 */

/** Environment variable naming the file secrets are appended to, one per line. */
export const SECRETS_FILE_ENV = "DEDL_AUTH_SECRETS_FILE";

/** Appends `secret` to the secrets file, if one is configured. */
export function recordSecret(secret: string | undefined): void {
  const path = Deno.env.get(SECRETS_FILE_ENV);
  if (!path || !secret) return;
  Deno.writeTextFileSync(path, secret + "\n", { append: true, mode: 0o600 });
}
