/**
 * What the graph leader does while it holds the lease: decides edge changes
 * and cascades one at a time against the graph (which is the log's state),
 * appends each decision to the fenced log, and carries it onto the shards.
 *
 * - **Links.** Checked for a cycle before anything is written: the path back
 *   is the refusal. Decisions are serial, so no two concurrent requests can
 *   each add half of a cycle.
 * - **Projection.** Every link and unlink is carried onto the strategies it
 *   touches (`dependencies` of the source, `dependents` of each target) by the
 *   shards' `link` op, in log order, with command ids made of the log sequence:
 *   a retry, or a new leader redoing the tail, changes nothing twice. A
 *   `projected` record in the log says how far that has gone.
 * - **Cascades.** The record names the root, the move and every dependent to
 *   suspend; each step is a shard `cascade` op with a command id made of the
 *   record's sequence and the strategy, and a `done` record closes it. A leader
 *   that takes over finishes every cascade without a `done`, with the same ids,
 *   so each step happens exactly once whatever dies in the middle.
 */
import { performance } from "node:perf_hooks";
import type { StratregClient } from "@stratreg/client";
import { FencedAppendError, type Lease, type LeaseTable } from "@stratreg/fencing";
import {
  type CascadeAction,
  CascadeActions,
  type CascadeReply,
  type CascadeRequest,
  ConflictError,
  ErrorCodes,
  GraphLimits,
  type GraphNode,
  type GraphStatus,
  LifecycleStates,
  Limits,
  type LinkReply,
  type LinkRequest,
  PartitionOps,
  type Strategy,
  StratregError,
  type TraversalReply,
  type TraversalRequest,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import type { GraphConfig } from "./config.js";
import type { EdgeChange, GraphEntry, GraphLog } from "./log.js";
import {
  applyChange,
  type Cascade,
  type CascadeEntry,
  type EdgeEntry,
  type GraphState,
  undoChange,
  withCid,
} from "./state.js";

/** Shard writes carrying edge changes onto the shards at once. */
const PROJECT_WINDOW = 64;
/** Log entries between two `projected` records, at most. */
const PROJECTED_EVERY = 256;
/** How long a projection step waits before trying a shard again, ms. */
const RETRY_MS = 200;
/** The longest reason a lifecycle move takes on the shards. */
const REASON_MAX = 1000;
/** Default traversal size. */
const DEFAULT_LIMIT = 10_000;

/** An edge change asked for, waiting for the next group of decisions. */
interface PendingChange {
  change: EdgeChange;
  resolve(reply: Omit<LinkReply, "projected">): void;
  reject(err: unknown): void;
}

/** Most edge changes decided together in one append. */
const DECISIONS_MAX = 256;

/**
 * The refusal of an edge that would close the cycle `path`. The path is in the graph log
 * at `seq`, after the first `changes` changes of that record (the changes decided before
 * the refused one, in the same group).
 */
function cycleError(path: string[], seq: number, changes = 0): ConflictError {
  return new ConflictError(ErrorCodes.Cycle, `${path[0]} → ${path[1]} would close a cycle: ${path.join(" → ")}`, {
    details: { path, seq, changes },
  });
}

const isCode = (err: unknown, code: string) => err instanceof StratregError && err.code === code;

export class GraphLeader {
  private stopped = false;
  /** Decisions run one at a time. */
  private deciding: Promise<unknown> = Promise.resolve();
  /** Appends run one at a time, each expecting the last one's sequence. */
  private appending: Promise<unknown> = Promise.resolve();
  /** Sequence up to which links and unlinks are on the shards. */
  private projectedSeq: number;
  private markedSeq: number;
  /** Entries being projected, and those finished before an earlier one (so not yet under the mark). */
  private readonly projecting = new Map<number, number>();
  /** Shard writes of the entries being projected. */
  private writesInFlight = 0;
  private readonly finished = new Set<number>();
  /** Replies waiting for the shards to show a log entry, by its sequence (a group's replies share one). */
  private readonly waiters = new Map<number, Array<() => void>>();
  /** Edge changes being decided, by their requests' command ids. */
  private readonly inHand = new Map<string, Promise<Omit<LinkReply, "projected">>>();
  /** Edge changes waiting for the next group of decisions. */
  private readonly pendingChanges: PendingChange[] = [];
  private decidingChanges = false;
  /** Cascades being carried out, by sequence. */
  private readonly running = new Map<number, Promise<CascadeReply>>();
  private renewTimer: NodeJS.Timeout | undefined;
  private markTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: GraphState,
    private readonly log: GraphLog,
    private readonly client: StratregClient,
    readonly lease: Lease,
    private readonly leases: LeaseTable,
    /** When the graph log was created (base 36 ms): part of every command id. */
    private readonly incarnation: string,
    private readonly config: GraphConfig,
    private readonly logger: Logger,
    /** Called once when leadership is lost (lease lapsed, append fenced). */
    private readonly onLost: (reason: string) => void,
  ) {
    const first = state.unprojected[0];
    this.projectedSeq = first === undefined ? state.seq : first.seq - 1;
    this.markedSeq = this.projectedSeq;
  }

  get epoch(): number {
    return this.lease.epoch;
  }

  /**
   * The command id of step `step` of the log record at `seq`: the same whenever the step is
   * retried or redone, and tied to this incarnation of the graph log (a log created anew starts
   * at sequence 1 again, and the shards remember command ids for hours).
   */
  private commandId(seq: number, step: number | string): string {
    return `graph-${this.incarnation}-${seq}-${step}`;
  }

  /** Starts renewing the lease and finishes what the log left open. */
  start(): void {
    this.renewTimer = setInterval(() => this.renew(), Math.max(20, Math.floor(this.config.leaseMarginMs / 2)));
    this.markTimer = setInterval(() => this.mark(false), 1000);
    this.project();
    for (const [seq, cascade] of this.state.open) {
      this.run(seq, cascade).catch((err: unknown) => this.logger.warn({ err, seq }, "a cascade was left open"));
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearInterval(this.markTimer);
    for (const wakes of this.waiters.values()) for (const wake of wakes) wake();
    this.waiters.clear();
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.onLost(reason);
  }

  private renew(): void {
    // One renewal at a time: a second one would carry the same revision and be refused as if lost.
    if (this.stopped || this.lease.renewal !== undefined) return;
    this.leases.renew(this.lease).then(
      (held) => {
        if (!held) this.lost("the lease was taken by another graph process");
        else if (!this.lease.fresh()) this.lost("the lease could not be renewed in time");
      },
      (err: unknown) => {
        if (!this.lease.fresh()) this.lost(`the lease could not be renewed: ${(err as Error).message}`);
      },
    );
  }

  private checkLeading(): void {
    if (this.stopped || !this.lease.fresh()) {
      throw new UnavailableError(ErrorCodes.NotOwner, "this graph process no longer leads", { retryable: true });
    }
  }

  /** Appends `entry` after the last one and applies it; a refused append ends the leadership. */
  private append(entry: GraphEntry): Promise<number> {
    const run = this.appending.then(async () => {
      this.checkLeading();
      try {
        const seq = await this.log.append(entry, this.state.seq);
        this.state.apply(entry, seq);
        return seq;
      } catch (err) {
        if (err instanceof FencedAppendError) this.lost(err.message);
        throw err;
      }
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  private decide<T>(work: () => Promise<T>): Promise<T> {
    const run = this.deciding.then(() => {
      this.checkLeading();
      return work();
    });
    this.deciding = run.catch(() => undefined);
    return run;
  }

  private async strategy(id: string, field: string): Promise<Strategy> {
    try {
      return await this.client.get(id, { timeoutMs: 5000 });
    } catch (err) {
      if (isCode(err, ErrorCodes.NotFound)) {
        throw new StratregError(ErrorCodes.NotFound, `no strategy ${id}`, { field, details: { id } });
      }
      throw err;
    }
  }

  /** `cid`: the request's command id; a retry with it is answered as the first request was. */
  async link(body: LinkRequest, cid?: string): Promise<LinkReply> {
    const { from, by } = body;
    const to = [...new Set(body.to)];
    const earlier = this.earlier(cid, to);
    if (earlier !== undefined) return this.answered(await earlier);
    // What the strategies are is asked of their shards before the decision, so that decisions
    // (serial) wait on nothing but the log.
    const [source, ...targets] = await Promise.all([
      this.strategy(from, "body.from"),
      ...to.map((id) => this.strategy(id, `body.to[${body.to.indexOf(id)}]`)),
    ]);
    checkSource(source as Strategy);
    for (const target of targets) {
      if (target.state === LifecycleStates.Retired) {
        throw new ConflictError(
          ErrorCodes.InvalidTransition,
          `strategy ${target.id} is retired: nothing new may depend on it`,
          {
            details: { id: target.id, state: target.state },
          },
        );
      }
    }
    return this.answered(await this.change(withCid({ t: "link", from, to, by }, cid)));
  }

  async unlink(body: LinkRequest, cid?: string): Promise<LinkReply> {
    const { from, by } = body;
    const to = [...new Set(body.to)];
    const earlier = this.earlier(cid, to);
    if (earlier !== undefined) return this.answered(await earlier);
    const source = await this.strategy(from, "body.from");
    // A retired strategy may still let go of what it depended on (its dependencies are freed).
    if (source.state !== LifecycleStates.Retired) checkSource(source);
    return this.answered(await this.change(withCid({ t: "unlink", from, to, by }, cid)));
  }

  /** The outcome of the change command `cid` started, if one did: decided and logged, or still in hand. */
  private earlier(cid: string | undefined, to: string[]): Promise<Omit<LinkReply, "projected">> | undefined {
    if (cid === undefined) return undefined;
    const logged = this.state.changeByCid.get(cid);
    if (logged !== undefined) {
      const { seq, from, changed } = logged;
      return Promise.resolve({ from, changed, unchanged: to.filter((id) => !changed.includes(id)), seq });
    }
    return this.inHand.get(cid);
  }

  /** Queues `change` for the next group of decisions. */
  private change(change: EdgeChange): Promise<Omit<LinkReply, "projected">> {
    const decided = new Promise<Omit<LinkReply, "projected">>((resolve, reject) => {
      this.pendingChanges.push({ change, resolve, reject });
      if (!this.decidingChanges) {
        this.decidingChanges = true;
        this.decideChanges().catch((err: unknown) => {
          this.decidingChanges = false;
          this.logger.error({ err }, "deciding edge changes failed");
        });
      }
    });
    const cid = change.cid;
    if (cid !== undefined) {
      this.inHand.set(cid, decided);
      const forget = () => this.inHand.delete(cid);
      decided.then(forget, forget);
    }
    return decided;
  }

  /**
   * Decides every edge change in hand, in the order asked, against the graph as the
   * earlier ones leave it (a cycle through an edge decided a moment before is refused
   * too), appends the accepted ones as one record, then answers all of them. A refusal
   * is answered only once that append is stored, naming its sequence: the path it
   * shows is in the log there. If the append fails, the tentative edges are undone and
   * every change of the group fails with it.
   */
  private async decideChanges(): Promise<void> {
    for (;;) {
      // Cleared in the same turn as the queue is found empty: a change queued after this sees it clear.
      if (this.pendingChanges.length === 0) {
        this.decidingChanges = false;
        return;
      }
      const group = this.pendingChanges.splice(0, DECISIONS_MAX);
      const outcomes = await this.decide(async () => {
        const applied: Array<{ change: EdgeChange; changed: string[] }> = [];
        const decided = group.map((pending) => {
          const before = applied.filter(({ changed }) => changed.length > 0).length;
          try {
            return { pending, before, result: this.decideChange(pending.change, applied) };
          } catch (err) {
            return { pending, before, error: err };
          }
        });
        const changes = applied.filter(({ changed }) => changed.length > 0);
        let seq = 0;
        if (changes.length > 0) {
          const entry: EdgeEntry = {
            t: "edges",
            changes: changes.map(({ change, changed }) => ({ ...change, to: changed })),
            at: Date.now(),
          };
          try {
            seq = await this.append(entry);
          } catch (err) {
            for (const { change, changed } of [...applied].reverse()) undoChange(this.state.graph, change, changed);
            return decided.map(({ pending }) => ({ pending, error: err }));
          }
        }
        return decided.map((outcome) => {
          if (outcome.error instanceof StratregError && outcome.error.code === ErrorCodes.Cycle) {
            const path = outcome.error.details?.path as string[];
            return {
              ...outcome,
              error:
                seq === 0
                  ? cycleError(path, this.state.seq, this.state.lastChanges)
                  : cycleError(path, seq, outcome.before),
            };
          }
          return outcome.result === undefined ? outcome : { ...outcome, result: { ...outcome.result, seq } };
        });
      }).catch((err: unknown) => group.map((pending) => ({ pending, error: err })));
      for (const outcome of outcomes) {
        if ("result" in outcome && outcome.result !== undefined) outcome.pending.resolve(outcome.result);
        else outcome.pending.reject((outcome as { error: unknown }).error);
      }
    }
  }

  /** One change against the graph as it is now; applies it (tentatively) when accepted. */
  private decideChange(
    change: EdgeChange,
    applied: Array<{ change: EdgeChange; changed: string[] }>,
  ): Omit<LinkReply, "projected"> {
    const { from, to } = change;
    const graph = this.state.graph;
    if (change.t === "link") {
      const fresh = to.filter((id) => !graph.has(from, id));
      // The cycle check needs nothing but the graph: decisions are serial, so it cannot go stale.
      for (const id of fresh) {
        const path = graph.cycleIf(from, id);
        if (path !== undefined) throw cycleError(path, this.state.seq, this.state.lastChanges);
      }
      const count = graph.dependenciesOf(from).size + fresh.length;
      if (count > Limits.dependenciesMax) {
        throw new ValidationError(
          ErrorCodes.InvalidField,
          `${from} would depend on ${count} strategies, more than the ${Limits.dependenciesMax} allowed`,
          { field: "body.to", details: { count, max: Limits.dependenciesMax } },
        );
      }
    }
    const changed = applyChange(graph, change);
    applied.push({ change, changed });
    return { from, changed, unchanged: to.filter((id) => !changed.includes(id)), seq: 0 };
  }

  /** The reply to a link or unlink, once the shards show it (or the wait ran out). */
  private async answered(decided: Omit<LinkReply, "projected">): Promise<LinkReply> {
    if (decided.seq === 0) return { ...decided, projected: this.isProjected(decided.from) };
    this.project();
    return { ...decided, projected: await this.projectedBy(decided.seq) };
  }

  /** Whether no change of `from`'s edges is still on its way to the shards. */
  private isProjected(from: string): boolean {
    return !this.state.unprojected.some(
      ({ seq, entry }) => seq > this.projectedSeq && entry.changes.some((change) => change.from === from),
    );
  }

  traverse(body: TraversalRequest, direction: "dependents" | "dependencies"): TraversalReply {
    this.checkLeading();
    const { nodes, truncated } = this.state.graph.reach(
      body.id,
      direction,
      body.depth ?? GraphLimits.depthMax,
      body.limit ?? DEFAULT_LIMIT,
    );
    return { id: body.id, nodes, truncated, seq: this.state.seq };
  }

  /** `cid`: the request's command id; a retry with it gets the first request's outcome. */
  async cascade(body: CascadeRequest, cid?: string): Promise<CascadeReply> {
    const earlier = cid === undefined ? undefined : this.state.cascadeByCid.get(cid);
    if (earlier !== undefined) return this.resume(earlier);
    // Asked of the root's shard before the decision, so that decisions wait on nothing but the log.
    const root = await this.strategy(body.id, "body.id");
    const seq = await this.decide(async () => {
      const again = cid === undefined ? undefined : this.state.cascadeByCid.get(cid);
      if (again !== undefined) return again;
      if (root.state === LifecycleStates.Retired) {
        throw new ConflictError(ErrorCodes.InvalidTransition, `strategy ${root.id} is already retired`, {
          details: { id: root.id, state: root.state },
        });
      }
      if (body.action === CascadeActions.Suspend && root.state !== LifecycleStates.Active) {
        throw new ConflictError(
          ErrorCodes.InvalidTransition,
          `strategy ${root.id} is ${root.state}, not active: only an active strategy is suspended`,
          { details: { id: root.id, state: root.state } },
        );
      }
      const entry: CascadeEntry = { t: "cascade", ...body, at: Date.now() };
      if (cid !== undefined) entry.cid = cid;
      return this.append(entry);
    });
    // The steps run outside the decisions: a long cascade does not hold up edge changes.
    return this.resume(seq);
  }

  /** The outcome of the cascade at `seq`: carried out now, being carried out, or closed. */
  private resume(seq: number): Promise<CascadeReply> {
    const running = this.running.get(seq);
    if (running !== undefined) return running;
    const closed = this.state.closed.get(seq);
    if (closed !== undefined) return Promise.resolve(outcome(seq, closed, closed.skipped));
    return this.run(seq, this.state.open.get(seq) as Cascade);
  }

  /** Carries out the cascade at `seq`, once: a second call shares the first's outcome. */
  private run(seq: number, cascade: Cascade): Promise<CascadeReply> {
    let running = this.running.get(seq);
    if (running === undefined) {
      running = this.finishCascade(seq, cascade);
      this.running.set(seq, running);
      const forget = () => this.running.delete(seq);
      running.then(forget, forget);
    }
    return running;
  }

  status(): GraphStatus {
    return {
      member: this.config.member,
      leader: !this.stopped,
      epoch: this.lease.epoch,
      seq: this.state.seq,
      strategies: this.state.graph.strategies,
      edges: this.state.graph.edges,
      pending: this.state.unprojected.filter(({ seq }) => seq > this.projectedSeq).length,
    };
  }

  /**
   * Carries every unprojected link and unlink onto the shards. Entries start in log order,
   * up to {@link PROJECT_WINDOW} at once, each only once no earlier unfinished entry touches
   * any of its strategies: per strategy, changes land in log order.
   */
  private project(): void {
    if (this.stopped) return;
    const busy = new Set<string>();
    for (const { seq, entry } of this.state.unprojected) {
      if (seq <= this.projectedSeq || this.finished.has(seq)) continue;
      const ids = new Set(entry.changes.flatMap((change) => [change.from, ...change.to]));
      if (!this.projecting.has(seq) && ![...ids].some((id) => busy.has(id))) {
        // Bounded by shard writes in flight, so projection cannot crowd out the shards' other work;
        // a record larger than the window goes alone.
        if (this.projecting.size > 0 && this.writesInFlight + ids.size > PROJECT_WINDOW) break;
        this.projecting.set(seq, ids.size);
        this.writesInFlight += ids.size;
        void this.projectEntry(seq, entry).then(() => this.projected(seq));
      }
      for (const id of ids) busy.add(id);
    }
  }

  /** Notes entry `seq` as on the shards, moves the projected mark over every finished entry, and starts more. */
  private projected(seq: number): void {
    this.writesInFlight -= this.projecting.get(seq) ?? 0;
    this.projecting.delete(seq);
    this.finished.add(seq);
    for (const { seq: next } of this.state.unprojected) {
      if (next <= this.projectedSeq) continue;
      if (!this.finished.has(next)) break;
      this.finished.delete(next);
      this.projectedSeq = next;
    }
    for (const [waiting, wakes] of this.waiters) {
      if (waiting > this.projectedSeq) continue;
      this.waiters.delete(waiting);
      for (const wake of wakes) wake();
    }
    if (this.projectedSeq - this.markedSeq >= PROJECTED_EVERY) this.mark(true);
    this.project();
  }

  private async projectEntry(seq: number, entry: EdgeEntry): Promise<void> {
    // Per strategy, what the record leaves each of its edges as (a later change of one edge wins),
    // so that each strategy takes one write whatever order its changes came in.
    const net = new Map<string, { dependencies: Map<string, boolean>; dependents: Map<string, boolean> }>();
    const sides = (id: string) => {
      let found = net.get(id);
      if (found === undefined) {
        found = { dependencies: new Map(), dependents: new Map() };
        net.set(id, found);
      }
      return found;
    };
    const askedBy = new Map<string, Set<string>>();
    const note = (id: string, by: string) => askedBy.set(id, (askedBy.get(id) ?? new Set()).add(by));
    for (const change of entry.changes) {
      note(change.from, change.by);
      for (const to of change.to) {
        sides(change.from).dependencies.set(to, change.t === "link");
        sides(to).dependents.set(change.from, change.t === "link");
        note(to, change.by);
      }
    }
    // Each write adds or removes at most 64 ids per side (the shards' limit): a strategy that many
    // others came to depend on in one record takes several writes, in order.
    const chunks = (edges: Map<string, boolean>, present: boolean) => {
      const ids = [...edges].filter(([, p]) => p === present).map(([id]) => id);
      const out: string[][] = [];
      for (let i = 0; i < ids.length; i += Limits.dependenciesMax) out.push(ids.slice(i, i + Limits.dependenciesMax));
      return out;
    };
    const writes: Array<{ id: string; bodies: Array<Record<string, unknown>> }> = [...net.keys()].sort().map((id) => {
      const { dependencies, dependents } = net.get(id) as {
        dependencies: Map<string, boolean>;
        dependents: Map<string, boolean>;
      };
      const by = [...(askedBy.get(id) ?? [])].join(", ").slice(0, Limits.labelMaxLength);
      const bodies: Array<Record<string, unknown>> = [];
      for (const [side, edges] of [
        ["dependencies", dependencies],
        ["dependents", dependents],
      ] as const) {
        for (const remove of chunks(edges, false)) bodies.push({ id, by, [side]: { remove } });
        for (const add of chunks(edges, true)) bodies.push({ id, by, [side]: { add } });
      }
      return { id, bodies };
    });
    // Steps are numbered over the whole record, so a retry or a new leader sends each with the same id.
    let step = 0;
    const steps = writes.map(({ id, bodies }) => {
      const first = step;
      step += bodies.length;
      return { id, bodies, first };
    });
    // A record's own writes go at most PROJECT_WINDOW at a time, each strategy's in order.
    let next = 0;
    const worker = async () => {
      while (next < steps.length) {
        const { id, bodies, first } = steps[next++] as (typeof steps)[number];
        for (const [i, body] of bodies.entries()) await this.projectStep(seq, first + i, id, body, entry.at);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PROJECT_WINDOW, steps.length) }, worker));
  }

  /**
   * One projection write, until the shard takes it. A refusal is not skipped: the record's mark
   * must not pass a change the shards do not show (their HAS_DEPENDENTS check stands on it). It
   * is logged and tried again, so `status.pending` shows a stuck projection until it is fixed.
   */
  private async projectStep(
    seq: number,
    step: number,
    id: string,
    body: Record<string, unknown>,
    at: number,
  ): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.shardWrite(PartitionOps.Link, id, body, this.commandId(seq, step), at);
        return;
      } catch (err) {
        if (this.stopped) return;
        if (attempt % 50 === 0) this.logger.error({ err, seq, id }, "a shard refused an edge change; trying again");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * One write on a shard, retried until it is answered (a shard that died is
   * replaced by the partition's next owner). Resolves with the strategy, or
   * rejects with the shard's non-retryable refusal.
   */
  private async shardWrite(
    op: typeof PartitionOps.Link | typeof PartitionOps.Cascade,
    id: string,
    body: Record<string, unknown>,
    cid: string,
    at: number,
    /** Asked when the command id has aged out: whether the step is known to be done already. */
    done?: () => Promise<boolean>,
  ): Promise<Strategy | undefined> {
    let issued = at;
    for (;;) {
      if (this.stopped)
        throw new UnavailableError(ErrorCodes.NotOwner, "the graph leader stopped", { retryable: true });
      try {
        const reply = await this.client.send(
          this.client.partitionOf(id),
          op,
          body,
          { cid, issued, timeoutMs: 5000 },
          true,
        );
        return reply.strategy;
      } catch (err) {
        // Past the shards' command window the id is no longer recognised. Edge changes are set
        // changes, sent again in log order; a cascade step first looks for its mark in the history.
        if (isCode(err, ErrorCodes.CommandExpired)) {
          const known = done === undefined ? false : await done().catch(stepGone);
          if (known === true) return undefined;
          // Not known either way (the strategy could not be read): ask again after a pause.
          if (known === undefined) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          else issued = Date.now();
          continue;
        }
        if (err instanceof StratregError && !err.retryable) throw err;
        this.logger.debug({ err, id, op }, "shard write failed; trying again");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Resolves true once `seq` is on the shards, false after the configured wait. */
  private projectedBy(seq: number): Promise<boolean> {
    if (this.projectedSeq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.projectedSeq >= seq);
      };
      const timer = setTimeout(() => {
        const left = (this.waiters.get(seq) ?? []).filter((other) => other !== wake);
        if (left.length > 0) this.waiters.set(seq, left);
        else this.waiters.delete(seq);
        resolve(false);
      }, this.config.projectWaitMs);
      this.waiters.set(seq, [...(this.waiters.get(seq) ?? []), wake]);
    });
  }

  /** Records in the log how far projection has gone (`force`: even if little has). */
  private mark(force: boolean): void {
    if (this.stopped || this.projectedSeq <= this.markedSeq) return;
    if (!force && this.projecting.size > 0) return;
    const upTo = this.projectedSeq;
    this.markedSeq = upTo;
    this.append({ t: "projected", upTo, at: Date.now() }).catch((err: unknown) => {
      this.markedSeq = Math.min(this.markedSeq, upTo - 1);
      this.logger.warn({ err }, "could not record the projection's progress");
    });
  }

  /** Runs a cascade's steps (again, after a takeover: the same command ids), then closes it. */
  private async finishCascade(seq: number, cascade: Cascade): Promise<CascadeReply> {
    const { entry, targets } = cascade;
    const verb = entry.action === CascadeActions.Retire ? "retired" : "suspended";
    const started = performance.now();
    // Named in every move it makes, so that each strategy's history says which cascade moved it.
    const mark = `cascade ${seq}`;
    try {
      await this.shardWrite(
        PartitionOps.Cascade,
        entry.id,
        { id: entry.id, action: entry.action, by: entry.by, reason: marked(entry.reason, mark) },
        this.commandId(seq, "root"),
        entry.at,
        () => this.moved(entry.id, mark),
      );
    } catch (err) {
      // Moved meanwhile by someone else (only possible once nothing depended on it), or on no shard at
      // all: its dependents still go.
      if (!isCode(err, ErrorCodes.InvalidTransition) && !isCode(err, ErrorCodes.NotFound)) throw err;
    }
    const reason = `dependency ${entry.id} ${verb} (${mark}): ${entry.reason}`.slice(0, REASON_MAX);
    const skipped: Array<GraphNode & { state: string }> = [];
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const index = next++;
        const target = targets[index] as GraphNode;
        try {
          await this.shardWrite(
            PartitionOps.Cascade,
            target.id,
            { id: target.id, action: CascadeActions.Suspend, by: entry.by, reason },
            this.commandId(seq, index),
            entry.at,
            () => this.moved(target.id, mark),
          );
        } catch (err) {
          if (isCode(err, ErrorCodes.InvalidTransition)) {
            const state = (err as StratregError).details?.state;
            skipped.push({ ...target, state: typeof state === "string" ? state : "unknown" });
          } else if (isCode(err, ErrorCodes.NotFound)) skipped.push({ ...target, state: "missing" });
          else throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.cascadeParallelism, targets.length) }, worker));
    // Closed for good: a `done` that could not be written is tried again while this process leads.
    for (;;) {
      try {
        await this.append({ t: "done", seq, skipped, at: Date.now() });
        break;
      } catch (err) {
        if (this.stopped || err instanceof FencedAppendError) throw err;
        this.logger.warn({ err, seq }, "could not close a cascade; trying again");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    this.logger.info(
      { id: entry.id, action: entry.action, seq, targets: targets.length, skipped: skipped.length },
      `cascade from ${entry.id} done in ${Math.round(performance.now() - started)} ms`,
    );
    return outcome(seq, cascade, skipped);
  }

  /**
   * Whether `id`'s lifecycle history shows the move marked `mark`: asked when a cascade step's
   * command id has aged out of the shards' window, so that the step is not made a second time.
   */
  private async moved(id: string, mark: string): Promise<boolean> {
    const strategy = await this.client.get(id, { timeoutMs: 5000 });
    const history = (strategy.lifecycle?.context as { history?: Array<{ reason?: string }> } | undefined)?.history;
    return (history ?? []).some((move) => move.reason?.includes(`(${mark})`) === true);
  }
}

/** `reason`, shortened if need be, with the cascade's mark after it: the root's move names its cascade too. */
function marked(reason: string, mark: string): string {
  const tail = ` (${mark})`;
  return `${reason.slice(0, REASON_MAX - tail.length)}${tail}`;
}

/**
 * Why an aged-out step's strategy could not be read: NOT_FOUND means no shard has it, so the step
 * was never made and a fresh one would be refused as well (thrown, the step is skipped as missing);
 * anything else leaves it unknown either way (undefined: asked again).
 */
function stepGone(err: unknown): undefined {
  if (isCode(err, ErrorCodes.NotFound)) throw err;
  return undefined;
}

/** A closed cascade's reply: every target it did not skip, it suspended. */
function outcome(
  seq: number,
  { entry, targets }: Cascade,
  skipped: Array<GraphNode & { state: string }>,
): CascadeReply {
  const order = (a: GraphNode, b: GraphNode) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const left = new Set(skipped.map((node) => node.id));
  return {
    id: entry.id,
    action: entry.action as CascadeAction,
    seq,
    suspended: targets.filter((node) => !left.has(node.id)).sort(order),
    skipped: [...skipped].sort(order),
  };
}

/** A strategy whose dependencies may change: not live (its behaviour would change under it), not retired. */
function checkSource(source: Strategy): void {
  if (
    source.state === LifecycleStates.Active ||
    source.state === LifecycleStates.Suspended ||
    source.state === LifecycleStates.Retired
  ) {
    throw new ConflictError(
      ErrorCodes.InvalidTransition,
      `strategy ${source.id} is ${source.state}: its dependencies cannot change (as with an update of them); retire it and register the changed strategy`,
      { details: { id: source.id, state: source.state } },
    );
  }
}
