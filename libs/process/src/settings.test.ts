import { describe, expect, test } from "vitest";
import { intSetting, memberSettings, serviceFlags } from "./settings.js";

describe("intSetting", () => {
  test("unset or empty gives the default; an integer in range is taken", () => {
    expect(intSetting("X", undefined, 7, 1, 10)).toBe(7);
    expect(intSetting("X", "", 7, 1, 10)).toBe(7);
    expect(intSetting("X", "1", 7, 1, 10)).toBe(1);
    expect(intSetting("X", "10", 7, 1, 10)).toBe(10);
  });

  test.each(["0", "11", "1.5", "abc", " ", "1e400"])("refuses %j, naming the setting and its range", (raw) => {
    expect(() => intSetting("STRATREG_X", raw, 7, 1, 10)).toThrow(
      `STRATREG_X must be an integer in [1, 10], got ${JSON.stringify(raw)}`,
    );
  });
});

describe("memberSettings", () => {
  const who = { id: undefined, kind: "x", name: "x id" };
  test("flags before the environment before the defaults", () => {
    expect(memberSettings({}, {}, who)).toMatchObject({
      natsUrl: "nats://127.0.0.1:4222",
      natsUser: undefined,
      cluster: "stratreg",
      member: expect.stringMatching(new RegExp(`^x-[A-Za-z0-9_-]+-${process.pid}$`)),
    });
    const env = {
      NATS_URL: "nats://a:1",
      NATS_USER: "u",
      NATS_PASSWORD: "p",
      STRATREG_CLUSTER: "c1",
    };
    expect(memberSettings({}, env, { ...who, id: "x-1" })).toEqual({
      natsUrl: "nats://a:1",
      natsUser: "u",
      natsPassword: "p",
      cluster: "c1",
      member: "x-1",
      logLevel: "info",
    });
    expect(memberSettings({ "log-level": "warn" }, { LOG_LEVEL: "debug" }, who).logLevel).toBe("warn");
    expect(memberSettings({}, { LOG_LEVEL: "debug" }, who).logLevel).toBe("debug");
    expect(memberSettings({ nats: "nats://b:2", cluster: "c2", id: "x-2" }, env, { ...who, id: "x-1" })).toMatchObject({
      natsUrl: "nats://b:2",
      cluster: "c2",
      member: "x-2",
    });
  });

  test("refuses a bad cluster name or id, naming which", () => {
    expect(() => memberSettings({ cluster: "Bad.Name" }, {}, who)).toThrow('invalid cluster name "Bad.Name"');
    expect(() => memberSettings({ id: "a.b" }, {}, who)).toThrow(/^x id must match .*, got "a\.b"$/);
  });
});

describe("serviceFlags", () => {
  test("the flags every service takes, and its own; anything else is refused", () => {
    expect(serviceFlags(["--nats", "nats://x:1", "--id", "a", "--log-level", "warn"])).toEqual({
      nats: "nats://x:1",
      id: "a",
      "log-level": "warn",
    });
    expect(serviceFlags(["--replicas", "3"], ["replicas"])).toEqual({ replicas: "3" });
    expect(() => serviceFlags(["--replicas", "3"])).toThrow(/replicas/);
  });
});
