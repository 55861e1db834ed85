/**
 * Where a command's results and problems go: results on stdout (an aligned table for people, or
 * JSON with `--json`), problems on stderr as one line each (`dedl-dask: …`), with the stack and
 * causes only under `--debug`.
 * @module
 */
import { formatTable } from "./table.ts";

/** A command's output channel. */
export class Output {
  constructor(
    /** Results as JSON (`--json`). */
    readonly json: boolean,
    /** Failures with stack traces (`--debug`). */
    readonly debug: boolean = false,
  ) {}

  /** A line of results for people (not printed with `--json`). */
  line(text: string): void {
    if (!this.json) console.log(text);
  }

  /** A table for people, or `data` as JSON with `--json`. */
  result(data: unknown, headers: readonly string[], rows: readonly (readonly string[])[]): void {
    if (this.json) this.data(data);
    else if (rows.length > 0) console.log(formatTable(headers, rows));
  }

  /** `data` as JSON on stdout (always). */
  data(data: unknown): void {
    console.log(JSON.stringify(data, null, 2));
  }

  /** A notice on stderr that is not a failure. */
  note(text: string): void {
    console.error(`dedl-dask: ${oneLine(text)}`);
  }

  /** A failure on stderr: one line; under `--debug` also its stack and causes. */
  error(error: unknown): void {
    console.error(`dedl-dask: ${oneLine(messageOf(error))}`);
    if (!this.debug) return;
    let cause: unknown = error;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      console.error(cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
      if (cause !== undefined) console.error("caused by:");
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** A time as an ISO string without milliseconds, or `-`. */
export function timestamp(date: Date | null | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : "-";
}
