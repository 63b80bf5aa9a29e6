/** The lifecycle as text for people: gate tables, a strategy's moves, thresholds. */
import type { GateThresholdsReply, Strategy } from "@stratreg/client";
import { type GatesReply, type LifecycleContext, lifecycleOf, valueName } from "@stratreg/protocol";
import { formatTable } from "./format.js";

function figure(value: number | null): string {
  if (value === null) return "-";
  if (Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}

/** One row per gate (value, comparison with its threshold, verdict, detail), then the verdict overall. */
export function gateLines(reply: GatesReply): string[] {
  const rows = [
    ["GATE", "VALUE", "NEEDS", "RESULT", "DETAIL"],
    ...reply.gates.map((gate) => [
      gate.gate,
      figure(gate.value),
      `${gate.comparison} ${figure(gate.threshold)}`,
      gate.passed ? "pass" : "FAIL",
      gate.detail ?? "",
    ]),
  ];
  const failed = reply.gates.filter((gate) => !gate.passed).length;
  return [
    `${reply.id} v${reply.version} (${reply.state}); trading ${reply.trading ?? "unknown"}; family trials ${reply.trials.trials}`,
    ...formatTable(rows, ["left", "right", "left", "left", "left"]),
    reply.passed ? "every gate passes" : `${failed} of ${reply.gates.length} gates fail`,
  ];
}

/** A strategy's state, phase and latest moves, oldest first. */
export function historyLines(strategy: Strategy): string[] {
  const lifecycle = lifecycleOf(strategy);
  const context = lifecycle.context as LifecycleContext;
  const lines = [`${strategy.id} v${strategy.version}: ${valueName(lifecycle.value)}`];
  const history = context.history ?? [];
  if (history.length === 0) {
    lines.push("no moves yet");
    return lines;
  }
  const earlier = (context.moves ?? history.length) - history.length;
  if (earlier > 0) lines.push(`(${earlier} earlier moves not kept)`);
  const rows = [
    ["AT", "EVENT", "FROM", "TO", "BY", "REASON"],
    ...history.map((move) => [
      new Date(move.at).toISOString(),
      move.event,
      move.from,
      move.to,
      move.by,
      move.reason ?? "",
    ]),
  ];
  lines.push(...formatTable(rows));
  return lines;
}

/** The thresholds in force for a scope, and who set what. */
export function thresholdLines(reply: GateThresholdsReply): string[] {
  const own = reply.setting;
  const rows = [
    ["THRESHOLD", "IN FORCE", "SET HERE"],
    ...Object.entries(reply.inForce).map(([name, value]) => [
      name,
      figure(value),
      own !== null && name in own.thresholds ? figure(own.thresholds[name as keyof typeof own.thresholds] ?? null) : "",
    ]),
  ];
  const lines = formatTable(rows, ["left", "right", "right"]);
  lines.push(
    `from: ${reply.sources.length === 0 ? "the seed defaults" : ["seed defaults", ...reply.sources].join(" → ")}`,
  );
  if (own !== null) {
    lines.push(
      `set by ${own.by} at ${new Date(own.at).toISOString()} (revision ${own.revision})${own.note === undefined ? "" : `: ${own.note}`}`,
    );
  }
  return lines;
}
