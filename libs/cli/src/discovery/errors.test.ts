import { PermissionViolationError } from "@nats-io/transport-node";
import { AdminError } from "@stratreg/client";
import {
  ConflictError,
  ErrorCodes,
  NotFoundError,
  StratregError,
  TimeoutError,
  UnavailableError,
} from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import { formatError } from "../errors.js";
import { DiscoveryExitCodes, explainDiscoveryError } from "./errors.js";

const context = { cluster: "prod", nats: "nats://nats:4222", timeoutMs: 5000 };

describe("explainDiscoveryError", () => {
  it("says no discovery process answers when nobody listened, keeping the code", () => {
    const last = new UnavailableError(ErrorCodes.Unavailable, "no shard is serving prod.discovery.status right now", {
      details: { noResponders: true },
    });
    const err = new TimeoutError("deadline passed on prod.discovery.status: …", { cause: last });
    const explained = explainDiscoveryError(err, context);
    expect(formatError(explained)).toBe(
      'error TIMEOUT: no discovery process is answering on cluster "prod" at nats://nats:4222 (waited 5000 ms; is discovery running, and is --cluster right?)',
    );
    expect((explained as Error).cause).toBe(err);
    const slow = new TimeoutError("deadline passed on prod.discovery.data: no reply in time");
    expect(formatError(explainDiscoveryError(slow, context))).toBe(
      'error TIMEOUT: discovery of cluster "prod" did not answer within 5000 ms (raise --timeout if it is busy): deadline passed on prod.discovery.data: no reply in time',
    );
  });

  it("tells a halted platform from one whose trading state nobody announced", () => {
    const halted = new ConflictError(ErrorCodes.TradingHalted, "trading is HALTED: discovery does not run", {
      details: { trading: "HALTED" },
    });
    expect(formatError(explainDiscoveryError(halted, context))).toBe(
      "error TRADING_HALTED: trading is HALTED: discovery does not run: see `stratreg risk`; once trading is resumed, start the run again",
    );
    const unknown = new ConflictError(ErrorCodes.TradingHalted, "no risk guard has announced the trading state yet", {
      details: { trading: null },
    });
    expect(formatError(explainDiscoveryError(unknown, context))).toBe(
      'error TRADING_HALTED: no risk guard has announced the trading state yet (is a risk guard running on cluster "prod"?)',
    );
  });

  it("says how to watch or stop the run in progress on a conflict", () => {
    const busy = new ConflictError(ErrorCodes.Conflict, "run run-7 is in progress", { details: { runId: "run-7" } });
    expect(formatError(explainDiscoveryError(busy, context))).toBe(
      "error CONFLICT: run run-7 is in progress: watch it with `stratreg discover status`, or stop it with `stratreg discover stop run-7` (and later `stratreg discover --resume run-7`)",
    );
  });

  it("turns a refused publish into PERMISSION_DENIED", () => {
    const refused = new StratregError(ErrorCodes.Unavailable, "request on prod.control.discovery.run failed", {
      cause: new PermissionViolationError(
        "Permissions Violation for Publish to prod.control.discovery.run",
        "publish",
        "prod.control.discovery.run",
      ),
      retryable: false,
    });
    const explained = explainDiscoveryError(refused, context);
    expect(explained).toBeInstanceOf(AdminError);
    expect(formatError(explained)).toMatch(
      /^error PERMISSION_DENIED: not permitted: starting and stopping discovery runs is for operators \(connect as a NATS user allowed prod\.control\.>\)/,
    );
  });

  it("leaves everything else as it is", () => {
    const missing = new NotFoundError("run run-9 has no checkpoint to resume", { field: "body.resume" });
    expect(explainDiscoveryError(missing, context)).toBe(missing);
    const plain = new Error("boom");
    expect(explainDiscoveryError(plain, context)).toBe(plain);
  });

  it("has exit code 3 for a run that can be resumed, apart from the CLI's own", () => {
    expect(DiscoveryExitCodes.RunUnfinished).toBe(3);
    expect(new Set(Object.values(DiscoveryExitCodes)).size).toBe(Object.values(DiscoveryExitCodes).length);
  });
});
