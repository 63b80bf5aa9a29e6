import { PermissionViolationError } from "@nats-io/transport-node";
import { AdminError } from "@stratreg/client";
import { ConflictError, ErrorCodes, StratregError, TimeoutError, UnavailableError } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import { formatError } from "../errors.js";
import { explainGuardError, RiskExitCodes } from "./errors.js";

const context = { cluster: "prod", nats: "nats://nats:4222", timeoutMs: 5000 };

describe("explainGuardError", () => {
  it("says no risk guard is answering when nobody listened until the deadline, keeping the code", () => {
    // What the SDK throws: the deadline passed, the last attempt found no responders.
    const last = new UnavailableError(ErrorCodes.Unavailable, "no shard is serving prod.risk.exposure right now", {
      details: { noResponders: true },
    });
    const err = new TimeoutError("deadline passed on prod.risk.exposure: …", {
      cause: last,
      details: { lastCode: last.code },
    });
    const explained = explainGuardError(err, context);
    expect(formatError(explained)).toBe(
      'error TIMEOUT: no risk guard is answering on cluster "prod" at nats://nats:4222 (waited 5000 ms; is a risk guard running, and is --cluster right?)',
    );
    expect((explained as Error).cause).toBe(err);
  });

  it("says so too when a probe after the timeout found nobody listening", () => {
    // The last attempt was too short for even "no responders" to come back.
    const err = new TimeoutError("deadline passed on prod.risk.exposure: no reply on prod.risk.exposure in time", {
      details: { lastCode: ErrorCodes.Timeout },
    });
    expect(formatError(explainGuardError(err, { ...context, noResponders: true }))).toMatch(
      /^error TIMEOUT: no risk guard is answering on cluster "prod"/,
    );
  });

  it("tells a guard stepping down apart from a guard that does not answer at all", () => {
    const standby = new TimeoutError("deadline passed on prod.risk.state: not the active one", {
      details: { lastCode: ErrorCodes.NotOwner },
    });
    expect(formatError(explainGuardError(standby, context))).toMatch(
      /^error TIMEOUT: no risk guard of cluster "prod" is active: the guard answering says it is not the active one/,
    );
    const slow = new TimeoutError(
      "deadline passed on prod.control.risk.halt: no reply on prod.control.risk.halt in time",
    );
    expect(formatError(explainGuardError(slow, context))).toBe(
      'error TIMEOUT: the risk guard of cluster "prod" did not answer within 5000 ms (raise --timeout if it is busy): deadline passed on prod.control.risk.halt: no reply on prod.control.risk.halt in time',
    );
  });

  it("explains a stale expected limits version with what to do", () => {
    const conflict = new ConflictError(ErrorCodes.Conflict, "the limits are at version 7, not 5", {
      details: { expected: 5, actual: 7 },
    });
    expect(formatError(explainGuardError(conflict, context))).toBe(
      "error CONFLICT: the limits are at version 7, not 5: someone changed them since you looked. See what changed with `stratreg limits`, then set yours again with --expect-version 7",
    );
  });

  it("turns a refused publish into PERMISSION_DENIED", () => {
    const refused = new StratregError(ErrorCodes.Unavailable, "request on prod.control.risk.halt failed", {
      cause: new PermissionViolationError(
        "Permissions Violation for Publish to prod.control.risk.halt",
        "publish",
        "prod.control.risk.halt",
      ),
      retryable: false,
    });
    const explained = explainGuardError(refused, context);
    expect(explained).toBeInstanceOf(AdminError);
    expect(formatError(explained)).toMatch(
      /^error PERMISSION_DENIED: not permitted: halt, reduce, resume and limits set are for operators \(connect as a NATS user allowed prod\.control\.>\)/,
    );
  });

  it("leaves everything else as it is", () => {
    const invalid = new StratregError(ErrorCodes.InvalidField, "body.by is invalid", { field: "body.by" });
    expect(explainGuardError(invalid, context)).toBe(invalid);
    const plain = new Error("boom");
    expect(explainGuardError(plain, context)).toBe(plain);
  });

  it("has a named exit code for followers that did not acknowledge, apart from the CLI's own", () => {
    expect(RiskExitCodes.NotAcknowledged).toBe(3);
    expect(new Set(Object.values(RiskExitCodes)).size).toBe(Object.values(RiskExitCodes).length);
  });
});
