/**
 * Inert stand-ins the safe pickle reader returns for Python objects it does not turn into plain
 * JS values: exceptions ({@link PyException}) and everything else ({@link PyObject}).
 * @module
 */

/**
 * A Python object the reader does not know, described instead of constructed: the callable's
 * module and name, the arguments it would have been called with, and what BUILD/APPENDS/SETITEMS
 * would have applied. Nothing is ever executed.
 */
export class PyObject {
  /** Describes a call; the reader fills `args`, `state` and the items as it meets them. */
  constructor(
    /** Module of the class or function that creates the object, e.g. `"datetime"`. */
    readonly module: string,
    /**
     * Its qualified name, e.g. `"date"`. `"<call>"` (with `module` `""`) when the callable was
     * itself a computed object; it is then `args[0]`, followed by the real arguments.
     */
    readonly name: string,
    /** Positional arguments of the call (REDUCE / NEWOBJ / INST / OBJ). */
    readonly args: unknown[],
    /** Keyword arguments (NEWOBJ_EX only). */
    public kwargs?: unknown,
    /** The state given to BUILD (`__setstate__` / `__dict__` update), if any. */
    public state?: unknown,
    /** Items appended by APPEND/APPENDS (list subclasses), if any. */
    public listItems?: unknown[],
    /** Items set by SETITEM/SETITEMS (dict subclasses), if any. */
    public dictItems?: Map<unknown, unknown>,
  ) {}
}

/** A Python exception, e.g. a task's error from `task-erred`. */
export class PyException {
  /** An exception as the reader revives it. */
  constructor(
    /** Class name, e.g. `"ZeroDivisionError"`. */
    readonly type: string,
    /** Module of the class, e.g. `"builtins"`. */
    readonly module: string,
    /** The exception's `args`. */
    readonly args: unknown[],
    /** `str(exc)` as Python computes it from `args`, e.g. `"division by zero"`. */
    readonly message: string,
    /**
     * The traceback when one was pickled (tblib), formatted like Python's `traceback.format_tb`
     * without source lines: `  File "x.py", line 3, in f`, one line per frame.
     */
    readonly traceback?: string,
    /** `__cause__` (`raise … from cause`). */
    readonly cause?: PyException,
    /** `__context__` (the exception being handled when this one was raised). */
    readonly context?: PyException,
    /** Extra attributes (the exception's `__dict__`, OSError fields, notes …). */
    readonly attributes: Record<string, unknown> = {},
  ) {}

  /** `Type: message`, like the last line Python prints for an uncaught exception. */
  toString(): string {
    return this.message ? `${this.type}: ${this.message}` : this.type;
  }
}
