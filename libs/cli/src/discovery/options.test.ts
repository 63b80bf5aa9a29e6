import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { marketName, parseBudget, parseMarketName, parseSymbols } from "./options.js";

describe("parseBudget", () => {
  it("reads seconds, minutes, hours and bare milliseconds", () => {
    expect(parseBudget("90s")).toBe(90_000);
    expect(parseBudget("10m")).toBe(600_000);
    expect(parseBudget("10min")).toBe(600_000);
    expect(parseBudget("1h")).toBe(3_600_000);
    expect(parseBudget("1.5h")).toBe(5_400_000);
    expect(parseBudget("2500ms")).toBe(2500);
    expect(parseBudget("60000")).toBe(60_000);
    expect(parseBudget(" 5 S ")).toBe(5000);
  });

  it("refuses what is no duration, and budgets a run cannot have", () => {
    expect(() => parseBudget("ten minutes")).toThrow(InvalidArgumentError);
    expect(() => parseBudget("10d")).toThrow('expected a duration such as 90s, 10m, 1h or milliseconds, got "10d"');
    expect(() => parseBudget("-5s")).toThrow(InvalidArgumentError);
    expect(() => parseBudget("500")).toThrow("a run's budget must be between 1s and 24h, got 500");
    expect(() => parseBudget("25h")).toThrow("a run's budget must be between 1s and 24h, got 25h");
    expect(parseBudget("24h")).toBe(86_400_000);
  });
});

describe("series names", () => {
  it("maps what the stream's subjects cannot carry onto _ and refuses what is still no name", () => {
    expect(marketName("BTC")).toBe("BTC");
    expect(marketName("BRK.B")).toBe("BRK_B");
    expect(marketName(" EUR/USD ")).toBe("EUR_USD");
    expect(marketName("binance-futures")).toBe("binance-futures");
    expect(marketName("")).toBeUndefined();
    expect(marketName(".X")).toBeUndefined();
    expect(marketName("A".repeat(33))).toBeUndefined();
    expect(parseMarketName("BRK.B")).toBe("BRK_B");
    expect(() => parseMarketName("_x")).toThrow(InvalidArgumentError);
  });

  it("reads --symbols as a list without duplicates", () => {
    expect(parseSymbols("BTC,ETH")).toEqual(["BTC", "ETH"]);
    expect(parseSymbols(" BTC , BRK.B,BTC,")).toEqual(["BTC", "BRK_B"]);
    expect(() => parseSymbols(",")).toThrow("expected symbols separated by commas, such as BTC,ETH");
    expect(() => parseSymbols("BTC,*")).toThrow('"*" is no symbol name');
    const many = Array.from({ length: 65 }, (_, i) => `S${i}`).join(",");
    expect(() => parseSymbols(many)).toThrow("at most 64 symbols per run, got 65");
  });
});
