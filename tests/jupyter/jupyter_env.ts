/**
 * Test support: Jupyter without JupyterLab — Deno's kernel installed into a temporary Jupyter
 * data folder, and Jupyter's own headless executor (`nbclient` from PyPI, pinned in
 * `requirements.txt`) in a Python environment cached under the project's cache root.
 *
 * ```ts
 * await using jupyter = await DenoJupyter.install();
 * const run = await jupyter.execute("examples/dedl_dask.ipynb", { env: { DEDL_DASK_REPLICA: path } });
 * ```
 * @module
 */
import { join } from "node:path";
import { cacheRoot, digest, exists } from "../replica/cache.ts";
import { withFileLock } from "../replica/python_env.ts";

/** One output of a cell, as nbformat stores it. */
export interface CellOutput {
  readonly output_type: "stream" | "display_data" | "execute_result" | "error";
  /** Stream outputs: `stdout` or `stderr`. */
  readonly name?: string;
  /** Stream outputs: the text. */
  readonly text?: string;
  /** Display data and results: the MIME bundle. */
  readonly data?: Record<string, string>;
  /** Errors. */
  readonly ename?: string;
  readonly evalue?: string;
  readonly traceback?: string[];
}

/** What running a notebook gave: each code cell's source and outputs. */
export interface ExecutedNotebook {
  readonly cells: { readonly source: string; readonly outputs: CellOutput[] }[];
  /** Why the run stopped early (a cell raised), else `null`. */
  readonly error: string | null;
}

const REQUIREMENTS = new URL("./requirements.txt", import.meta.url);
const EXECUTE = new URL("./execute_notebook.py", import.meta.url).pathname;

/** The Python with nbclient, installed once per version of the requirements. */
export async function nbclientPython(): Promise<string> {
  const requirements = await Deno.readTextFile(REQUIREMENTS);
  const dir = join(cacheRoot(), `venv-jupyter-${await digest(requirements)}`);
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".installed");
  if (await exists(marker)) return python;
  await Deno.mkdir(cacheRoot(), { recursive: true });
  await withFileLock(join(cacheRoot(), "venv-jupyter.lock"), async () => {
    if (await exists(marker)) return;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await run("python3", ["-m", "venv", dir]);
    await run(python, ["-m", "pip", "install", "-q", "-r", REQUIREMENTS.pathname]);
    await Deno.writeTextFile(marker, new Date().toISOString());
  });
  return python;
}

/** Deno's Jupyter kernel in a temporary data folder; disposing removes the folder. */
export class DenoJupyter implements AsyncDisposable {
  private constructor(
    /** The temporary Jupyter data folder (`<dir>/kernels/deno/kernel.json`). */
    readonly dataDir: string,
    /** The kernel spec as installed. */
    readonly kernelSpec: { argv: string[]; display_name: string; language: string },
    private readonly python: string,
    private readonly root: string,
  ) {}

  /**
   * Installs the kernel spec with `deno jupyter --install`, run by `deno` (default: the deno
   * running this process — under `npx deno@…` the binary npm installed, which the spec then
   * names). The spec goes to `$XDG_DATA_HOME/jupyter` on Linux, so that variable points it at a
   * temporary folder; the user's own Jupyter folders are never touched.
   */
  static async install(deno: string = Deno.execPath()): Promise<DenoJupyter> {
    const python = await nbclientPython();
    const root = await Deno.makeTempDir({ prefix: "dedl-dask-jupyter-" });
    const dataDir = join(root, "jupyter");
    try {
      const out = await new Deno.Command(deno, {
        args: ["jupyter", "--install", "--force"],
        env: { XDG_DATA_HOME: root, JUPYTER_DATA_DIR: dataDir },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const spec = join(dataDir, "kernels", "deno", "kernel.json");
      if (!out.success || !(await exists(spec))) {
        const text = new TextDecoder().decode(new Uint8Array([...out.stdout, ...out.stderr]));
        throw new Error(
          `deno jupyter --install did not write ${spec} (exit ${out.code}):\n${text}`,
        );
      }
      const kernelSpec = JSON.parse(await Deno.readTextFile(spec));
      return new DenoJupyter(dataDir, kernelSpec, python, root);
    } catch (e) {
      await Deno.remove(root, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /**
   * Executes a notebook with nbclient and this kernel; `env` is added to the kernel's
   * environment. Every cell gets `cellTimeoutS`; the whole run `timeoutMs`.
   */
  async execute(
    notebook: string,
    options: { env?: Record<string, string>; cellTimeoutS?: number; timeoutMs?: number } = {},
  ): Promise<ExecutedNotebook> {
    const out = await new Deno.Command(this.python, {
      args: [EXECUTE, notebook, "deno", String(options.cellTimeoutS ?? 600)],
      env: {
        ...options.env,
        JUPYTER_PATH: this.dataDir,
        JUPYTER_DATA_DIR: this.dataDir,
        JUPYTER_RUNTIME_DIR: join(this.root, "runtime"),
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 1_800_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || !stdout) {
      const stderr = new TextDecoder().decode(out.stderr).slice(-4000);
      throw new Error(`executing ${notebook} failed (exit ${out.code}):\n${stderr}`);
    }
    return JSON.parse(stdout.split("\n").pop()!) as ExecutedNotebook;
  }

  /** Removes the temporary folder. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).slice(-4000);
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${err}`);
  }
}
