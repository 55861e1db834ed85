/**
 * A user script that is interrupted: it starts clusters at every replica site as the replica's
 * second user, with {@linkcode stopClustersOnSignal} (`exit: true`, and a line of its own on
 * stderr when the signal arrives), printing "connected" before the start and "computing" after
 * it, then waits on a long task until a signal arrives. Its journal is `$DEDL_DASK_JOURNAL`.
 *
 * With the argument `deprecated-option` it uses the deprecated `handleSignals: true` instead,
 * starts no cluster, prints "waiting" and waits.
 * @module
 */
import { py } from "../../../protocol/mod.ts";
import { readEndpoints } from "../../../tests/replica/endpoints.ts";
import { replicaLogin } from "../../gateway/testing/replica_login.ts";
import { MultiCluster } from "../multi_cluster.ts";
import { stopClustersOnSignal } from "../stop_on_signal.ts";

const ep = await readEndpoints();
const auth = await replicaLogin(1);
if (Deno.args[0] === "deprecated-option") {
  await MultiCluster.connect({ auth, sites: ep.sites, handleSignals: true });
  console.log("waiting");
  await new Promise((resolve) => setTimeout(resolve, 600_000));
} else {
  const mc = await MultiCluster.connect({ auth, sites: ep.sites });
  stopClustersOnSignal(mc, {
    onSignal: (signal) => console.error(`script: ${signal}: stopping`),
    exit: true,
  });
  console.log("connected");
  const outcomes = await mc.newCluster({}, { adapt: { minimum: 1, maximum: 1 } });
  if (!outcomes.every((o) => o.ok)) throw new Error("a site failed to start a cluster");
  console.log("computing");
  await mc.compute(py.call(py.fn("time.sleep"), 600).withAttrs({ location: "central" }));
}
