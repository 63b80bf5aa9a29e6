import { expect, test } from "vitest";
import { capacityOf } from "./capacity.js";

test("capacity is the median notional at which a trade takes the participation share of its bar's traded value", () => {
  const close = Float64Array.of(10, 10, 20, 20, 40, 40);
  const volume = Float64Array.of(1000, 1000, 1000, 2000, 1000, 1000);
  // Trades: bar 0 enters +1 (|Δ| 1, $10,000 traded that bar), bar 2 reverses (|Δ| 2, $20,000),
  // bar 3 exits (|Δ| 1, $40,000); bar 5 is the last and is not traded.
  const positions = Float64Array.of(1, 1, -1, 0, 0, 1);
  // At 1 %: 100, 100 and 400; the median is 100.
  expect(capacityOf(positions, { close, volume }, 0, 6, 0.01)).toBe(100);
  // The window [2, 6) starts flat: bar 2 enters −1 (|Δ| 1, $20,000 → 200), bar 3 exits (400).
  expect(capacityOf(positions, { close, volume }, 2, 6, 0.01)).toBe(300);
});

test("no trades, no capacity; a bar without volume data is left out", () => {
  const close = Float64Array.of(10, 10, 10);
  expect(capacityOf(new Float64Array(3), { close, volume: Float64Array.of(1, 1, 1) }, 0, 3, 0.01)).toBeNull();
  const volume = Float64Array.of(Number.NaN, 1000, 1000);
  expect(capacityOf(Float64Array.of(1, 0, 0), { close, volume }, 0, 3, 0.01)).toBe(100);
  expect(() => capacityOf(Float64Array.of(1, 0), { close, volume }, 0, 2, 0)).toThrow(RangeError);
});
