/**
 * The login page reader on hand-written pages shaped like Keycloak's two login themes (the
 * current `keycloak.v2` and the older `keycloak` one that DESP's pages derive from), on broken
 * markup, and fuzzed from those and the replica's real DESP login page (fixed seed;
 * `DEDL_FUZZ_ITERATIONS` runs longer). The whole login through real pages is in
 * `desp_login_test.ts`.
 */
import assert from "node:assert/strict";
import { fuzzIterations, SeededRandom } from "../../protocol/testing/seeded_random.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { formSubmission, oneTimeCodeForm, parseLoginPage, passwordForm } from "./login_form.ts";

const PAGE_URL = "https://auth.example.org/realms/desp/protocol/openid-connect/auth?client_id=x";

const V2_LOGIN_WITH_ERROR = `<!DOCTYPE html>
<html><head><title>Sign in to DESP</title>
<script>if (a < b && c > d) { document.write("<form action='/evil'>"); }</script></head>
<body>
<h1 id="kc-page-title">  Sign in to your account </h1>
<form id="kc-form-login" onsubmit="login.disabled = true; return true;"
  action="/realms/desp/login-actions/authenticate?session_code=abc&amp;execution=e1&amp;tab_id=t"
  method="post" novalidate="novalidate">
  <label for="username">Username or email</label>
  <input id="username" name="username" value="carol" type="text" autocomplete="username" autofocus
         aria-invalid="true"/>
  <div id="input-error-container-username">
    <div class="pf-v5-c-helper-text__item pf-m-error" id="input-error-username">
      <span class="pf-m-error kc-feedback-text">Invalid username or password.</span>
    </div>
  </div>
  <input id="password" name="password" value="" type="password" autocomplete="current-password">
  <button type="button" aria-label="Show password">eye</button>
  <input type="hidden" id="id-hidden-input" name="credentialId" />
  <button class="pf-m-primary" name="login" id="kc-login" type="submit">Sign In</button>
</form>
<div class="pf-v5-c-alert pf-m-info"><span class="kc-feedback-text">Just information</span></div>
</body></html>`;

const V1_LOGIN_WITH_ERROR = `<html><body>
<FORM id=kc-form-login action='https://auth.example.org/realms/desp/login-actions/authenticate?execution=x&amp;client_id=dedl-hda' METHOD=POST>
<input tabindex=1 id=username name=username type=text autofocus>
<input tabindex=2 id=password name=password type=password>
<span id="input-error" class="kc-input-error-message" aria-live="polite">
    Invalid username or password.
</span>
<input tabindex=4 class="btn" name=login id=kc-login type=submit value="Sign In"/>
</FORM></body></html>`;

const OTP_PAGE = `<html><body><form id="kc-otp-login-form" action="/otp?x=1&amp;y=2" method="post">
<input id="selectedCredentialId" type="hidden" name="selectedCredentialId" value="cred-1">
<label for="otp"><span>One-time code</span></label>
<input id="otp" name="otp" value="" type="text" autocomplete="one-time-code" inputmode="numeric"/>
<div id="input-error-otp"><span class="kc-feedback-text">Invalid authenticator code.</span></div>
<button name="login" id="kc-login" type="submit">Sign In</button>
</form></body></html>`;

Deno.test("login form - Keycloak v2 login page: form, fields, labels, errors, title", () => {
  const page = parseLoginPage(V2_LOGIN_WITH_ERROR, PAGE_URL);
  assert.equal(page.title, "Sign in to your account");
  assert.equal(page.forms.length, 1); // the form written by the script is not one
  const form = passwordForm(page)!;
  assert.equal(form.id, "kc-form-login");
  assert.equal(
    form.action,
    "https://auth.example.org/realms/desp/login-actions/authenticate?session_code=abc&execution=e1&tab_id=t",
  );
  assert.equal(form.method, "post");
  assert.deepEqual(form.fields.map((f) => `${f.name}:${f.type}`), [
    "username:text",
    "password:password",
    "credentialId:hidden",
    "login:submit",
  ]);
  assert.equal(form.fields[0].value, "carol");
  assert.equal(form.fields[0].label, "Username or email");
  assert.deepEqual(page.errors, ["Invalid username or password."]);
  assert.equal(oneTimeCodeForm(page), undefined);
});

Deno.test("login form - older theme: unquoted attributes, upper case tags, span#input-error", () => {
  const page = parseLoginPage(V1_LOGIN_WITH_ERROR, PAGE_URL);
  const form = passwordForm(page)!;
  assert.equal(
    form.action,
    "https://auth.example.org/realms/desp/login-actions/authenticate?execution=x&client_id=dedl-hda",
  );
  assert.deepEqual(page.errors, ["Invalid username or password."]);
  const body = formSubmission(form, { username: "carol", password: "p&ss word" });
  assert.equal(body.toString(), "login=Sign+In&username=carol&password=p%26ss+word");
});

Deno.test("login form - one-time code page: the form, its code field, and what is sent", () => {
  const page = parseLoginPage(OTP_PAGE, PAGE_URL);
  assert.equal(passwordForm(page), undefined);
  const otp = oneTimeCodeForm(page)!;
  assert.equal(otp.field, "otp");
  assert.equal(otp.form.action, "https://auth.example.org/otp?x=1&y=2");
  assert.deepEqual(page.errors, ["Invalid authenticator code."]);
  assert.equal(
    formSubmission(otp.form, { otp: "123456" }).toString(),
    "selectedCredentialId=cred-1&login=&otp=123456",
  );
});

Deno.test("login form - a code field is found by its label or placeholder too", () => {
  for (
    const input of [
      `<label for="c">Verification code</label><input id="c" name="c" type="text">`,
      `<input name="code" type="tel" placeholder="One-time password">`,
      `<input name="totp" type="number">`,
    ]
  ) {
    const page = parseLoginPage(`<form action="/x" method="post">${input}</form>`, PAGE_URL);
    assert.ok(oneTimeCodeForm(page), input);
  }
  const plain = parseLoginPage(
    `<form action="/x"><input name="email" type="text"><input type="hidden" name="otp"></form>`,
    PAGE_URL,
  );
  assert.equal(oneTimeCodeForm(plain), undefined);
});

Deno.test("login form - a page without forms, and broken markup, give empty results", () => {
  const error = parseLoginPage(
    `<html><title>Error</title><div id="kc-error-message"><p class="instruction">
     Invalid parameter: redirect_uri</p></div>`,
    PAGE_URL,
  );
  assert.deepEqual(error.forms, []);
  assert.deepEqual(error.errors, ["Invalid parameter: redirect_uri"]);
  assert.equal(error.title, "Error");
  for (
    const html of [
      "",
      "<",
      "<form",
      '<form action="/a><input name=username>',
      "<!-- <form action='/hidden'><input name=username><input type=password name=password>",
      "</div></form><<>>&#xZZ;&bogus;",
      '<form action="/a"><input name="username"><input name="password" type="password"',
    ]
  ) {
    const page = parseLoginPage(html, PAGE_URL);
    assert.equal(passwordForm(page), undefined, html);
  }
});

Deno.test("login form - character references in attributes and text are decoded", () => {
  const page = parseLoginPage(
    `<title>A &amp; B &#8211; &#x41;&lt;</title>` +
      `<form action="/a?b=1&amp;c=&quot;2&quot;"><input name="n" value="&#39;x&#39;"></form>`,
    PAGE_URL,
  );
  assert.equal(page.title, "A & B \u2013 A<");
  assert.equal(page.forms[0].action, "https://auth.example.org/a?b=1&c=%222%22");
  assert.equal(page.forms[0].fields[0].value, "'x'");
});

Deno.test("login form - hostile markup is read in linear time", () => {
  const size = 200_000;
  const pages = [
    "<".repeat(size),
    "<a b='".repeat(size / 6),
    '<a b="'.repeat(size / 6) + ">",
    "<div>".repeat(size / 5) + "</span>".repeat(size / 7),
    "<form action=x>".repeat(size / 15) + "<input name=otp>",
    "<!--".repeat(size / 4),
    "<script>".repeat(size / 8),
    "&#x".repeat(size / 3),
    `<span id="input-error">x</span>`.repeat(size / 30),
  ];
  for (const html of pages) {
    const started = performance.now();
    const page = parseLoginPage(html, PAGE_URL);
    oneTimeCodeForm(page);
    passwordForm(page);
    const ms = performance.now() - started;
    assert.ok(ms < 2_000, `${html.slice(0, 20)}…: ${ms.toFixed(0)} ms`);
  }
});

Deno.test("login form fuzz - mutated login pages never make the reader throw", async () => {
  const ep = await readEndpoints();
  const authorize = new URL(`${ep.desp.issuer}/protocol/openid-connect/auth`);
  authorize.search = new URLSearchParams({
    client_id: "dedl-hda",
    redirect_uri: "https://hda.data.destination-earth.eu/stac",
    response_type: "code",
    scope: "openid",
  }).toString();
  const real = await fetch(authorize, { signal: AbortSignal.timeout(10_000) });
  assert.equal(real.status, 200);
  const seeds = [await real.text(), V2_LOGIN_WITH_ERROR, V1_LOGIN_WITH_ERROR, OTP_PAGE];
  assert.ok(passwordForm(parseLoginPage(seeds[0], authorize.href)));
  const pieces = [
    "<",
    ">",
    '"',
    "'",
    "=",
    "&",
    "&amp;",
    "<!--",
    "-->",
    "<form",
    "</form>",
    "<input name=otp>",
    "<script>",
    "</div>",
    "/>",
    "\u0000",
    "\ud800",
  ];
  const rnd = new SeededRandom(0x10f0);
  const iterations = fuzzIterations(300);
  for (let n = 0; n < iterations; n++) {
    let html = seeds[rnd.int(seeds.length)];
    for (let edits = 1 + rnd.int(8); edits > 0; edits--) {
      const at = rnd.int(html.length + 1);
      const op = rnd.int(3);
      const piece = pieces[rnd.int(pieces.length)];
      if (op === 0) html = html.slice(0, at) + piece + html.slice(at);
      else if (op === 1) html = html.slice(0, at) + html.slice(at + 1 + rnd.int(40));
      else html = html.slice(0, at) + html.slice(rnd.int(html.length + 1));
    }
    const page = parseLoginPage(html, authorize.href);
    for (const form of page.forms) {
      assert.ok(URL.canParse(form.action));
      formSubmission(form, { username: "u", password: "p" });
    }
    oneTimeCodeForm(page);
    passwordForm(page);
  }
});
