/**
 * Limit usage as bars: how much of each limit an exposure takes, with the level an
 * operator should notice. The guard reports gross and net against their limits per
 * scope; a scope without a limit has no bar.
 */
import type { ScopeExposure } from "@stratreg/protocol/web";

/** How close a usage is to its limit: under 70 %, under 90 %, at or over 90 %, over 100 %. */
export type UsageLevel = "ok" | "warn" | "danger" | "breach";

/** One bar: a scope's gross or net against its limit. */
export interface UsageBar {
  /** `total`, `symbol AAPL`, `family momentum`, … */
  label: string;
  measure: "gross" | "net";
  used: number;
  limit: number;
  /** used / limit (may exceed 1). */
  ratio: number;
  /** The bar's drawn width, 0–100 (capped at 100). */
  widthPercent: number;
  level: UsageLevel;
}

/** The level of a usage ratio. */
export function usageLevel(ratio: number): UsageLevel {
  if (ratio > 1) return "breach";
  if (ratio >= 0.9) return "danger";
  if (ratio >= 0.7) return "warn";
  return "ok";
}

function bar(label: string, measure: "gross" | "net", used: number, limit: number): UsageBar {
  const ratio = limit > 0 ? Math.abs(used) / limit : Math.abs(used) > 0 ? Number.POSITIVE_INFINITY : 0;
  const widthPercent = Math.min(100, Math.max(0, ratio * 100));
  return { label, measure, used, limit, ratio, widthPercent, level: usageLevel(ratio) };
}

/** Every limited measure of `scopes` as a bar, the most used first. */
export function usageBars(scopes: readonly ScopeExposure[]): UsageBar[] {
  const bars: UsageBar[] = [];
  for (const s of scopes) {
    const label = s.key === "" ? s.scope : `${s.scope} ${s.key}`;
    if (s.grossLimit !== null) bars.push(bar(label, "gross", s.gross, s.grossLimit));
    if (s.netLimit !== null) bars.push(bar(label, "net", s.net, s.netLimit));
  }
  return bars.sort((a, b) => b.ratio - a.ratio || a.label.localeCompare(b.label));
}
