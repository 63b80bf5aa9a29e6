/**
 * Global top-k per metric and scope, from the ranker, with each strategy's recent
 * returns as a sparkline. The ranker publishes nothing global, so the list is asked
 * for every half second; sparklines come from the performance history, which costs a
 * partition read, so each strategy's is kept for half a minute.
 */
import {
  type HistoryReply,
  METRICS,
  type Metric,
  PartitionOps,
  RankerOps,
  type TopReply,
} from "@stratreg/protocol/web";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatAge, formatNumber } from "../../model/format.js";
import { type SparklineSeries, wealthSeries } from "../../model/sparkline.js";
import { diffTopK, movementLabel, type TopKDiff } from "../../model/topk.js";
import { Sparkline } from "../charts.js";
import { partitionFor, useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { usePoll } from "../hooks.js";

/** How often the list is asked for (ms). */
export const TOPK_POLL_MS = 500;
const SPARK_TTL_MS = 30_000;
const SPARK_POINTS = 40;

interface Scope {
  family: string;
  regime: string;
  state: string;
}

declare global {
  interface Window {
    /**
     * When each id was first shown in the top-k table (ms since the epoch, so a benchmark on the
     * same machine can compare it with when it sent a report): what the latency figure reads.
     */
    stratregTopkShown?: Map<string, number>;
  }
}

function useSparklines(ids: string[]): Map<string, SparklineSeries> {
  const ctx = useConsole();
  const cache = useRef(new Map<string, { at: number; series: SparklineSeries }>());
  const [, setVersion] = useState(0);
  useEffect(() => {
    let stopped = false;
    const now = Date.now();
    for (const id of ids) {
      const held = cache.current.get(id);
      if (held !== undefined && now - held.at < SPARK_TTL_MS) continue;
      // Claim it at once so the next poll does not ask again while this one is out.
      cache.current.set(id, { at: now, series: held?.series ?? { x: [], y: [] } });
      ctx.conn
        .request<HistoryReply>(ctx.subjects.partition(partitionFor(ctx, id), PartitionOps.History), {
          id,
          points: SPARK_POINTS,
        })
        .then(
          (reply) => {
            cache.current.set(id, { at: Date.now(), series: wealthSeries(reply) });
            if (!stopped) setVersion((v) => v + 1);
          },
          () => undefined, // no history (yet): the cell stays empty
        );
    }
    return () => {
      stopped = true;
    };
  }, [ids.join(",")]);
  return new Map([...cache.current].map(([id, held]) => [id, held.series]));
}

export function TopKView() {
  const ctx = useConsole();
  const [metric, setMetric] = useState<Metric>("sharpe");
  const [k, setK] = useState(20);
  const [scope, setScope] = useState<Scope>({ family: "", regime: "", state: "" });
  const previous = useRef<TopReply["entries"]>([]);
  const [diff, setDiff] = useState<TopKDiff | undefined>(undefined);

  const top = usePoll(
    () => {
      const s: Record<string, string> = {};
      if (scope.family) s.family = scope.family;
      if (scope.regime) s.regime = scope.regime;
      if (scope.state) s.state = scope.state;
      return ctx.conn.request<TopReply>(ctx.subjects.ranker(RankerOps.Top), {
        metric,
        k,
        ...(Object.keys(s).length > 0 ? { scope: s } : {}),
      });
    },
    TOPK_POLL_MS,
    [metric, k, scope.family, scope.regime, scope.state],
  );
  const entries = top.value?.entries ?? [];
  useEffect(() => {
    const d = diffTopK(previous.current, entries);
    if (d.changed) setDiff(d);
    previous.current = entries;
  }, [top.value]);
  useEffect(() => {
    const shown = window.stratregTopkShown ?? new Map<string, number>();
    window.stratregTopkShown = shown;
    for (const e of entries) if (!shown.has(e.id)) shown.set(e.id, Date.now());
  }, [top.value]);
  const sparks = useSparklines(entries.map((e) => e.id));
  const fresh = top.value?.freshness;

  return (
    <section id="view-topk">
      <h2>Top-k</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          metric{" "}
          <select value={metric} onChange={(e) => setMetric((e.target as HTMLSelectElement).value as Metric)}>
            {METRICS.map((m) => (
              <option value={m} key={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          k{" "}
          <input
            type="number"
            min={1}
            max={100}
            value={k}
            onInput={(e) => setK(Number((e.target as HTMLInputElement).value) || 20)}
          />
        </label>
        {(["family", "regime", "state"] as const).map((field) => (
          <label key={field}>
            {field}{" "}
            <input
              name={field}
              value={scope[field]}
              placeholder="any"
              onInput={(e) => setScope({ ...scope, [field]: (e.target as HTMLInputElement).value.trim() })}
            />
          </label>
        ))}
      </form>
      <ErrorLine error={top.error} />
      <p class="muted">
        {fresh === undefined
          ? "asking the ranker…"
          : `as of ${formatAge(fresh.ageMs)} ago${fresh.missing.length > 0 ? `, ${fresh.missing.length} partitions missing` : ""}`}
      </p>
      <table class="topk">
        <thead>
          <tr>
            <th>#</th>
            <th />
            <th>strategy</th>
            <th>family</th>
            <th>state</th>
            <th>{metric}</th>
            <th>periods</th>
            <th>recent returns</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => {
            const move = diff?.moves.get(e.id);
            return (
              <tr key={e.id} data-id={e.id} class={move?.kind === "new" || move?.kind === "up" ? "moved" : ""}>
                <td>{e.rank}</td>
                <td class={`move ${move?.kind ?? ""}`}>{movementLabel(move)}</td>
                <td>
                  <a href={`#/strategy/${encodeURIComponent(e.id)}`} onClick={() => ctx.openStrategy(e.id)}>
                    {e.id}
                  </a>
                </td>
                <td>{e.family ?? "—"}</td>
                <td>{e.state}</td>
                <td class="num">{formatNumber(e.score, 3)}</td>
                <td class="num">{e.periods}</td>
                <td>
                  <Sparkline series={sparks.get(e.id)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {entries.length === 0 && top.value !== undefined && <p class="muted">No ranked strategy in this scope.</p>}
    </section>
  );
}
