import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../errors.js";
import { parseLimits, readLimitsFile } from "./limits-file.js";

const problem = (text: string) => {
  try {
    parseLimits(text, "limits.json");
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("parseLimits", () => {
  it("accepts every kind of limit the protocol defines", () => {
    const limits = {
      total: { gross: 5e6, net: 2e6 },
      symbols: { EURUSD: { gross: 1e6 }, "*": { net: 0 } },
      venues: { lmax: { gross: 3e6 } },
      families: { momentum: { net: 1e6 } },
      strategies: { "mr-1": { gross: 6e5, net: 1e5, orderNotional: 1e5, orderRate: 20, openOrders: 10 } },
      orderNotional: 250_000,
      cluster: { rho: 0.8, gross: 1.5e6, net: 5e5 },
      drawdown: { reduce: 50_000, halt: 100_000 },
      reservationTtlMs: 30_000,
    };
    expect(parseLimits(JSON.stringify(limits), "limits.json")).toEqual(limits);
    expect(parseLimits("{}", "limits.json")).toEqual({});
  });

  it("names the file and what is wrong where", () => {
    expect(problem("")).toBe("limits.json is empty: expected a JSON object of limits");
    expect(problem('{"total": ')).toMatch(/^limits\.json is not valid JSON: /);
    expect(problem("[]")).toBe("limits.json: the limits must be a JSON object");
    expect(problem('{"totl": {}}')).toBe("limits.json: totl is not a known field");
    expect(problem('{"symbols": {"EURUSD": {"grss": 1}}}')).toBe(
      "limits.json: symbols.EURUSD.grss is not a known field",
    );
    expect(problem('{"symbols": {"BRK.B": {"gross": -1}}}')).toBe(
      "limits.json: symbols.BRK.B.gross is invalid: Expected number to be greater or equal to 0",
    );
    expect(problem('{"total": {"gross": "1e6"}}')).toBe("limits.json: total.gross is invalid: Expected number");
    expect(problem('{"strategies": {"s": {"orderRate": 2.5}}}')).toBe(
      "limits.json: strategies.s.orderRate is invalid: Expected integer",
    );
    expect(problem('{"cluster": {"gross": 1}}')).toBe("limits.json: cluster.rho is required");
    expect(problem('{"cluster": {"rho": 1.5}}')).toBe(
      "limits.json: cluster.rho is invalid: Expected number to be less or equal to 1",
    );
    expect(problem('{"drawdown": {"halt": 0}}')).toBe(
      "limits.json: drawdown.halt is invalid: Expected number to be greater than 0",
    );
    expect(problem('{"reservationTtlMs": 10}')).toBe(
      "limits.json: reservationTtlMs is invalid: Expected integer to be greater or equal to 100",
    );
    expect(problem('{"venues": null}')).toBe("limits.json: venues is invalid: Expected object");
  });

  it("recognises the output of `stratreg limits --json` and says what to keep", () => {
    expect(problem(JSON.stringify({ version: 3, limits: {}, audit: [] }))).toMatch(
      /looks like the output of `stratreg limits --json`: put only its "limits" object/,
    );
  });
});

describe("readLimitsFile", () => {
  it("reads a file, and fails naming the path when it cannot", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stratreg-limits-"));
    try {
      const path = join(dir, "limits.json");
      await writeFile(path, '{"total": {"gross": 1000}}\n');
      expect(await readLimitsFile(path)).toEqual({ total: { gross: 1000 } });
      await expect(readLimitsFile(join(dir, "absent.json"))).rejects.toThrow(/^cannot read .*absent\.json: ENOENT/);
      await writeFile(path, '{"total": {"gross": -1}}');
      await expect(readLimitsFile(path)).rejects.toThrow(
        `${path}: total.gross is invalid: Expected number to be greater or equal to 0`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
