/**
 * Capacity: how much notional a strategy can run before its own trades move the market. A
 * trade that takes a small share of a bar's traded value (its participation) goes through at
 * about the quoted price; the costs assumed in the backtest hold only up to that size.
 */
import type { AssetBars } from "@stratreg/alpha";
import { linearPercentile } from "@stratreg/quant";

/**
 * The notional N at which a typical trade stays within `participation` of its bar's dollar
 * volume: for each trade in bars [from, to) (a bar i whose position differs from bar i − 1's,
 * the window starting flat, the last bar not traded, as `evaluatePositions` counts them),
 * N_i = participation · close[i] · volume[i] / |p[i] − p[i − 1]|, the size at which that trade
 * is exactly `participation` of bar i's traded value; the capacity is the median of N_i. Half
 * the trades would then take more than `participation`, half less: a central figure, not a
 * guarantee. Trades at a bar with no close or volume are left out; null when there are none.
 */
export function capacityOf(
  positions: ArrayLike<number>,
  bars: Pick<AssetBars, "close" | "volume">,
  from: number,
  to: number,
  participation: number,
): number | null {
  if (!(participation > 0 && participation <= 1)) {
    throw new RangeError(`participation must be in (0, 1], got ${participation}`);
  }
  const sizes: number[] = [];
  let held = 0;
  for (let i = from; i < to - 1; i++) {
    const p = positions[i] as number;
    const traded = Math.abs(p - held);
    held = p;
    if (traded === 0) continue;
    const value = (bars.close[i] as number) * (bars.volume[i] as number);
    if (!Number.isFinite(value)) continue;
    sizes.push((participation * value) / traded);
  }
  if (sizes.length === 0) return null;
  sizes.sort((a, b) => a - b);
  return linearPercentile(sizes, 0.5);
}
