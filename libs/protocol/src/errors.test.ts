import { describe, expect, test } from "vitest";
import { decode, encode } from "./codec.js";
import {
  ConflictError,
  type ErrorCode,
  ErrorCodes,
  errorFromWire,
  isRetryableCode,
  NotFoundError,
  StratregError,
  TimeoutError,
  toStratregError,
  UnavailableError,
  ValidationError,
  type WireError,
} from "./errors.js";

type ErrorClass = new (...args: never[]) => StratregError;

/** The class and default retryability every code must come back as. */
const EXPECTED: Record<ErrorCode, [ErrorClass, boolean]> = {
  MALFORMED: [ValidationError, false],
  UNSUPPORTED_VERSION: [ValidationError, false],
  MISSING_FIELD: [ValidationError, false],
  INVALID_FIELD: [ValidationError, false],
  UNKNOWN_FIELD: [ValidationError, false],
  BATCH_TOO_LARGE: [ValidationError, false],
  PAYLOAD_TOO_LARGE: [ValidationError, false],
  WRONG_PARTITION: [ValidationError, false],
  UNKNOWN_OPERATION: [ValidationError, false],
  INVALID_QUERY: [ValidationError, false],
  NOT_FOUND: [NotFoundError, false],
  ALREADY_EXISTS: [ConflictError, false],
  CONFLICT: [ConflictError, false],
  INVALID_TRANSITION: [ConflictError, false],
  GATES_FAILED: [ConflictError, false],
  CYCLE: [ConflictError, false],
  HAS_DEPENDENTS: [ConflictError, false],
  TRADING_HALTED: [ConflictError, false],
  RETIRED: [ConflictError, false],
  NOT_OWNER: [UnavailableError, true],
  UNAVAILABLE: [UnavailableError, true],
  TIMEOUT: [TimeoutError, true],
  OVERLOADED: [UnavailableError, true],
  COMMAND_EXPIRED: [ConflictError, false],
  CONFIG_MISMATCH: [StratregError, false],
  INTERNAL: [StratregError, false],
};

const ALL_CLASSES: ErrorClass[] = [ValidationError, NotFoundError, ConflictError, UnavailableError, TimeoutError];

describe("error codes", () => {
  test("every code in ErrorCodes has an expected class (and no more)", () => {
    expect(Object.values(ErrorCodes).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test("codes are unique, stable, upper snake case", () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
  });

  test("only NOT_OWNER, UNAVAILABLE, TIMEOUT and OVERLOADED are retryable by default", () => {
    const retryable = Object.values(ErrorCodes).filter(isRetryableCode);
    expect(retryable.sort()).toEqual(["NOT_OWNER", "OVERLOADED", "TIMEOUT", "UNAVAILABLE"]);
  });
});

describe("errorFromWire", () => {
  test.each(Object.entries(EXPECTED))("%s → its class, with its retryable default", (code, [cls, retryable]) => {
    const wire: WireError = {
      code: code as ErrorCode,
      message: `m-${code}`,
      retryable: isRetryableCode(code as ErrorCode),
    };
    const error = errorFromWire(wire);
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(StratregError);
    expect(error).toBeInstanceOf(Error);
    // Exactly that class, not a more specific one.
    for (const other of ALL_CLASSES) if (other !== cls) expect(error).not.toBeInstanceOf(other);
    expect(error.constructor).toBe(cls);
    expect(error.name).toBe(cls.name);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toBe(`m-${code}`);
  });

  test.each(Object.keys(EXPECTED))("%s survives the wire round trip (toWire → msgpack → errorFromWire)", (code) => {
    const original = errorFromWire({
      code: code as ErrorCode,
      message: "why",
      retryable: true,
      field: "body.strategies[3].name",
      details: { expected: 3, actual: 4 },
    });
    const back = errorFromWire(decode(encode(original.toWire())) as WireError);
    expect(back.constructor).toBe(original.constructor);
    expect(back.toWire()).toEqual({
      code,
      message: "why",
      retryable: true,
      field: "body.strategies[3].name",
      details: { expected: 3, actual: 4 },
    });
  });

  test("keeps the retryable flag the wire states, even against the default", () => {
    expect(errorFromWire({ code: "NOT_OWNER", message: "m", retryable: false }).retryable).toBe(false);
    expect(errorFromWire({ code: "CONFLICT", message: "m", retryable: true }).retryable).toBe(true);
  });

  test("unknown codes become INTERNAL, keeping message and retryable", () => {
    const error = errorFromWire({ code: "FROM_THE_FUTURE" as ErrorCode, message: "new", retryable: true });
    expect(error.constructor).toBe(StratregError);
    expect(error.code).toBe(ErrorCodes.Internal);
    expect(error.message).toBe("new");
    expect(error.retryable).toBe(true);
  });

  test("tolerates a malformed wire error from a foreign peer", () => {
    const error = errorFromWire({ code: "NOT_FOUND", message: 42, field: 7, details: "x" } as unknown as WireError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe("NOT_FOUND");
    expect(error.field).toBeUndefined();
    expect(error.details).toBeUndefined();
  });

  test("toWire leaves out absent field and details", () => {
    const wire = new ValidationError(ErrorCodes.Malformed, "bad").toWire();
    expect(wire).toEqual({ code: "MALFORMED", message: "bad", retryable: false });
    expect(Object.keys(wire)).toEqual(["code", "message", "retryable"]);
  });
});

describe("error classes", () => {
  test("set name, code, retryable default, field, details and cause", () => {
    const cause = new Error("root");
    const error = new ConflictError(ErrorCodes.Conflict, "stale", {
      field: "body.expectedVersion",
      details: { expected: 2, actual: 3 },
      cause,
    });
    expect(error.name).toBe("ConflictError");
    expect(error.code).toBe("CONFLICT");
    expect(error.retryable).toBe(false);
    expect(error.field).toBe("body.expectedVersion");
    expect(error.details).toEqual({ expected: 2, actual: 3 });
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain("stale");
  });

  test("NotFoundError and TimeoutError carry their fixed codes", () => {
    expect(new NotFoundError("gone").code).toBe("NOT_FOUND");
    expect(new TimeoutError("slow").code).toBe("TIMEOUT");
    expect(new TimeoutError("slow").retryable).toBe(true);
    expect(new UnavailableError(ErrorCodes.NotOwner, "moved").retryable).toBe(true);
    expect(new UnavailableError(ErrorCodes.NotOwner, "moved", { retryable: false }).retryable).toBe(false);
  });

  test("an error without a cause has none", () => {
    expect("cause" in new StratregError(ErrorCodes.Internal, "x")).toBe(false);
  });
});

describe("toStratregError", () => {
  test("returns a StratregError unchanged", () => {
    const error = new NotFoundError("gone");
    expect(toStratregError(error)).toBe(error);
  });

  test("wraps a plain Error as INTERNAL, not retryable, with the cause", () => {
    const plain = new TypeError("x is undefined");
    const wrapped = toStratregError(plain);
    expect(wrapped.constructor).toBe(StratregError);
    expect(wrapped.code).toBe(ErrorCodes.Internal);
    expect(wrapped.retryable).toBe(false);
    expect(wrapped.message).toBe("internal error: x is undefined");
    expect(wrapped.cause).toBe(plain);
  });

  test.each([
    ["a string", "boom", "internal error: boom"],
    ["a number", 42, "internal error: 42"],
    ["undefined", undefined, "internal error: undefined"],
    ["null", null, "internal error: null"],
  ])("wraps %s thrown as INTERNAL", (_name, thrown, message) => {
    const wrapped = toStratregError(thrown);
    expect(wrapped.code).toBe(ErrorCodes.Internal);
    expect(wrapped.message).toBe(message);
  });
});
