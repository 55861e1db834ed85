/**
 * Pickle opcodes by name, protocols 0–5, as CPython's `Lib/pickle.py` (v3.12) defines them: the
 * one table the reader dispatches on and the writer emits from.
 * @module
 */

/** Every pickle opcode the reader knows, by its name in `pickle.py`. */
export const OP = {
  // control
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e,
  MARK: 0x28,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  // memo
  MEMOIZE: 0x94,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  GET: 0x67,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  // scalars
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG: 0x4c,
  LONG1: 0x8a,
  LONG4: 0x8b,
  FLOAT: 0x46,
  BINFLOAT: 0x47,
  // text and bytes
  UNICODE: 0x56,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE: 0x58,
  BINUNICODE8: 0x8d,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  SHORT_BINBYTES: 0x43,
  BINBYTES: 0x42,
  BINBYTES8: 0x8e,
  BYTEARRAY8: 0x96,
  // containers
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d,
  LIST: 0x6c,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_DICT: 0x7d,
  DICT: 0x64,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  // objects
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  NEWOBJ: 0x81,
  NEWOBJ_EX: 0x92,
  INST: 0x69,
  OBJ: 0x6f,
  BUILD: 0x62,
  // out-of-band buffers (protocol 5)
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
  // never sent by distributed; the reader refuses them
  PERSID: 0x50,
  BINPERSID: 0x51,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
} as const;
