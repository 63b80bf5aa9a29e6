/**
 * One strategy: its metadata and lifecycle history (the shard's `get`), the quality
 * gates with values and thresholds (the dry run), the forecast with its interval (the
 * ranker), its wealth path (the performance history), its lineage (search) and its
 * dependencies (the graph). Each part asks its own service, so one that is down shows
 * its error and the rest still shows.
 */
import {
  type ForecastReply,
  type GatesReply,
  GraphOps,
  type HistoryReply,
  type LifecycleHistoryEntry,
  type LineageReply,
  PartitionOps,
  RankerOps,
  SearchOps,
  type Strategy,
  type TraversalReply,
} from "@stratreg/protocol/web";
import { formatClock, formatNumber, formatPercent } from "../../model/format.js";
import { wealthSeries } from "../../model/sparkline.js";
import { LineChart } from "../charts.js";
import { partitionFor, useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { usePoll } from "../hooks.js";
import { ThresholdTable } from "./thresholds.js";

export const STRATEGY_POLL_MS = 5000;

export function StrategyView({ id }: { id: string }) {
  const ctx = useConsole();
  const partition = partitionFor(ctx, id);
  const ask =
    <B,>(subject: string, body: unknown) =>
    () =>
      ctx.conn.request<B>(subject, body);
  const got = usePoll(
    ask<{ strategy: Strategy }>(ctx.subjects.partition(partition, PartitionOps.Get), { id }),
    STRATEGY_POLL_MS,
    [id],
  );
  const gates = usePoll(
    ask<GatesReply>(ctx.subjects.partition(partition, PartitionOps.Gates), { id }),
    STRATEGY_POLL_MS,
    [id],
  );
  const forecast = usePoll(ask<ForecastReply>(ctx.subjects.ranker(RankerOps.Forecast), { id }), STRATEGY_POLL_MS, [id]);
  const history = usePoll(
    ask<HistoryReply>(ctx.subjects.partition(partition, PartitionOps.History), { id, points: 200 }),
    STRATEGY_POLL_MS * 2,
    [id],
  );
  const lineage = usePoll(
    ask<LineageReply>(ctx.subjects.search(SearchOps.Lineage), { id, direction: "both", depth: 4, limit: 50 }),
    STRATEGY_POLL_MS * 2,
    [id],
  );
  const deps = usePoll(
    ask<TraversalReply>(ctx.subjects.graph(GraphOps.Dependencies), { id, limit: 50 }),
    STRATEGY_POLL_MS * 2,
    [id],
  );
  const impact = usePoll(
    ask<TraversalReply>(ctx.subjects.graph(GraphOps.Impact), { id, limit: 50 }),
    STRATEGY_POLL_MS * 2,
    [id],
  );
  const s = got.value?.strategy;
  // The stored context is open-ended (`{ value, context }` as the machine keeps it); history is its list of moves.
  const moves = (s?.lifecycle?.context?.history ?? []) as LifecycleHistoryEntry[];
  const f = forecast.value;

  return (
    <section id="view-strategy">
      <h2>
        {id} <span class="muted">partition {partition}</span>
      </h2>
      <ErrorLine error={got.error} />
      {s && (
        <dl class="meta">
          <dt>name</dt>
          <dd>{s.name}</dd>
          <dt>state</dt>
          <dd>{s.state}</dd>
          <dt>family</dt>
          <dd>{s.family ?? "—"}</dd>
          <dt>owner</dt>
          <dd>{s.owner}</dd>
          <dt>version</dt>
          <dd>{s.version}</dd>
          <dt>tags</dt>
          <dd>{s.tags.join(", ") || "—"}</dd>
          <dt>template</dt>
          <dd>{s.template ? `${s.template.id} v${s.template.version}` : "—"}</dd>
          <dt>updated</dt>
          <dd>{new Date(s.updatedAt).toISOString()}</dd>
        </dl>
      )}

      <h3>Lifecycle</h3>
      <ol class="moves">
        {moves.map((m) => (
          <li key={`${m.at}-${m.event}`}>
            {formatClock(m.at)} {m.from} → <strong>{m.to}</strong> ({m.event}) by {m.by}
            {m.reason ? `: ${m.reason}` : ""}
          </li>
        ))}
        {s && moves.length === 0 && <li class="muted">no move yet</li>}
      </ol>

      <h3>Gates</h3>
      <ErrorLine error={gates.error} />
      {gates.value && (
        <ThresholdTable class="gates" kind="gate" rows={gates.value.gates.map((g) => ({ ...g, name: g.gate }))} />
      )}

      <h3>Forecast</h3>
      <ErrorLine error={forecast.error} />
      {f && (
        <p>
          Sharpe {formatNumber(f.sharpe.forecast)} ({formatPercent(f.confidence, 0)} interval{" "}
          {formatNumber(f.sharpe.low)} to {formatNumber(f.sharpe.high)}; own {formatNumber(f.sharpe.raw)}, peers{" "}
          {formatNumber(f.sharpe.prior)}, shrinkage {formatPercent(f.shrinkage, 0)} toward {f.peers.count}{" "}
          {f.peers.among === "family" ? "family members" : "strategies"}); next return{" "}
          {formatPercent(f.nextReturn.forecast, 2)} ({formatPercent(f.nextReturn.low, 2)} to{" "}
          {formatPercent(f.nextReturn.high, 2)})
        </p>
      )}

      <h3>Wealth</h3>
      <ErrorLine error={history.error} />
      {history.value && history.value.points.length > 0 ? (
        <LineChart series={wealthSeries(history.value)} label="wealth" />
      ) : (
        <p class="muted">No reported returns.</p>
      )}

      <h3>Lineage</h3>
      <ErrorLine error={lineage.error} />
      <ul class="lineage">
        {(lineage.value?.nodes ?? [])
          .filter((n) => n.id !== id)
          .map((n) => (
            <li key={n.id}>
              {(n.depth ?? 0) < 0 ? "ancestor" : "descendant"} {Math.abs(n.depth ?? 0)}:{" "}
              <a href={`#/strategy/${encodeURIComponent(n.id)}`}>{n.id}</a> ({n.origin}, {n.state}
              {n.passed ? ", ✓ passed the gates" : ""})
            </li>
          ))}
        {lineage.value && lineage.value.nodes.length <= 1 && <li class="muted">no parent or child</li>}
      </ul>

      <h3>Dependencies</h3>
      <ErrorLine error={deps.error ?? impact.error} />
      <p>
        depends on: {(deps.value?.nodes ?? []).map((n) => `${n.id} (${n.depth})`).join(", ") || "nothing"}
        <br />
        depended on by: {(impact.value?.nodes ?? []).map((n) => `${n.id} (${n.depth})`).join(", ") || "nothing"}
      </p>
    </section>
  );
}
