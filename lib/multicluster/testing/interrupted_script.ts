/**
 * A user script that is interrupted: it starts clusters at every replica site as the replica's
 * second user, prints "computing", then waits on a long task until a signal arrives.
 * @module
 */
import { py } from "../../../protocol/mod.ts";
import { readEndpoints } from "../../../tests/replica/endpoints.ts";
import { replicaLogin } from "../../gateway/testing/replica_login.ts";
import { MultiCluster } from "../multi_cluster.ts";

const ep = await readEndpoints();
const auth = await replicaLogin(1);
const mc = await MultiCluster.connect({ auth, sites: ep.sites });
const outcomes = await mc.newCluster({}, { adapt: { minimum: 1, maximum: 1 } });
if (!outcomes.every((o) => o.ok)) throw new Error("a site failed to start a cluster");
console.log("computing");
await mc.compute(py.call(py.fn("time.sleep"), 600).withAttrs({ location: "central" }));
