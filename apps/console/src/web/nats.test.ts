import {
  TimeoutError as NatsTimeoutError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/nats-core";
import { ErrorCodes, errorFromWire } from "@stratreg/protocol/web";
import { describe, expect, it } from "vitest";
import { ConsoleErrorCodes, toConsoleError } from "./nats.js";

const SUBJECT = "stratreg.control.risk.halt";

describe("errors as the page shows them", () => {
  it("names a publish nats-server refused PERMISSION_DENIED, 'refused by NATS'", () => {
    const refusal = new PermissionViolationError("Permissions Violation", "publish", SUBJECT);
    const err = toConsoleError(new RequestError("request failed", { cause: refusal }), SUBJECT);
    expect(err.code).toBe(ConsoleErrorCodes.PermissionDenied);
    expect(err.message).toBe(`refused by NATS: this user may not publish ${SUBJECT}`);
  });

  it("keeps a service's error reply's stable code", () => {
    const wire = errorFromWire({ code: ErrorCodes.NotFound, message: "no strategy x", retryable: false });
    expect(toConsoleError(wire, "stratreg.part.1.get")).toMatchObject({
      code: ErrorCodes.NotFound,
      message: "no strategy x",
    });
  });

  it("says when nothing answers and when an answer came too late", () => {
    const none = new RequestError("no responders", { cause: new NoRespondersError(SUBJECT) });
    expect(toConsoleError(none, SUBJECT).code).toBe(ConsoleErrorCodes.NoResponders);
    expect(toConsoleError(new NatsTimeoutError(), SUBJECT).code).toBe(ConsoleErrorCodes.Timeout);
    expect(toConsoleError(new Error("boom"), SUBJECT)).toMatchObject({ code: "UNKNOWN", message: `${SUBJECT}: boom` });
  });
});
