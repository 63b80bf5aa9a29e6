/**
 * What the risk commands print, as pure functions of the guard's replies: the
 * trading state, the followers' acknowledgements, exposures against limits with
 * headroom bars, P&L, VaR and ES, the limits and their audit trail.
 */
import type {
  ExposureReply,
  LimitsChange,
  RiskLimits,
  ScopeExposure,
  TradingCommandReply,
  TradingStatus,
} from "@stratreg/protocol";
import { type Align, formatDuration, formatTable } from "../format.js";

/** What a value that is not there (no limit, not computed) prints as. */
export const DASH = "–";

/** Width of a headroom bar, in characters. */
export const BAR_WIDTH = 20;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A number for people: thousands separators and `decimals` fixed decimals
 * (`1234567.891` → `1,234,567.89` with 2); null and non-finite print as a dash,
 * and a value that rounds to zero prints without a minus sign.
 */
export function formatAmount(value: number | null | undefined, decimals = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
    useGrouping: true,
  });
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
}

/** A limit's value as set, every decimal kept (`0.85`, `1,000,000`). */
export function formatSetting(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 10, useGrouping: true });
}

/** How long ago, for people: `0.4 s`, `2 min 5 s`, `3 h 12 min`, `2 d 4 h`; a negative age (clock skew) as 0. */
export function formatAge(ms: number): string {
  const age = Math.max(0, ms);
  if (age < 3_600_000) return formatDuration(age);
  if (age < 86_400_000) return `${Math.floor(age / 3_600_000)} h ${Math.floor((age % 3_600_000) / 60_000)} min`;
  return `${Math.floor(age / 86_400_000)} d ${Math.floor((age % 86_400_000) / 3_600_000)} h`;
}

/** `used` of `limit`: a share (0.45), or null without a limit; a zero limit is fully used by anything. */
export function usedShare(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  if (limit <= 0) return used > 0 ? Number.POSITIVE_INFINITY : 0;
  return used / limit;
}

/**
 * A headroom bar: `width` cells of `█` (used) and `░` (free) filled by
 * `used / limit`, then one more character, `!` when over the limit, a space
 * otherwise. Without a limit: blank, so a table column stays aligned.
 */
export function headroomBar(used: number, limit: number | null, width = BAR_WIDTH): string {
  const share = usedShare(used, limit);
  if (share === null) return " ".repeat(width + 1);
  const over = share > 1;
  const ratio = Math.min(1, Math.max(0, share));
  // Something used shows at least one cell, and a full bar only once the limit is reached.
  let filled = Math.round(ratio * width);
  if (filled === 0 && ratio > 0) filled = 1;
  if (filled === width && ratio < 1) filled = width - 1;
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}${over ? "!" : " "}`;
}

/** `45%`, `120%`; a dash without a limit, `∞%` over a zero limit. */
export function formatShare(share: number | null): string {
  if (share === null) return DASH;
  if (!Number.isFinite(share)) return "∞%";
  return `${Math.round(share * 100)}%`;
}

/** The trading state in one line: state, when, by whom, why, and a pending resume. */
export function stateLine(status: TradingStatus, now: number): string {
  const when = status.at > 0 ? ` since ${new Date(status.at).toISOString()} (${formatAge(now - status.at)} ago)` : "";
  const pending =
    status.pendingResume == null
      ? ""
      : `; resume asked by ${status.pendingResume.by} ${formatAge(now - status.pendingResume.at)} ago, waiting for a second operator`;
  return `trading ${status.state}${when} by ${status.by}: ${status.reason} (state version ${status.version})${pending}`;
}

/** What a halt, reduce or resume printed: the lines for stdout and the warnings for stderr. */
export interface CommandReport {
  lines: string[];
  warnings: string[];
}

/** The followers' acknowledgements: how many, of which kinds, the slowest; those missing become a warning. */
export function acknowledgementLines(reply: TradingCommandReply): CommandReport {
  const lines: string[] = [];
  const warnings: string[] = [];
  const { acks, missing, lastAckMs } = reply;
  if (acks.length === 0 && missing.length === 0) {
    lines.push("no follower to acknowledge it: none was heard from recently (services not started, or not following)");
  } else if (acks.length > 0) {
    const kinds = new Map<string, number>();
    for (const ack of acks) kinds.set(ack.kind || "unknown", (kinds.get(ack.kind || "unknown") ?? 0) + 1);
    const byKind = [...kinds]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `${n} ${kind}`)
      .join(", ");
    const slowest = lastAckMs === null ? "" : `, slowest ${lastAckMs.toFixed(1)} ms`;
    lines.push(`acknowledged by ${plural(acks.length, "follower")} (${byKind})${slowest}`);
  }
  if (missing.length > 0) {
    const names = [...missing].sort().join(", ");
    warnings.push(
      `warning: ${plural(missing.length, "follower")} did not acknowledge in time: ${names} (they may still act on the old state until they hear the next broadcast)`,
    );
  }
  return { lines, warnings };
}

/** The operator commands that move the trading state. */
export type TradingOperation = "halt" | "reduce" | "resume";

/**
 * What a halt, reduce or resume prints: the state now; whether the command
 * changed nothing (already in that state, or a stricter one) or waits for a
 * second operator; the acknowledgements; the followers missing, as a warning.
 */
export function commandReport(
  op: TradingOperation,
  command: { by: string; reason?: string },
  reply: TradingCommandReply,
  now: number,
): CommandReport {
  const { status } = reply;
  const lines = [stateLine(status, now)];
  const ours = status.by === command.by && (command.reason === undefined || status.reason === command.reason);
  if (reply.awaitingConfirmation) {
    lines.push(
      `resume recorded: a second operator must confirm it before trading resumes (stratreg resume --by <another operator>)`,
    );
  } else if (op === "reduce" && status.state === "HALTED") {
    lines.push("nothing changed: trading is HALTED, which is stricter than REDUCING (resume it first, then reduce)");
  } else if (!ours) {
    lines.push(`nothing changed: trading was already ${status.state}`);
  }
  const acks = acknowledgementLines(reply);
  return { lines: [...lines, ...acks.lines], warnings: acks.warnings };
}

/** The scopes as a table: exposure against limits with a headroom bar, net against its limit, reserved. */
export function scopeTable(scopes: readonly ScopeExposure[]): string[] {
  const header = ["SCOPE", "KEY", "GROSS", "LIMIT", "USED", "", "NET", "NET LIMIT", "NET USED", "RESERVED"];
  const align: Align[] = ["left", "left", "right", "right", "left", "right", "right", "right", "right", "right"];
  const rows = scopes.map((s) => {
    const netShare = usedShare(Math.abs(s.net), s.netLimit);
    return [
      s.scope,
      s.key,
      formatAmount(s.gross),
      formatAmount(s.grossLimit),
      headroomBar(s.gross, s.grossLimit),
      s.grossLimit === null ? "" : formatShare(usedShare(s.gross, s.grossLimit)),
      formatAmount(s.net),
      formatAmount(s.netLimit),
      // Over the net limit is flagged the way the bar flags gross.
      s.netLimit === null ? "" : `${formatShare(netShare)}${netShare !== null && netShare > 1 ? "!" : " "}`,
      formatAmount(s.reserved),
    ];
  });
  return formatTable([header, ...rows], align);
}

/** The portfolio's P&L line. */
export function pnlLine(pnl: ExposureReply["pnl"]): string {
  return `P&L: equity ${formatAmount(pnl.equity, 2)}, peak ${formatAmount(pnl.peak, 2)}, drawdown ${formatAmount(pnl.drawdown, 2)}`;
}

/** VaR and ES, historical and parametric, and the largest contributions to the 99 % parametric VaR. */
export function riskLines(risk: ExposureReply["risk"], now: number, top = 5): string[] {
  if (risk === null) {
    return ["VaR/ES: not computed yet (needs strategies with exposure and 20 common periods of reported returns)"];
  }
  const lines = [
    `VaR/ES of one period's P&L, losses positive (${plural(risk.periods, "period")} of returns, computed ${formatAge(now - risk.at)} ago):`,
  ];
  const figures = (name: string, f: typeof risk.historical) => [
    name,
    formatAmount(f.var95, 2),
    formatAmount(f.var99, 2),
    formatAmount(f.es95, 2),
    formatAmount(f.es99, 2),
  ];
  lines.push(
    ...formatTable(
      [
        ["", "VAR 95", "VAR 99", "ES 95", "ES 99"],
        figures("historical", risk.historical),
        figures("parametric", risk.parametric),
      ],
      ["left", "right", "right", "right", "right"],
    ).map((line) => `  ${line}`),
  );
  const contributions = [...risk.contributions].sort((a, b) => b.component - a.component).slice(0, top);
  if (contributions.length > 0) {
    const total = risk.parametric.var99;
    const shown = contributions.length < risk.contributions.length ? `top ${contributions.length} ` : "";
    lines.push(`${shown}contributions to the parametric VaR 99:`);
    const rows = contributions.map((c) => [
      c.strategy,
      formatAmount(c.exposure),
      formatAmount(c.component, 2),
      total > 0 ? formatShare(c.component / total) : DASH,
      c.marginal.toFixed(4),
    ]);
    lines.push(
      ...formatTable(
        [["STRATEGY", "EXPOSURE", "COMPONENT", "SHARE", "MARGINAL"], ...rows],
        ["left", "right", "right", "right", "right"],
      ).map((line) => `  ${line}`),
    );
  }
  return lines;
}

/** Everything `stratreg risk` prints. */
export function exposureLines(reply: ExposureReply, now: number, top = 5): string[] {
  const lines = [stateLine(reply.status, now)];
  lines.push(`limits version ${reply.limitsVersion}, ${plural(reply.openOrders, "open order")}`);
  lines.push("");
  if (reply.scopes.length === 0) lines.push("no exposure and no limits");
  else lines.push(...scopeTable(reply.scopes));
  lines.push("");
  lines.push(pnlLine(reply.pnl));
  lines.push(...riskLines(reply.risk, now, top));
  return lines;
}

/** Path segments of a value inside the limits, e.g. `["symbols", "EURUSD", "gross"]`. */
export type LimitPath = readonly string[];

/** `symbols.EURUSD.gross`; a key that is not a plain word is quoted: `symbols["BRK.B"].gross`. */
export function pathText(path: LimitPath): string {
  let out = "";
  for (const key of path) {
    if (/^[A-Za-z0-9_*-]+$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Every value in the limits with its path, in the order of the object (objects walked, other values kept whole). */
export function flattenLimits(limits: unknown, prefix: LimitPath = []): Array<[LimitPath, unknown]> {
  if (limits === null || typeof limits !== "object" || Array.isArray(limits)) return [[prefix, limits]];
  const out: Array<[LimitPath, unknown]> = [];
  for (const [key, value] of Object.entries(limits)) out.push(...flattenLimits(value, [...prefix, key]));
  return out;
}

function valueText(value: unknown): string {
  if (value === undefined) return DASH;
  return typeof value === "number" ? formatSetting(value) : JSON.stringify(value);
}

/** What changed from `previous` to `next`, one line per value: `symbols.EURUSD.gross: 1,000,000 → 2,000,000`. */
export function limitsDiff(previous: RiskLimits, next: RiskLimits): string[] {
  const before = new Map(flattenLimits(previous).map(([path, value]) => [JSON.stringify(path), { path, value }]));
  const after = new Map(flattenLimits(next).map(([path, value]) => [JSON.stringify(path), { path, value }]));
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const lines: string[] = [];
  for (const key of keys) {
    const old = before.get(key);
    const now = after.get(key);
    if (old !== undefined && now !== undefined && JSON.stringify(old.value) === JSON.stringify(now.value)) continue;
    const path = (now ?? old)?.path ?? [];
    lines.push(`${pathText(path)}: ${valueText(old?.value)} → ${valueText(now?.value)}`);
  }
  return lines;
}

/** Scoped tables of the limits and how their rows are labelled. */
const SCOPED = [
  ["symbols", "symbol"],
  ["venues", "venue"],
  ["families", "family"],
  ["strategies", "strategy"],
] as const;

const KNOWN_LIMITS = new Set<string>([
  "total",
  ...SCOPED.map(([table]) => table),
  "orderNotional",
  "cluster",
  "drawdown",
  "reservationTtlMs",
]);

/** The limits as a table of scoped exposure limits, then one line per portfolio-wide setting. */
export function limitsLines(limits: RiskLimits): string[] {
  type Row = { gross?: number; net?: number; orderNotional?: number; orderRate?: number; openOrders?: number };
  const rows: Array<[string, string, Row]> = [];
  if (limits.total !== undefined) rows.push(["total", "", limits.total]);
  for (const [table, scope] of SCOPED) {
    const entries = Object.entries((limits[table] ?? {}) as Record<string, Row>);
    // The default entry `*` first, then the keys in order.
    entries.sort(([a], [b]) => (a === "*" ? -1 : b === "*" ? 1 : a.localeCompare(b)));
    for (const [key, row] of entries) rows.push([scope, key, row]);
  }
  const lines: string[] = [];
  if (rows.length > 0) {
    const perStrategy = rows.some(
      ([, , r]) => r.orderNotional !== undefined || r.orderRate !== undefined || r.openOrders !== undefined,
    );
    const header = [
      "SCOPE",
      "KEY",
      "GROSS",
      "NET",
      ...(perStrategy ? ["ORDER NOTIONAL", "ORDERS/S", "OPEN ORDERS"] : []),
    ];
    const cell = (v: number | undefined) => (v === undefined ? DASH : formatSetting(v));
    const table = rows.map(([scope, key, r]) => [
      scope,
      key,
      cell(r.gross),
      cell(r.net),
      ...(perStrategy ? [cell(r.orderNotional), cell(r.orderRate), cell(r.openOrders)] : []),
    ]);
    lines.push(...formatTable([header, ...table], ["left", "left", "right", "right", "right", "right", "right"]));
    if (rows.some(([, key]) => key === "*")) lines.push("(key * is the default for every key without its own row)");
  }
  if (limits.orderNotional !== undefined) lines.push(`any one order: at most ${formatSetting(limits.orderNotional)}`);
  if (limits.cluster !== undefined) {
    const c = limits.cluster;
    const parts = [c.gross === undefined ? "" : `gross ${formatSetting(c.gross)}`];
    parts.push(c.net === undefined ? "" : `net ${formatSetting(c.net)}`);
    const shared = parts.filter((p) => p !== "").join(", ");
    lines.push(
      `strategies whose returns correlate above ρ ${formatSetting(c.rho)} share one limit: ${shared === "" ? "none set" : shared}`,
    );
  }
  if (limits.drawdown !== undefined) {
    const d = limits.drawdown;
    const levels = [
      d.reduce === undefined ? "" : `REDUCING at ${formatSetting(d.reduce)}`,
      d.halt === undefined ? "" : `HALTED at ${formatSetting(d.halt)}`,
    ].filter((p) => p !== "");
    lines.push(`drawdown from peak equity: ${levels.length === 0 ? "no level set" : levels.join(", ")}`);
  }
  if (limits.reservationTtlMs !== undefined) {
    lines.push(`reservations expire after ${formatAge(limits.reservationTtlMs)} unless filled or cancelled`);
  }
  // Anything a newer guard knows and this CLI does not: shown as it is.
  for (const [key, value] of Object.entries(limits)) {
    if (!KNOWN_LIMITS.has(key)) lines.push(`${key}: ${JSON.stringify(value)}`);
  }
  return lines.length === 0 ? ["no limits are set"] : lines;
}

/**
 * The audit trail, newest first: version, when, who and the note, each with
 * up to `maxDiff` lines of what changed (and how many more).
 */
export function auditLines(audit: readonly LimitsChange[], maxDiff = 6): string[] {
  if (audit.length === 0) return ["no changes yet"];
  const heads = formatTable(
    audit.map((c) => [`v${c.version}`, new Date(c.at).toISOString(), c.by, c.note ?? ""]),
    ["right", "left", "left", "left"],
  );
  const lines: string[] = [];
  audit.forEach((change, i) => {
    lines.push(heads[i] as string);
    const diff = limitsDiff(change.previous, change.limits);
    if (diff.length === 0) lines.push("      (no change)");
    for (const line of diff.slice(0, maxDiff)) lines.push(`      ${line}`);
    if (diff.length > maxDiff) lines.push(`      … and ${plural(diff.length - maxDiff, "more change")}`);
  });
  return lines;
}

/** Everything `stratreg limits` prints. */
export function limitsReplyLines(reply: {
  version: number;
  limits: RiskLimits;
  audit: readonly LimitsChange[];
}): string[] {
  const latest = reply.audit.find((c) => c.version === reply.version);
  const set = latest === undefined ? "" : ` (set ${new Date(latest.at).toISOString()} by ${latest.by})`;
  return [
    `limits version ${reply.version}${reply.version === 0 ? " (never set)" : set}`,
    ...limitsLines(reply.limits).map((line) => `  ${line}`),
    "",
    "changes, newest first:",
    ...auditLines(reply.audit).map((line) => `  ${line}`),
  ];
}
