/**
 * Risk: the trading state (followed live on its broadcast), each limit's usage as
 * bars, the correlation clusters as a heatmap, VaR and ES. The guard publishes only
 * the state; exposure and correlation are asked for every two and ten seconds.
 */
import { type CorrelationReply, type ExposureReply, RiskOps } from "@stratreg/protocol/web";
import { formatClock, formatNotional, formatPercent } from "../../model/format.js";
import { correlationMatrix } from "../../model/heatmap.js";
import { usageBars } from "../../model/usage.js";
import { Heatmap } from "../charts.js";
import { useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { usePoll } from "../hooks.js";
import { useTradingState } from "../trading.js";
import { TradingControls } from "./controls.js";

export const EXPOSURE_POLL_MS = 2000;
export const CORRELATION_POLL_MS = 10_000;

export function RiskView() {
  const ctx = useConsole();
  const trading = useTradingState();
  const exposure = usePoll(
    () => ctx.conn.request<ExposureReply>(ctx.subjects.risk(RiskOps.Exposure), {}),
    EXPOSURE_POLL_MS,
    [],
  );
  const correlation = usePoll(
    () => ctx.conn.request<CorrelationReply>(ctx.subjects.risk(RiskOps.Correlation), { pairs: 1000 }),
    CORRELATION_POLL_MS,
    [],
  );
  const bars = usageBars(exposure.value?.scopes ?? []);
  const risk = exposure.value?.risk;
  const status = trading.status;

  return (
    <section id="view-risk">
      <h2>Risk</h2>
      <div class={`state state-${status?.state ?? "unknown"}`} id="trading-state">
        <strong>{status?.state ?? "…"}</strong>
        {status && (
          <span>
            {" "}
            since {formatClock(status.at)} by {status.by}
            {status.reason ? `: ${status.reason}` : ""}
          </span>
        )}
      </div>
      <ErrorLine error={trading.error} />
      <TradingControls status={status} />

      <h3>Limits</h3>
      <ErrorLine error={exposure.error} />
      {exposure.value && (
        <p class="muted">
          limits v{exposure.value.limitsVersion}, {exposure.value.openOrders} open orders, equity{" "}
          {formatNotional(exposure.value.pnl.equity)}, drawdown {formatNotional(exposure.value.pnl.drawdown)}
        </p>
      )}
      <div class="bars">
        {bars.map((b) => (
          <div class="bar-row" key={`${b.label}-${b.measure}`}>
            <span class="bar-label">
              {b.label} <span class="muted">{b.measure}</span>
            </span>
            <span class="bar">
              <span class={`fill ${b.level}`} style={{ width: `${b.widthPercent}%` }} />
            </span>
            <span class="num">
              {formatNotional(b.used)} / {formatNotional(b.limit)} ({formatPercent(b.ratio, 0)})
            </span>
          </div>
        ))}
        {exposure.value && bars.length === 0 && <p class="muted">No limit is set.</p>}
      </div>

      <h3>Value at risk (one period)</h3>
      {risk ? (
        <table class="var">
          <thead>
            <tr>
              <th />
              <th>VaR 95 %</th>
              <th>VaR 99 %</th>
              <th>ES 95 %</th>
              <th>ES 99 %</th>
            </tr>
          </thead>
          <tbody>
            {(["historical", "parametric"] as const).map((kind) => (
              <tr key={kind}>
                <td>{kind}</td>
                <td class="num">{formatNotional(risk[kind].var95)}</td>
                <td class="num">{formatNotional(risk[kind].var99)}</td>
                <td class="num">{formatNotional(risk[kind].es95)}</td>
                <td class="num">{formatNotional(risk[kind].es99)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">Not enough common history yet (20 periods).</p>
      )}

      <h3>Correlation clusters</h3>
      <ErrorLine error={correlation.error} />
      {correlation.value && (
        <>
          <p class="muted">
            {correlation.value.strategies.length} strategies, {correlation.value.periods} periods, shrinkage{" "}
            {formatPercent(correlation.value.shrinkage, 0)}, clusters above ρ {correlation.value.rho}:{" "}
            {correlation.value.clusters.map((c) => c.members.join(" + ")).join("; ") || "none"}
          </p>
          <Heatmap matrix={correlationMatrix(correlation.value)} />
        </>
      )}
    </section>
  );
}
