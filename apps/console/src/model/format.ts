/**
 * How figures read on the page: a few significant digits, thousands grouped,
 * ages in the unit a person thinks in. Pure, so the views stay declarative.
 */

/** A number with `digits` decimals and grouped thousands; "—" for null, undefined or not finite. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as a percentage (0.1234 → "12.3 %"). */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${formatNumber(value * 100, digits)} %`;
}

/** Currency notional in compact form: 1,234 → "1.23 k", 5,600,000 → "5.60 M". */
export function formatNotional(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  for (const [unit, size] of [
    ["T", 1e12],
    ["B", 1e9],
    ["M", 1e6],
    ["k", 1e3],
  ] as const) {
    if (abs >= size) return `${formatNumber(value / size, 2)} ${unit}`;
  }
  return formatNumber(value, 0);
}

/** A duration in ms as "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${formatNumber(ms / 1000, 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Bytes as "512 B", "1.5 KB", "730.2 MB" (powers of 1024). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${formatNumber(value, 1)} ${units[unit]}`;
}

/** A wall-clock time (ms since the epoch) as UTC `HH:MM:SS`. */
export function formatClock(at: number | null | undefined): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return "—";
  return new Date(at).toISOString().slice(11, 19);
}
