import { describe, expect, it } from "vitest";
import { CliError } from "../errors.js";
import { commandAttemptMs, operatorName } from "./operator.js";

describe("operatorName", () => {
  const os = () => "jdoe";
  it("is --by, else $STRATREG_OPERATOR, else the OS user", () => {
    expect(operatorName("alice", { STRATREG_OPERATOR: "bob" }, os)).toBe("alice");
    expect(operatorName(undefined, { STRATREG_OPERATOR: "bob" }, os)).toBe("bob");
    expect(operatorName(undefined, { STRATREG_OPERATOR: "" }, os)).toBe("jdoe");
    expect(operatorName(undefined, {}, os)).toBe("jdoe");
  });

  it("asks for --by when nobody is known", () => {
    const none = () => {
      throw new Error("no user entry for uid 1234");
    };
    expect(() => operatorName(undefined, {}, none)).toThrow(CliError);
    expect(() => operatorName(undefined, {}, () => "")).toThrow(
      "who is acting? pass --by <name> or set STRATREG_OPERATOR",
    );
  });
});

describe("commandAttemptMs", () => {
  it("outlasts the guard's acknowledgement wait, leaving room for a second attempt when the deadline allows", () => {
    expect(commandAttemptMs(5000)).toBe(2500);
    expect(commandAttemptMs(20_000)).toBe(10_000);
    expect(commandAttemptMs(1500)).toBe(1500);
    expect(commandAttemptMs(3000)).toBe(2500);
  });
});
