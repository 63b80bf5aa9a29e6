/**
 * Discovery: the run in progress (followed on its progress events), the latest runs, and
 * the candidates with their validation reports (each new one arrives on its event).
 */
import { type CandidateMessage, DiscoveryOps, type RunProgress } from "@stratreg/protocol/web";
import { useState } from "preact/hooks";
import { formatAge, formatNumber } from "../../model/format.js";
import { useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { useFollow, usePoll } from "../hooks.js";
import { ThresholdTable } from "./thresholds.js";

export const DISCOVERY_POLL_MS = 5000;

interface DiscoveryStatus {
  member: string;
  state: string;
  run: RunProgress | null;
  runs: RunProgress[];
}

function Progress({ run }: { run: RunProgress }) {
  const share = run.budgetMs > 0 ? Math.min(1, run.elapsedMs / run.budgetMs) : 0;
  return (
    <div class="run" data-run={run.runId}>
      <strong>{run.runId}</strong> {run.phase}
      {run.outcome ? ` (${run.outcome})` : ""} — {run.targetsDone}/{run.targets.length} series, generation{" "}
      {run.generation}, {run.evaluated.toLocaleString("en-US")} evaluated, {run.candidates} candidates, best train
      Sharpe {formatNumber(run.bestTrainSharpe)}, {formatAge(run.elapsedMs)} of {formatAge(run.budgetMs)}
      <span class="bar">
        <span class="fill ok" style={{ width: `${share * 100}%` }} />
      </span>
      {run.error && <p class="error">{run.error}</p>}
    </div>
  );
}

function Report({ candidate }: { candidate: CandidateMessage }) {
  return <ThresholdTable class="report" kind="check" rows={candidate.report.checks} />;
}

export function DiscoveryView() {
  const ctx = useConsole();
  const [live, setLive] = useState<RunProgress | undefined>(undefined);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const status = usePoll(
    () => ctx.conn.request<DiscoveryStatus>(ctx.subjects.discovery(DiscoveryOps.Status), {}),
    DISCOVERY_POLL_MS,
    [],
  );
  const [arrived, setArrived] = useState<CandidateMessage[]>([]);
  const listed = usePoll(
    () =>
      ctx.conn.request<{ candidates: CandidateMessage[] }>(ctx.subjects.discovery(DiscoveryOps.Candidates), {
        limit: 50,
      }),
    60_000,
    [],
  );
  useFollow<RunProgress>(ctx.subjects.discoveryProgress, setLive);
  useFollow<CandidateMessage>(ctx.subjects.discoveryCandidates, (c) => setArrived((held) => [c, ...held]));
  const seen = new Set<string>();
  const candidates = [...arrived, ...(listed.value?.candidates ?? [])].filter((c) => !seen.has(c.id) && seen.add(c.id));
  const current = live ?? status.value?.run ?? undefined;

  return (
    <section id="view-discovery">
      <h2>Discovery</h2>
      <ErrorLine error={status.error} />
      <h3>In progress</h3>
      {current && !current.outcome ? <Progress run={current} /> : <p class="muted">No run in progress.</p>}
      <h3>Latest runs</h3>
      {(status.value?.runs ?? []).slice(0, 5).map((r) => (
        <Progress run={r} key={r.runId} />
      ))}
      <h3>Candidates</h3>
      <ErrorLine error={listed.error} />
      <table class="candidates">
        <thead>
          <tr>
            <th>strategy</th>
            <th>origin</th>
            <th>target</th>
            <th>expression</th>
            <th>held-out Sharpe</th>
            <th>passed</th>
          </tr>
        </thead>
        <tbody>
          {candidates.map((c) => [
            <tr key={c.id} onClick={() => setOpen(open === c.id ? undefined : c.id)} class="clickable">
              <td>
                <a href={`#/strategy/${encodeURIComponent(c.id)}`} onClick={() => ctx.openStrategy(c.id)}>
                  {c.id}
                </a>
              </td>
              <td>{c.origin}</td>
              <td>{c.target}</td>
              <td>
                <code>{c.expression}</code>
              </td>
              <td class="num">{formatNumber(c.report.heldOut?.sharpe ?? null, 2)}</td>
              <td>
                {c.report.checks.filter((k) => k.passed).length}/{c.report.checks.length}
              </td>
            </tr>,
            open === c.id && (
              <tr key={`${c.id}-report`}>
                <td colSpan={6}>
                  <Report candidate={c} />
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
      {candidates.length === 0 && <p class="muted">No candidate yet.</p>}
    </section>
  );
}
