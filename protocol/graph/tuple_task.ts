/**
 * Graphs for schedulers that predate `dask._task_spec` (distributed 2023.4.0 – 2024.10.x, the
 * `"tuple"` {@link GraphEra}, DEDL's 2023.8.0 among them): every task the graph builder made as a
 * `Task`/`TaskRef`/`DataNode` object is rewritten as the classic `dask.core` tuple
 * `(callable, *args)`.
 *
 * How those schedulers and workers read such a graph (distributed 2023.8.0
 * `scheduler._materialize_graph`, `utils_comm.unpack_remotedata`, `worker.dumps_task` /
 * `execute_task`; dask `core.keys_in_tasks`):
 * - A reference to a key becomes `distributed.utils_comm.WrappedKey(key)`: the scheduler replaces
 *   it by the key string and records the dependency, whether the key is in this graph or already
 *   on the cluster. The worker then substitutes the value for that string anywhere in the
 *   arguments (lists, tuples, sets and dict values).
 * - The worker runs a tuple whose first item is callable as a nested task, in the task's top-level
 *   arguments and inside lists there, never inside dicts or other tuples. So a literal tuple in
 *   such a place whose head could be callable is quoted (`(dask.core.literal(t),)`), and a tuple
 *   or set holding references is built by a nested task from a list.
 * - `dask.utils.apply(func, args, kwargs)` carries keyword arguments; a callable that is itself a
 *   task result goes through `apply(apply, [func, args, kwargs])`, since the worker deserializes
 *   the head of a task as a function before substituting values (and the scheduler's
 *   `dumps_task` takes the item after `apply` as that function). A call of `dask.utils.apply`
 *   written with `py.call` is rewritten the same way.
 * @module
 */
import { GraphBuildFailed } from "../errors.ts";
import { PyCall, PyGlobal, PySet, PyTuple, type PyValue } from "../codec/pickle/python_values.ts";
import { TASK_SPEC } from "./task_spec.ts";

const WRAPPED_KEY = new PyGlobal("distributed.utils_comm", "WrappedKey");
const LITERAL = new PyGlobal("dask.core", "literal");
const BUILTIN_TUPLE = new PyGlobal("builtins", "tuple");
const BUILTIN_SET = new PyGlobal("builtins", "set");

/** The `dask.core` tuple for one `Task(...)` or `DataNode(...)` made by the graph builder. */
export function tupleTask(spec: PyValue): PyValue {
  const call = specCall(spec);
  if (call?.fn === TASK_SPEC.dataNode) return new PyTuple([new PyCall(LITERAL, [call.args[1]])]);
  if (call?.fn !== TASK_SPEC.task) {
    throw new GraphBuildFailed("tupleTask() takes a Task or DataNode made by the graph builder");
  }
  // Task(key, func, *args); indexed rather than destructured: this runs once per task.
  const parts = call.args;
  const func = parts[1];
  if (isApply(func) && parts.length <= 5) {
    const callee = parts[2];
    const list = runArg(parts[3] === undefined ? [] : parts[3]);
    const kw = dataArg(parts[4] === undefined ? {} : parts[4]);
    if (specCall(callee)?.fn === TASK_SPEC.taskRef) {
      return new PyTuple([TASK_SPEC.apply, TASK_SPEC.apply, [dataArg(callee), list, kw]]);
    }
    return new PyTuple([TASK_SPEC.apply, callee, list, kw]);
  }
  const items: PyValue[] = new Array(parts.length - 1);
  items[0] = func;
  for (let i = 2; i < parts.length; i++) items[i - 1] = runArg(parts[i]);
  return new PyTuple(items);
}

/** An argument in a place the worker runs nested tasks: top-level arguments and their lists. */
function runArg(value: PyValue): PyValue {
  const call = specCall(value);
  if (call) {
    const inner = call.args[0];
    switch (call.fn) {
      case TASK_SPEC.taskRef:
        return new PyCall(WRAPPED_KEY, [inner]);
      case TASK_SPEC.list:
        return (inner as PyValue[]).map(runArg);
      case TASK_SPEC.tuple:
        return new PyTuple([BUILTIN_TUPLE, (inner as PyTuple).items.map(runArg)]);
      case TASK_SPEC.set:
        return new PyTuple([BUILTIN_SET, (inner as PySet).items.map(runArg)]);
      case TASK_SPEC.dict:
        return dataArg(value);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(runArg);
  if (value instanceof PyTuple && mayBeCallable(value.items[0])) {
    return new PyTuple([new PyCall(LITERAL, [value])]);
  }
  return value;
}

/** A value in a place the worker only substitutes keys: dict values, tuple and set items. */
function dataArg(value: PyValue): PyValue {
  const call = specCall(value);
  if (call) {
    const inner = call.args[0];
    switch (call.fn) {
      case TASK_SPEC.taskRef:
        return new PyCall(WRAPPED_KEY, [inner]);
      case TASK_SPEC.list:
        return (inner as PyValue[]).map(dataArg);
      case TASK_SPEC.tuple:
        return new PyTuple((inner as PyTuple).items.map(dataArg));
      case TASK_SPEC.set:
        return new PySet((inner as PySet).items.map(dataArg));
      case TASK_SPEC.dict:
        return inner instanceof Map
          ? new Map([...inner].map(([k, v]) => [k, dataArg(v)]))
          : Object.fromEntries(
            Object.entries(inner as Record<string, PyValue>).map(([k, v]) => [k, dataArg(v)]),
          );
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(dataArg);
  return value;
}

/** `dask.utils.apply`, whichever object names it. */
function isApply(value: PyValue): boolean {
  return value === TASK_SPEC.apply ||
    value instanceof PyGlobal && value.module === "dask.utils" && value.qualname === "apply";
}

/** The call when `value` is one of the task-spec constructors the graph builder emits. */
function specCall(value: PyValue | undefined): PyCall | undefined {
  return value instanceof PyCall && TASK_SPEC.all.has(value.fn as PyGlobal) ? value : undefined;
}

function mayBeCallable(value: PyValue | undefined): boolean {
  return value instanceof PyGlobal || value instanceof PyCall;
}
