/**
 * `stratreg top`, `stratreg rank <id>` and `stratreg perf <id>`: the rankings
 * (from the ranker) and one strategy's performance (from its partition).
 */
import { METRICS, type Metric, type RankEntry, RankOrders, type Scope, type TopReply } from "@stratreg/protocol";
import { Command, Option } from "commander";
import { withClient } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** A metric value for people: fixed decimals, or a dash where it is not defined. */
export function metricText(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? "–" : value.toFixed(digits);
}

function freshnessLine(freshness: TopReply["freshness"]): string {
  const age = freshness.ageMs === null ? "no partition heard yet" : `as of ${Math.round(freshness.ageMs)} ms ago`;
  const missing = freshness.missing.length === 0 ? "" : `; missing partitions: ${freshness.missing.join(", ")}`;
  const gathered =
    freshness.gathered === 0
      ? ""
      : `; ${freshness.gathered} partition${freshness.gathered === 1 ? "" : "s"} asked directly`;
  return `(${age}${missing}${gathered})`;
}

/** The rows of a top reply as aligned text. */
export function topLines(metric: Metric, entries: Array<RankEntry & { rank: number }>): string[] {
  const header = ["rank", "strategy", metric, "sharpe", "sortino", "maxDD", "periods", "trades", "family", "state"];
  const rows = entries.map((e) => [
    String(e.rank),
    e.id,
    metricText(e.score),
    metricText(e.metrics.sharpe),
    metricText(e.metrics.sortino),
    metricText(e.metrics.maxDrawdown),
    String(e.periods),
    String(e.trades),
    e.family ?? "–",
    e.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd(),
  );
}

interface TopOptions {
  metric: Metric;
  k: string;
  family?: string;
  regime?: string;
  venue?: string;
  state?: string;
  tag?: string;
  minTrades?: string;
  minPeriods?: string;
  worst?: boolean;
}

export async function runTop(options: TopOptions, globals: GlobalOptions): Promise<ExitCode> {
  const scope: Scope = {};
  for (const key of ["family", "regime", "venue", "state", "tag"] as const) {
    const value = options[key];
    if (value !== undefined) scope[key] = value;
  }
  const query = {
    metric: options.metric,
    k: Number(options.k),
    scope,
    ...(options.minTrades === undefined ? {} : { minTrades: Number(options.minTrades) }),
    ...(options.minPeriods === undefined ? {} : { minPeriods: Number(options.minPeriods) }),
    order: options.worst === true ? RankOrders.Worst : RankOrders.Best,
  };
  const reply = await withClient(globals, (client) => client.top(query));
  if (globals.json) {
    printJson(reply);
  } else {
    for (const line of topLines(options.metric, reply.entries)) printLine(line);
    warn(freshnessLine(reply.freshness));
  }
  return ExitCodes.Ok;
}

export async function runRank(
  id: string,
  options: { metric: Metric; family?: boolean; regime?: string },
  globals: GlobalOptions,
): Promise<ExitCode> {
  const reply = await withClient(globals, (client) =>
    client.rank({
      id,
      metric: options.metric,
      among: options.family === true ? "family" : "all",
      ...(options.regime === undefined ? {} : { regime: options.regime }),
    }),
  );
  if (globals.json) printJson(reply);
  else if (reply.rank === null) printLine(`${id}: ${options.metric} is not defined yet (too few periods)`);
  else {
    const peers = `${reply.among === "family" ? "its family" : "all strategies"}${reply.regime === null ? "" : ` in regime ${reply.regime}`}`;
    printLine(
      `${id}: rank ${reply.rank} of ${reply.of} by ${options.metric} (${metricText(reply.score)}) among ${peers}, percentile ${metricText(reply.percentile, 1)}`,
    );
    warn(freshnessLine(reply.freshness));
  }
  return ExitCodes.Ok;
}

export async function runPerf(id: string, globals: GlobalOptions): Promise<ExitCode> {
  const reply = await withClient(globals, (client) => client.perf(id));
  if (globals.json) {
    printJson(reply);
    return ExitCodes.Ok;
  }
  printLine(`${reply.id}: ${reply.periods} periods, ${reply.trades} trades, last report #${reply.seq}`);
  if (reply.missing.length > 0) printLine(`  reports never received: ${reply.missing.join(", ")}`);
  for (const metric of METRICS) printLine(`  ${metric.padEnd(13)} ${metricText(reply.metrics[metric], 4)}`);
  for (const [regime, r] of Object.entries(reply.regimes)) {
    printLine(
      `  in ${regime}: ${r.periods} periods, sharpe ${metricText(r.metrics.sharpe)}, sortino ${metricText(r.metrics.sortino)}`,
    );
  }
  const c = reply.conventions;
  printLine(`  (annualised over ${c.periodsPerYear} periods a year, risk-free ${c.riskFree}, MAR ${c.mar} per period)`);
  return ExitCodes.Ok;
}

export async function runForecast(
  id: string,
  options: { regime?: string; confidence?: string },
  globals: GlobalOptions,
): Promise<ExitCode> {
  const reply = await withClient(globals, (client) =>
    client.forecast({
      id,
      ...(options.regime === undefined ? {} : { regime: options.regime }),
      ...(options.confidence === undefined ? {} : { confidence: Number(options.confidence) }),
    }),
  );
  if (globals.json) {
    printJson(reply);
    return ExitCodes.Ok;
  }
  const pct = Math.round(reply.confidence * 100);
  const s = reply.sharpe;
  printLine(
    `${id}${reply.regime === null ? "" : ` in ${reply.regime}`}: Sharpe forecast ${metricText(s.forecast, 2)} (${pct}% interval ${metricText(s.low, 2)} to ${metricText(s.high, 2)})`,
  );
  printLine(
    `  own record ${metricText(s.raw, 2)} over ${reply.periods} periods, shrunk ${Math.round(reply.shrinkage * 100)}% toward ${reply.peers.count} peers (${reply.peers.among}) at ${metricText(s.prior, 2)}`,
  );
  const r = reply.nextReturn;
  printLine(
    `  next period's return ${(r.forecast * 100).toFixed(3)}% (${pct}%: ${(r.low * 100).toFixed(3)}% to ${(r.high * 100).toFixed(3)}%)`,
  );
  return ExitCodes.Ok;
}

interface SelectOptions {
  metric: Metric;
  k: string;
  regime?: string;
  family?: string;
  maxCorrelation?: string;
  minPsr?: string;
}

export async function runSelect(options: SelectOptions, globals: GlobalOptions): Promise<ExitCode> {
  const reply = await withClient(globals, (client) =>
    client.select({
      k: Number(options.k),
      metric: options.metric,
      ...(options.regime === undefined ? {} : { regime: options.regime }),
      ...(options.family === undefined ? {} : { family: options.family }),
      ...(options.maxCorrelation === undefined ? {} : { maxCorrelation: Number(options.maxCorrelation) }),
      ...(options.minPsr === undefined ? {} : { minPsr: Number(options.minPsr) }),
    }),
  );
  if (globals.json) {
    printJson(reply);
    return ExitCodes.Ok;
  }
  reply.selected.forEach((s, i) => {
    const worst = Object.values(s.correlations).reduce<number | null>(
      (m, r) => (r === null ? m : m === null ? r : Math.max(m, r)),
      null,
    );
    printLine(
      `${i + 1}. ${s.id}  ${reply.metric} ${metricText(s.score)}  psr ${metricText(s.psr)}  highest correlation with those above ${metricText(worst, 2)}`,
    );
  });
  for (const s of reply.skipped) {
    printLine(
      s.reason === "psr"
        ? `   passed over ${s.id}: psr ${metricText(s.psr)} below the minimum`
        : `   passed over ${s.id}: correlation ${metricText(s.correlation ?? null, 2)} with ${s.with}`,
    );
  }
  warn(freshnessLine(reply.freshness));
  return ExitCodes.Ok;
}

const metricOption = () =>
  new Option("-m, --metric <metric>", "ranking metric").choices([...METRICS]).default("sharpe" as Metric);

/** The `top` command. */
export function topCommand(): Command {
  return new Command("top")
    .description("the best (or --worst) strategies by a metric, from the ranker")
    .addOption(metricOption())
    .option("-k <k>", "how many (1-1000)", "20")
    .option("--family <family>", "only this family")
    .option("--regime <regime>", "ranked by what they earned in this market regime")
    .option("--venue <venue>", "only strategies trading on this venue")
    .option("--state <state>", "only strategies in this lifecycle state")
    .option("--tag <tag>", "only strategies with this tag")
    .option("--min-trades <n>", "only strategies with at least n closed trades")
    .option("--min-periods <n>", "only strategies with at least n reported periods")
    .option("--worst", "the worst instead of the best")
    .action(async (options: TopOptions, command: Command) => {
      process.exitCode = await runTop(options, globalsOf(command));
    });
}

/** The `rank` command. */
export function rankCommand(): Command {
  return new Command("rank")
    .description("where one strategy ranks among its peers, from the ranker")
    .argument("<id>", "strategy id")
    .addOption(metricOption())
    .option("--family", "among its family only")
    .option("--regime <regime>", "by what it earned in this market regime")
    .action(async (id: string, options: { metric: Metric; family?: boolean; regime?: string }, command: Command) => {
      process.exitCode = await runRank(id, options, globalsOf(command));
    });
}

/** The `perf` command. */
export function perfCommand(): Command {
  return new Command("perf")
    .description("one strategy's performance: every metric, overall and per regime")
    .argument("<id>", "strategy id")
    .action(async (id: string, _options: unknown, command: Command) => {
      process.exitCode = await runPerf(id, globalsOf(command));
    });
}

/** The `forecast` command. */
export function forecastCommand(): Command {
  return new Command("forecast")
    .description("a strategy's next-period Sharpe and return, shrunk toward its peers, with an interval")
    .argument("<id>", "strategy id")
    .option("--regime <regime>", "forecast for this market regime, from the records earned in it")
    .option("--confidence <p>", "probability mass of the interval (0.5-0.999)", "0.9")
    .action(async (id: string, options: { regime?: string; confidence?: string }, command: Command) => {
      process.exitCode = await runForecast(id, options, globalsOf(command));
    });
}

/** The `select` command. */
export function selectCommand(): Command {
  return new Command("select")
    .description("the best k strategies that are not near-duplicates of each other")
    .addOption(metricOption())
    .option("-k <k>", "how many (1-100)", "5")
    .option("--regime <regime>", "ranked by what they earned in this market regime")
    .option("--family <family>", "only this family")
    .option("--max-correlation <r>", "largest return correlation between two selected", "0.7")
    .option("--min-psr <p>", "smallest probabilistic Sharpe ratio (0-1)")
    .action(async (options: SelectOptions, command: Command) => {
      process.exitCode = await runSelect(options, globalsOf(command));
    });
}
