import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { PasswordEntryCancelled } from "./errors.ts";
import { PasswordLine } from "./terminal_prompts.ts";
import { recordSecret } from "./testing/secret_log.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function typed(...chunks: string[]): string {
  const line = new PasswordLine();
  for (const chunk of chunks) line.feed(bytes(chunk));
  assert.ok(line.done);
  return line.take();
}

Deno.test("password line - Enter (CR or LF) ends the line; later bytes are ignored", () => {
  assert.equal(typed("secret\r"), "secret");
  assert.equal(typed("sec", "ret\n", "more\r"), "secret");
});

Deno.test("password line - Backspace and Delete remove one whole UTF-8 character", () => {
  assert.equal(typed("abx\x7fc\r"), "abc");
  assert.equal(typed("ab\u00e9\x08c\r"), "abc"); // é is two bytes
  assert.equal(typed("a\u{1F511}\x7f\x7fb\r"), "b"); // the key emoji is four bytes
  assert.equal(typed("\x7f\x7fok\r"), "ok");
});

Deno.test("password line - Ctrl-U clears the line", () => {
  assert.equal(typed("wrong\x15right\r"), "right");
});

Deno.test("password line - Ctrl-C cancels; Ctrl-D cancels only on an empty line", () => {
  assert.throws(() => new PasswordLine().feed(bytes("abc\x03")), PasswordEntryCancelled);
  assert.throws(() => new PasswordLine().feed(bytes("\x04")), PasswordEntryCancelled);
  assert.equal(typed("ab\x04c\r"), "abc");
});

Deno.test("password line - take() empties the buffer", () => {
  const line = new PasswordLine();
  line.feed(bytes("secret\r"));
  assert.equal(line.take(), "secret");
  assert.equal(line.take(), "");
});

const PROMPT_SCRIPT = `
import { readPasswordFromTerminal } from ${
  JSON.stringify(new URL("./terminal_prompts.ts", import.meta.url).href)
};
try {
  const password = await readPasswordFromTerminal("Password: ");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(password));
  console.log("SHA256=" + Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(""));
} catch (e) {
  console.log("ERROR=" + e.name);
}
`;

async function promptScript(): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(path, PROMPT_SCRIPT);
  return path;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `script` in a pseudo-terminal (Python's pty), types `keys` after the prompt. */
async function runInTerminal(script: string, keys: string): Promise<string> {
  const { python } = await readEndpoints();
  const driver = `
import os, pty, select, sys, time
deno, script, keys = sys.argv[1], sys.argv[2], sys.argv[3].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(deno, [deno, "run", "-A", "--no-check", script])
out = b""
deadline = time.time() + 60
while b"Password: " not in out and time.time() < deadline:
    if select.select([fd], [], [], 1)[0]:
        out += os.read(fd, 4096)
os.write(fd, keys)
while time.time() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
`;
  const out = await new Deno.Command(python, {
    args: ["-c", driver, Deno.execPath(), script, keys],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("password prompt - reads from a terminal without echo, with line editing", async () => {
  const script = await promptScript();
  try {
    const password = `pty-secret-${crypto.randomUUID()}`;
    recordSecret(password);
    const screen = await runInTerminal(script, `${password}x\x7f\r`);
    assert.match(screen, /Password: /);
    assert.ok(screen.includes(`SHA256=${await sha256Hex(password)}`), screen);
    assert.ok(!screen.includes(password.slice(0, 12)), "the password was echoed");
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("password prompt - Ctrl-C in the terminal cancels", async () => {
  const script = await promptScript();
  try {
    assert.match(await runInTerminal(script, "abc\x03"), /ERROR=PasswordEntryCancelled/);
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("password prompt - without a terminal it fails at once with PasswordUnavailable", async () => {
  const script = await promptScript();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.match(new TextDecoder().decode(out.stdout), /ERROR=PasswordUnavailable/);
  } finally {
    await Deno.remove(script);
  }
});
