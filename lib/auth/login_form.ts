/**
 * Reading a Keycloak login page (HTML) the way a person does: its forms (action, fields, submit
 * button), the labels of the fields, and the error messages it shows. A small tolerant HTML
 * reader, enough for server-rendered login pages: it never runs scripts and never throws on bad
 * markup; what it cannot find is simply absent, and the caller decides what that means.
 * @module
 */

/** One input of a form. */
export interface FormField {
  /** `name` (what is sent). */
  readonly name: string;
  /** `type`, lower case (`text` when absent; `submit` for buttons). */
  readonly type: string;
  /** `value` as written in the page. */
  readonly value: string;
  readonly id?: string;
  readonly autocomplete?: string;
  readonly placeholder?: string;
  /** Text of the `<label for=…>` of this field, if any. */
  readonly label?: string;
}

/** One form of the page. */
export interface PageForm {
  readonly id?: string;
  /** Absolute URL the form is sent to. */
  readonly action: string;
  /** `get` or `post`. */
  readonly method: string;
  /** Every named input, select, textarea and button, in page order. */
  readonly fields: readonly FormField[];
}

/** What a login page shows. */
export interface LoginPage {
  /** The page's URL (after redirects). */
  readonly url: string;
  /** `<title>`, or Keycloak's page title (`#kc-page-title`). */
  readonly title: string;
  readonly forms: readonly PageForm[];
  /**
   * Error messages shown on the page: Keycloak's field errors (`#input-error…`), alerts of the
   * error kind (`.kc-feedback-text` inside an error/danger box) and error pages
   * (`#kc-error-message`).
   */
  readonly errors: readonly string[];
}

/** Reads the page. `url` resolves relative form actions. */
export function parseLoginPage(html: string, url: string): LoginPage {
  const root = parseHtml(html);
  const elements = [...descendants(root)];
  const labels = new Map<string, string>();
  for (const e of elements) {
    if (e.tag === "label" && e.attrs.for) labels.set(e.attrs.for, textOf(e));
  }
  const forms = elements.filter((e) => e.tag === "form").map((form): PageForm => {
    const fields: FormField[] = [];
    for (const e of descendants(form)) {
      const name = e.attrs.name;
      if (!name || !["input", "select", "textarea", "button"].includes(e.tag)) continue;
      const type = (e.attrs.type ?? (e.tag === "button" ? "submit" : "text")).toLowerCase();
      const label = e.attrs.id ? labels.get(e.attrs.id) : undefined;
      fields.push({
        name,
        type,
        value: e.tag === "textarea" ? textOf(e) : e.attrs.value ?? "",
        ...(e.attrs.id ? { id: e.attrs.id } : {}),
        ...(e.attrs.autocomplete ? { autocomplete: e.attrs.autocomplete } : {}),
        ...(e.attrs.placeholder ? { placeholder: e.attrs.placeholder } : {}),
        ...(label ? { label } : {}),
      });
    }
    return {
      ...(form.attrs.id ? { id: form.attrs.id } : {}),
      action: resolveUrl(form.attrs.action ?? "", url),
      method: (form.attrs.method ?? "get").toLowerCase(),
      fields,
    };
  });
  const errors = new Set<string>();
  const addError = (e: Element) => {
    const text = textOf(e);
    if (text) errors.add(text);
  };
  for (const e of elements) {
    const id = e.attrs.id ?? "";
    if (/^input-error(?!-container)/.test(id) || id === "kc-error-message") addError(e);
    else if (/\bkc-feedback-text\b/.test(e.attrs.class ?? "") && inErrorBox(e)) addError(e);
  }
  const title = elements.find((e) => e.attrs.id === "kc-page-title") ??
    elements.find((e) => e.tag === "title");
  return { url, title: title ? textOf(title) : "", forms, errors: [...errors] };
}

/** The form asking for a username and a password, if the page has one. */
export function passwordForm(page: LoginPage): PageForm | undefined {
  return page.forms.find((f) =>
    f.fields.some((x) => x.type === "password" || x.name === "password") &&
    f.fields.some((x) => x.name === "username")
  );
}

const ONE_TIME_CODE = /\botp\b|totp|one[- ]?time|verification code|authenticator code/i;

/**
 * The form asking for a one-time code, and the name of its code field: a form without a
 * password field with an input whose name, id, autocomplete, placeholder or label speaks of a
 * one-time code (`otp`, `one-time-code`, "One-time code", "verification code").
 */
export function oneTimeCodeForm(page: LoginPage): { form: PageForm; field: string } | undefined {
  for (const form of page.forms) {
    if (form.fields.some((x) => x.type === "password")) continue;
    const field = form.fields.find((x) =>
      !["hidden", "submit", "button", "checkbox", "radio"].includes(x.type) &&
      [x.name, x.id, x.autocomplete, x.placeholder, x.label].some((s) =>
        s !== undefined && ONE_TIME_CODE.test(s)
      )
    );
    if (field) return { form, field: field.name };
  }
  return undefined;
}

/**
 * The body a browser sends for `form` when its first submit button is pressed: the hidden
 * fields and values as written, the submit button's name, and `values` (which win).
 */
export function formSubmission(form: PageForm, values: Record<string, string>): URLSearchParams {
  const body = new URLSearchParams();
  for (const f of form.fields) {
    if (f.type === "hidden" && !(f.name in values)) body.append(f.name, f.value);
  }
  const submit = form.fields.find((f) => f.type === "submit");
  if (submit && !(submit.name in values)) body.append(submit.name, submit.value);
  for (const [name, value] of Object.entries(values)) body.append(name, value);
  return body;
}

// --- A tolerant HTML reader -------------------------------------------------------------------

interface Element {
  tag: string;
  attrs: Record<string, string>;
  children: (Element | string)[];
  parent?: Element;
}

const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);
/** Elements whose content is text up to their end tag. */
const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

const ATTRIBUTE = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
/** Deeper elements are kept as leaves: a hostile page cannot make the walks quadratic. */
const MAX_DEPTH = 256;

/**
 * Builds the element tree in one pass that never goes back (as browsers do): a `<` followed by
 * a letter opens a tag that ends at the first `>` outside a quoted attribute value, or with the
 * page.
 */
function parseHtml(html: string): Element {
  const lower = html.toLowerCase();
  const root: Element = { tag: "#root", attrs: {}, children: [] };
  let current = root;
  let depth = 0;
  let at = 0;
  while (at < html.length) {
    const lt = html.indexOf("<", at);
    if (lt < 0) {
      current.children.push(decodeEntities(html.slice(at)));
      break;
    }
    if (lt > at) current.children.push(decodeEntities(html.slice(at, lt)));
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      at = end < 0 ? html.length : end + 3;
      continue;
    }
    if (html.startsWith("<!", lt) || html.startsWith("<?", lt)) {
      const end = html.indexOf(">", lt);
      at = end < 0 ? html.length : end + 1;
      continue;
    }
    const tag = scanTag(html, lt);
    if (tag === null) break; // an unfinished tag at the end of the page
    if (!tag) {
      current.children.push("<");
      at = lt + 1;
      continue;
    }
    at = tag.end;
    if (tag.closing) {
      // Close up to the matching open element; a stray end tag is ignored.
      let levels = 1;
      for (let e: Element | undefined = current; e && e !== root; e = e.parent, levels++) {
        if (e.tag === tag.name) {
          current = e.parent ?? root;
          depth -= levels;
          break;
        }
      }
      continue;
    }
    if (tag.name === "form" && insideForm(current)) continue; // browsers ignore nested forms
    const element: Element = {
      tag: tag.name,
      attrs: parseAttributes(tag.attributes),
      children: [],
      parent: current,
    };
    current.children.push(element);
    if (VOID.has(tag.name) || tag.selfClosing || depth >= MAX_DEPTH) continue;
    if (RAW_TEXT.has(tag.name)) {
      const end = lower.indexOf(`</${tag.name}`, at);
      const stop = end < 0 ? html.length : end;
      const raw = tag.name === "script" || tag.name === "style";
      element.children.push(raw ? "" : decodeEntities(html.slice(at, stop)));
      const close = end < 0 ? -1 : html.indexOf(">", end);
      at = close < 0 ? html.length : close + 1;
      continue;
    }
    current = element;
    depth++;
  }
  return root;
}

interface ScannedTag {
  name: string;
  closing: boolean;
  attributes: string;
  selfClosing: boolean;
  /** Index after the `>`. */
  end: number;
}

/**
 * The tag starting at `lt`, if `<` starts one (`<name` or `</name`). Quotes count only as an
 * attribute value (after `=`), so a stray quote cannot swallow the page; a tag without its `>`
 * runs to the end of the page and is dropped (`null`).
 */
function scanTag(html: string, lt: number): ScannedTag | undefined | null {
  let i = lt + 1;
  const closing = html[i] === "/";
  if (closing) i++;
  const nameStart = i;
  while (i < html.length && /[a-zA-Z0-9-]/.test(html[i])) i++;
  if (i === nameStart || !/[a-zA-Z]/.test(html[nameStart])) return undefined;
  const name = html.slice(nameStart, i).toLowerCase();
  const attributesStart = i;
  let quote = "";
  let afterEquals = false;
  for (; i < html.length; i++) {
    const c = html[i];
    if (quote) {
      if (c === quote) quote = "";
      continue;
    }
    if (c === ">") break;
    if ((c === '"' || c === "'") && afterEquals) quote = c;
    else if (c === "=") afterEquals = true;
    else if (!/\s/.test(c)) afterEquals = false;
  }
  if (i >= html.length) return null;
  const attributes = html.slice(attributesStart, i);
  return {
    name,
    closing,
    attributes: attributes.replace(/\/\s*$/, ""),
    selfClosing: /\/\s*$/.test(attributes),
    end: i + 1,
  };
}

function parseAttributes(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of text.matchAll(ATTRIBUTE)) {
    const name = m[1].toLowerCase();
    if (!(name in attrs)) attrs[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return attrs;
}

/** Every element below `e`, in document order (a loop, not recursion: cost is the subtree's). */
function descendants(e: Element): Element[] {
  const out: Element[] = [];
  const stack: Element[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x !== e) out.push(x);
    for (let i = x.children.length - 1; i >= 0; i--) {
      const child = x.children[i];
      if (typeof child !== "string") stack.push(child);
    }
  }
  return out;
}

/** The visible text of an element, whitespace collapsed. */
function textOf(e: Element): string {
  const parts: string[] = [];
  const stack: (Element | string)[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (typeof x === "string") parts.push(x);
    else if (x.tag !== "script" && x.tag !== "style") {
      for (let i = x.children.length - 1; i >= 0; i--) stack.push(x.children[i]);
    }
  }
  return parts.join(" ").replace(/\s+/g, " ").trim();
}

function insideForm(e: Element | undefined): boolean {
  for (; e; e = e.parent) if (e.tag === "form") return true;
  return false;
}

function inErrorBox(e: Element): boolean {
  for (let x: Element | undefined = e; x; x = x.parent) {
    if (/error|danger/i.test(x.attrs.class ?? "")) return true;
  }
  return false;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X"
        ? parseInt(body.slice(2), 16)
        : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function resolveUrl(href: string, base: string): string {
  try {
    return new URL(href, base).href;
  } catch {
    return base;
  }
}
