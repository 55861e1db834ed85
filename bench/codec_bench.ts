/**
 * Codec throughput: pickling a task graph (target ≥ 20 000 tasks/s end to end), wrapping it in
 * an update-graph message, and decoding results. Run: `deno bench -A bench/codec_bench.ts`.
 */
import { decodeMessage, encodeMessage } from "../protocol/codec/message.ts";
import { decodeMsgpack, encodeMsgpack } from "../protocol/codec/msgpack.ts";
import { loads } from "../protocol/codec/pickle/reader.ts";
import { dumps } from "../protocol/codec/pickle/writer.ts";
import { PyCall, pyGlobal, PyTuple, type PyValue } from "../protocol/codec/pickle/python_values.ts";
import { Serialized } from "../protocol/codec/serialize.ts";

const TASKS = 20_000;
const TASK = pyGlobal("dask._task_spec.Task");
const REF = pyGlobal("dask._task_spec.TaskRef");
const ADD = pyGlobal("operator.add");

/** A chain of `TASKS` tasks, each adding 1.5 to its predecessor, as an LLGExpr envelope. */
function graph(): PyValue {
  const dsk = new Map<PyValue, PyValue>();
  for (let i = 0; i < TASKS; i++) {
    const key = new PyTuple(["inc-0123456789abcdef", i]);
    const dep = i === 0 ? 0 : new PyCall(REF, [new PyTuple(["inc-0123456789abcdef", i - 1])]);
    dsk.set(key, new PyCall(TASK, [key, ADD, dep, 1.5]));
  }
  return new PyCall(pyGlobal("dask._expr:Expr._reconstruct"), [
    pyGlobal("dask._expr.LLGExpr"),
    dsk,
    "t",
    {},
  ]);
}

const keys = Array.from({ length: TASKS }, (_, i) => ["inc-0123456789abcdef", i]);
const pickled = dumps(graph());
const frames = encodeMessage([{
  op: "update-graph",
  expr_ser: new Serialized({ serializer: "pickle", writeable: [] }, [pickled]),
  keys,
}]);
const results = dumps(Array.from({ length: TASKS }, (_, i) => [i, `key-${i}`, i * 0.5]));
const batch = encodeMsgpack(
  keys.map((key) => ({ op: "key-in-memory", key, type: new Uint8Array(40) })),
);

Deno.bench(`build + pickle + frame a ${TASKS}-task graph`, { group: "graph" }, () => {
  const bytes = dumps(graph());
  encodeMessage([{
    op: "update-graph",
    expr_ser: new Serialized({ serializer: "pickle", writeable: [] }, [bytes]),
    keys,
  }]);
});

Deno.bench(`decode the update-graph message (${TASKS} keys)`, { group: "decode" }, () => {
  decodeMessage(frames);
});

Deno.bench(`unpickle ${TASKS} result triples`, { group: "decode" }, () => {
  loads(results);
});

Deno.bench(`decode a batch of ${TASKS} key-in-memory ops`, { group: "decode" }, () => {
  decodeMsgpack(batch);
});
