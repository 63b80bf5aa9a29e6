/**
 * The cluster: every shard (from the services framework's `$SRV.STATS`, as `stratreg status`
 * gathers it), the partitions each holds with their lease ages, queue depths and log and
 * snapshot sequences, and the heartbeats as they arrive. Operators may drain a shard.
 */
import type { Heartbeat, OwnershipEvent, ShardStatus } from "@stratreg/protocol/web";
import { useState } from "preact/hooks";
import { formatAge, formatBytes, formatClock } from "../../model/format.js";
import { useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { useFollow, usePoll } from "../hooks.js";
import { DrainButton, type Outcome, Result } from "./controls.js";

export const CLUSTER_POLL_MS = 2000;
/** The services-framework name shards register (`SHARD_SERVICE_NAME`); `$SRV.STATS.<name>` reaches them all. */
const SHARD_STATS = "$SRV.STATS.stratreg-shard";

interface ServiceStats {
  metadata?: Record<string, string>;
  endpoints?: Array<{ subject: string; data?: unknown }>;
}

export function ClusterView() {
  const ctx = useConsole();
  const [heartbeats, setHeartbeats] = useState(new Map<string, { at: number; beat: Heartbeat }>());
  const [events, setEvents] = useState<OwnershipEvent[]>([]);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [open, setOpen] = useState<string | undefined>(undefined);
  useFollow<Heartbeat>(ctx.subjects.heartbeat, (beat) =>
    setHeartbeats((held) => new Map(held).set(beat.member, { at: Date.now(), beat })),
  );
  useFollow<OwnershipEvent>(ctx.subjects.ownershipEvents, (event) =>
    setEvents((held) => [event, ...held].slice(0, 20)),
  );
  const stats = usePoll(
    async () => {
      const replies = await ctx.conn.gather<ServiceStats>(SHARD_STATS);
      const shards: ShardStatus[] = [];
      for (const r of replies) {
        if (r.metadata?.cluster !== ctx.subjects.cluster) continue;
        const status = r.endpoints?.find((e) => e.subject.endsWith(".status"))?.data as ShardStatus | undefined;
        if (status) shards.push(status);
      }
      return shards.sort((a, b) => a.member.localeCompare(b.member));
    },
    CLUSTER_POLL_MS,
    [],
  );
  const shards = stats.value ?? [];
  const served = new Set(shards.flatMap((s) => s.serving));

  return (
    <section id="view-cluster">
      <h2>Cluster</h2>
      <ErrorLine error={stats.error} />
      <p class="muted">
        {shards.length} shards, {served.size} of {ctx.partitions} partitions served
      </p>
      <Result outcome={outcome} />
      <table class="shards">
        <thead>
          <tr>
            <th>shard</th>
            <th>partitions</th>
            <th>loading</th>
            <th>strategies</th>
            <th>queued</th>
            <th>oldest lease</th>
            <th>memory</th>
            <th>last heartbeat</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shards.map((s) => {
            const parts = s.partitions ?? [];
            const queued = parts.reduce((n, p) => n + p.queued, 0);
            const oldest = parts.reduce((m, p) => Math.max(m, p.leaseAgeMs), -1);
            const beat = heartbeats.get(s.member);
            return [
              <tr key={s.member} data-member={s.member}>
                <td>
                  <button type="button" class="link" onClick={() => setOpen(open === s.member ? undefined : s.member)}>
                    {s.member}
                  </button>
                  {s.draining ? <span class="tag">draining</span> : null}
                </td>
                <td class="num">{s.serving.length}</td>
                <td class="num">{s.loading.length}</td>
                <td class="num">{s.strategies.toLocaleString("en-US")}</td>
                <td class="num">{queued}</td>
                <td class="num">{formatAge(oldest)}</td>
                <td class="num">{formatBytes(s.rss)}</td>
                <td>{beat ? formatClock(beat.at) : "—"}</td>
                <td>
                  <DrainButton member={s.member} onResult={setOutcome} />
                </td>
              </tr>,
              open === s.member && (
                <tr key={`${s.member}-parts`}>
                  <td colSpan={9}>
                    <table class="partitions">
                      <thead>
                        <tr>
                          <th>partition</th>
                          <th>state</th>
                          <th>epoch</th>
                          <th>lease age</th>
                          <th>queued</th>
                          <th>log seq</th>
                          <th>snapshot seq</th>
                          <th>strategies</th>
                        </tr>
                      </thead>
                      <tbody>
                        {parts.map((p) => (
                          <tr key={p.partition}>
                            <td class="num">{p.partition}</td>
                            <td>{p.state}</td>
                            <td class="num">{p.epoch}</td>
                            <td class="num">{formatAge(p.leaseAgeMs)}</td>
                            <td class="num">{p.queued}</td>
                            <td class="num">{p.logSeq}</td>
                            <td class="num">{p.snapshotSeq}</td>
                            <td class="num">{p.strategies}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
      <h3>Ownership changes</h3>
      <ul class="events">
        {events.map((e) => (
          <li key={`${e.partition}-${e.epoch}-${e.change}`}>
            {formatClock(e.at)} partition {e.partition} {e.change} by {e.member} (epoch {e.epoch})
          </li>
        ))}
        {events.length === 0 && <li class="muted">none since the page opened</li>}
      </ul>
    </section>
  );
}
