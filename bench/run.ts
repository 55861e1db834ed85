/**
 * dedl-dask measured side by side with the Python clients (`distributed.Client`,
 * `dask_gateway.Gateway`) against the running replica and local schedulers. Prints figures; it
 * never asserts. Every measurement is a fresh process, ours and Python's alternating.
 *
 *   deno task bench                                  # all four, modest repetitions
 *   deno task bench --only cold,transfer --reps 5    # some, more repetitions
 *
 * Benches: `cold` (cold start), `tasks` (10k tasks and a 10k-node graph), `transfer` (256 MiB
 * gather/scatter through the TLS proxy), `multisite` (cluster start at several sites).
 * @module
 */
import type { BenchContext, BenchSettings, SimBackend } from "./bench_context.ts";
import { coldStart } from "./cold_start.ts";
import { BenchFixtures } from "./fixtures.ts";
import { manyTasks } from "./many_tasks.ts";
import { multiSiteStart } from "./multi_site_start.ts";
import { machineDescription, Summary } from "./report.ts";
import { transfer } from "./transfer.ts";
import { PYTHON_ERAS, type PythonEra } from "../tests/replica/python_env.ts";

const BENCHES = {
  cold: { run: coldStart, reps: 3 },
  tasks: { run: manyTasks, reps: 1 },
  transfer: { run: transfer, reps: 2 },
  multisite: { run: multiSiteStart, reps: 1 },
} as const;
type BenchName = keyof typeof BENCHES;

const SIM_BACKENDS: Record<string, readonly SimBackend[]> = {
  inprocess: ["inprocess"],
  process: ["process"],
  both: ["inprocess", "process"],
};

const USAGE = `usage: deno task bench [options]
  --only a,b        benches to run: ${Object.keys(BENCHES).join(", ")} (default: all)
  --reps N          repetitions per client (default: cold 3, tasks 1, transfer 2, multisite 1)
  --tasks N         tasks / graph nodes (default 10000)
  --large-tasks N   tasks of the large map + gather row, 0 to skip (default 50000)
  --payload-mib N   transfer payload in MiB (default 256)
  --sites N         simulated sites for multisite, 0 for none (default 4)
  --sim-backend B   where simulated sites run clusters: inprocess (in the gateway process),
                    process (a process each for scheduler and workers), or both (default
                    inprocess)
  --no-replica-sites  skip the replica's own two sites in multisite
  --no-tcp-reference  skip the direct tcp:// transfer rows
  --eras a,b        releases for cold and tasks: ${PYTHON_ERAS.join(", ")} (default dedl,current;
                    dedl = DEDL's distributed 2023.8.0, current = the newest)
  --user N          replica user index (default 1)`;

interface Flags {
  only: BenchName[];
  reps?: number;
  user: number;
  settings: { -readonly [K in Exclude<keyof BenchSettings, "reps">]: BenchSettings[K] };
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = {
    only: Object.keys(BENCHES) as BenchName[],
    user: 1,
    settings: {
      tasks: 10_000,
      largeTasks: 50_000,
      payloadMiB: 256,
      sites: 4,
      simBackends: ["inprocess"],
      replicaSites: true,
      tcpReference: true,
      eras: ["dedl", "current"],
    },
  };
  const settings = flags.settings;
  const count = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isSafeInteger(n) || n < min) {
      throw new Error(`${name} needs an integer >= ${min}\n${USAGE}`);
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    switch (arg) {
      case "--only": {
        const names = (args[++i] ?? "").split(",").filter(Boolean);
        const unknown = names.filter((n) => !(n in BENCHES));
        if (names.length === 0 || unknown.length > 0) {
          throw new Error(`unknown bench ${unknown.join(", ") || "(none)"}\n${USAGE}`);
        }
        flags.only = names as BenchName[];
        break;
      }
      case "--reps":
        flags.reps = count(arg, args[++i], 1);
        break;
      case "--tasks":
        settings.tasks = count(arg, args[++i], 102);
        break;
      case "--large-tasks":
        settings.largeTasks = count(arg, args[++i], 0);
        break;
      case "--payload-mib":
        settings.payloadMiB = count(arg, args[++i], 1);
        break;
      case "--sites":
        settings.sites = count(arg, args[++i], 0);
        break;
      case "--sim-backend": {
        const value = args[++i] ?? "";
        if (!Object.hasOwn(SIM_BACKENDS, value)) {
          throw new Error(`--sim-backend needs inprocess, process or both\n${USAGE}`);
        }
        settings.simBackends = SIM_BACKENDS[value];
        break;
      }
      case "--eras": {
        const eras = (args[++i] ?? "").split(",").filter(Boolean);
        const unknown = eras.filter((e) => !(PYTHON_ERAS as readonly string[]).includes(e));
        if (eras.length === 0 || unknown.length > 0) {
          throw new Error(`unknown era ${unknown.join(", ") || "(none)"}\n${USAGE}`);
        }
        settings.eras = eras as PythonEra[];
        break;
      }
      case "--user":
        flags.user = count(arg, args[++i], 0);
        break;
      case "--no-replica-sites":
        settings.replicaSites = false;
        break;
      case "--no-tcp-reference":
        settings.tcpReference = false;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return flags;
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    flags = parseFlags(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const fx = await BenchFixtures.create(flags.user);
  const summary = new Summary();
  const machine = await machineDescription(fx.python);
  console.log(machine.join("\n"));
  console.log(`command: deno task bench ${Deno.args.join(" ")}`.trimEnd());

  // Ctrl-C: the children stop their own clusters; the fixtures are stopped here.
  const interrupted = new Promise<void>((resolve) => Deno.addSignalListener("SIGINT", resolve));
  const benches = (async () => {
    for (const name of flags.only) {
      const bench = BENCHES[name];
      const settings = { ...flags.settings, reps: flags.reps ?? bench.reps };
      const ctx: BenchContext = { fx, summary, settings };
      console.log(`\n## ${name} (${settings.reps} repetition(s) per client)`);
      const t0 = performance.now();
      try {
        await bench.run(ctx);
      } catch (e) {
        console.error(`bench ${name} failed: ${e instanceof Error ? e.message : e}`);
      }
      console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  })();
  const outcome = await Promise.race([benches.then(() => "done"), interrupted.then(() => "int")]);
  console.log("\nstopping fixtures…");
  await fx[Symbol.asyncDispose]();
  if (outcome === "int") Deno.exit(130);
  console.log("\n" + machine.map((l) => `    ${l}`).join("\n") + "\n");
  console.log(summary.markdown());
  Deno.exit(0);
}

await main();
