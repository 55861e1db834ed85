/**
 * The `dask._task_spec` constructors the graph builder emits (dask ≥ 2024.9; schedulers from
 * distributed 2024.11.0 run them), and `dask.utils.apply`, which carries keyword arguments. The
 * same objects identify them again when a graph is rewritten for older schedulers
 * (`tuple_task.ts`).
 * @module
 */
import { PyGlobal } from "../codec/pickle/python_values.ts";

const task = new PyGlobal("dask._task_spec", "Task");
const taskRef = new PyGlobal("dask._task_spec", "TaskRef");
const dataNode = new PyGlobal("dask._task_spec", "DataNode");
const list = new PyGlobal("dask._task_spec", "List");
const tuple = new PyGlobal("dask._task_spec", "Tuple");
const set = new PyGlobal("dask._task_spec", "Set");
const dict = new PyGlobal("dask._task_spec", "Dict");

/** The constructors by role; `all` holds every task-spec class (not `apply`). */
export const TASK_SPEC = {
  task,
  taskRef,
  dataNode,
  list,
  tuple,
  set,
  dict,
  apply: new PyGlobal("dask.utils", "apply"),
  all: new Set<PyGlobal>([task, taskRef, dataNode, list, tuple, set, dict]),
} as const;
