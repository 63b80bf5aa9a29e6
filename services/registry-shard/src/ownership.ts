/**
 * Partition ownership as xstate actors, one per partition of the cluster:
 *
 *   unowned ──WANT──▶ acquiring ──lease taken──▶ loading ──done──▶ serving
 *      ▲                 │ UNWANT                  │  ▲ error        │ UNWANT
 *      │◀────────────────┘                         ▼  │ retry delay    ▼
 *      │                                         retrying        handing-off ──▶ unowned
 *      │◀──────────── LOST (taken over, fenced): stop answering at once, release nothing
 *
 * Acquiring waits until the lease is released or expires, then takes it by
 * compare-and-set. Loading reads the latest snapshot and the log after it and
 * appends the epoch marker that fences every earlier owner. Handing off stops
 * taking requests, finishes the queued writes and releases the lease, so the
 * next owner takes it at once. A load that is abandoned (UNWANT, LOST) is
 * cancelled: its replay stops and its slot in the load limiter is freed.
 * The actors hold no strategy data themselves: a partition's state lives in `owned`.
 */

import { performance } from "node:perf_hooks";
import type { Lease } from "@stratreg/fencing";
import type { PartitionStatus } from "@stratreg/protocol";
import type { Logger } from "pino";
import { type ActorRefFrom, assign, createActor, fromPromise, setup } from "xstate";
import type { Partition } from "./partition.js";

/** Effects the machine asks the shard to carry out. */
export interface OwnershipEffects {
  /** Waits until the partition's lease is ours; rejects when `signal` aborts. */
  acquire(partition: number, signal: AbortSignal): Promise<Lease>;
  /** Builds the partition's state (snapshot + log) and claims it with an epoch marker. */
  load(partition: number, lease: Lease, signal: AbortSignal): Promise<Partition>;
  /** Starts answering the partition's subjects. */
  serve(partition: Partition): void;
  /** Stops answering, waits for in-flight writes, releases the lease. */
  handOff(partition: Partition | undefined, lease: Lease | undefined): Promise<void>;
  /** Stops answering at once: the partition has another owner. */
  drop(partition: Partition | undefined, lease: Lease | undefined): void;
}

export const OwnershipEvents = { Want: "WANT", Unwant: "UNWANT", Lost: "LOST" } as const;
type OwnershipEvent =
  | { type: typeof OwnershipEvents.Want }
  | { type: typeof OwnershipEvents.Unwant }
  | { type: typeof OwnershipEvents.Lost; reason: string };

export const OwnershipStates = {
  Unowned: "unowned",
  Acquiring: "acquiring",
  Loading: "loading",
  Retrying: "retrying",
  Serving: "serving",
  HandingOff: "handing-off",
} as const;
export type OwnershipState = (typeof OwnershipStates)[keyof typeof OwnershipStates];

interface OwnershipContext {
  partition: number;
  lease: Lease | undefined;
  owned: Partition | undefined;
  failures: number;
}

export function createOwnershipMachine(effects: OwnershipEffects, retryDelayMs: number) {
  return setup({
    types: {
      context: {} as OwnershipContext,
      events: {} as OwnershipEvent,
      input: {} as { partition: number },
    },
    actors: {
      acquire: fromPromise<Lease, { partition: number }>(({ input, signal }) =>
        effects.acquire(input.partition, signal),
      ),
      load: fromPromise<Partition, { partition: number; lease: Lease }>(({ input, signal }) =>
        effects.load(input.partition, input.lease, signal),
      ),
      handOff: fromPromise<void, { owned: Partition | undefined; lease: Lease | undefined }>(({ input }) =>
        effects.handOff(input.owned, input.lease),
      ),
    },
    actions: {
      serve: ({ context }) => {
        if (context.owned !== undefined) effects.serve(context.owned);
      },
      drop: ({ context }) => effects.drop(context.owned, context.lease),
      forget: assign({ owned: undefined, lease: undefined }),
    },
    delays: {
      retryDelay: ({ context }) => Math.min(retryDelayMs * 2 ** context.failures, retryDelayMs * 16),
    },
  }).createMachine({
    id: "partition-ownership",
    context: ({ input }) => ({ partition: input.partition, lease: undefined, owned: undefined, failures: 0 }),
    initial: OwnershipStates.Unowned,
    states: {
      [OwnershipStates.Unowned]: {
        entry: "forget",
        on: { [OwnershipEvents.Want]: OwnershipStates.Acquiring },
      },
      [OwnershipStates.Acquiring]: {
        invoke: {
          src: "acquire",
          input: ({ context }) => ({ partition: context.partition }),
          onDone: { target: OwnershipStates.Loading, actions: assign({ lease: ({ event }) => event.output }) },
          onError: OwnershipStates.Unowned,
        },
        on: { [OwnershipEvents.Unwant]: OwnershipStates.Unowned },
      },
      [OwnershipStates.Loading]: {
        invoke: {
          src: "load",
          input: ({ context }) => ({ partition: context.partition, lease: context.lease as Lease }),
          onDone: {
            target: OwnershipStates.Serving,
            actions: assign({ owned: ({ event }) => event.output, failures: 0 }),
          },
          onError: {
            target: OwnershipStates.Retrying,
            actions: assign({ failures: ({ context }) => context.failures + 1 }),
          },
        },
        on: {
          [OwnershipEvents.Unwant]: OwnershipStates.HandingOff,
          [OwnershipEvents.Lost]: { target: OwnershipStates.Unowned, actions: "drop" },
        },
      },
      [OwnershipStates.Retrying]: {
        after: { retryDelay: OwnershipStates.Loading },
        on: {
          [OwnershipEvents.Unwant]: OwnershipStates.HandingOff,
          [OwnershipEvents.Lost]: { target: OwnershipStates.Unowned, actions: "drop" },
        },
      },
      [OwnershipStates.Serving]: {
        entry: "serve",
        on: {
          [OwnershipEvents.Unwant]: OwnershipStates.HandingOff,
          [OwnershipEvents.Lost]: { target: OwnershipStates.Unowned, actions: "drop" },
        },
      },
      [OwnershipStates.HandingOff]: {
        invoke: {
          src: "handOff",
          input: ({ context }) => ({ owned: context.owned, lease: context.lease }),
          onDone: OwnershipStates.Unowned,
          onError: OwnershipStates.Unowned,
        },
      },
    },
  });
}

type OwnershipActor = ActorRefFrom<ReturnType<typeof createOwnershipMachine>>;

/** Runs one ownership actor per partition and steers them towards the wanted set. */
export class OwnershipManager {
  private readonly actors: OwnershipActor[] = [];

  constructor(
    partitions: number,
    effects: OwnershipEffects,
    logger: Logger,
    onChange: (partition: number, from: OwnershipState, to: OwnershipState, lease: Lease | undefined) => void,
    retryDelayMs = 500,
  ) {
    const machine = createOwnershipMachine(effects, retryDelayMs);
    for (let partition = 0; partition < partitions; partition++) {
      const actor = createActor(machine, { input: { partition } });
      let previous: OwnershipState = OwnershipStates.Unowned;
      // Entering unowned forgets the lease: remember it, so a release or loss names its epoch.
      let lastLease: Lease | undefined;
      actor.subscribe({
        next: (snapshot) => {
          const state = snapshot.value as OwnershipState;
          if (snapshot.context.lease !== undefined) lastLease = snapshot.context.lease;
          if (state === previous) return;
          if (state === OwnershipStates.Retrying) {
            logger.warn({ partition, failures: snapshot.context.failures }, "partition load failed; retrying");
          }
          onChange(partition, previous, state, snapshot.context.lease ?? lastLease);
          if (state === OwnershipStates.Unowned) lastLease = undefined;
          previous = state;
        },
        error: (err) => logger.error({ err, partition }, "partition ownership actor failed"),
      });
      actor.start();
      this.actors.push(actor);
    }
  }

  /**
   * Sends WANT to partitions in `wanted` that are not owned, and UNWANT to owned
   * ones outside `keep` (default: `wanted`). Partitions in `keep` but not in
   * `wanted` are kept if held and not taken if not.
   */
  reconcile(wanted: ReadonlySet<number>, keep: ReadonlySet<number> = wanted): void {
    this.actors.forEach((actor, partition) => {
      const state = actor.getSnapshot().value;
      if (wanted.has(partition)) {
        if (state === OwnershipStates.Unowned) actor.send({ type: OwnershipEvents.Want });
      } else if (!keep.has(partition) && state !== OwnershipStates.Unowned && state !== OwnershipStates.HandingOff) {
        actor.send({ type: OwnershipEvents.Unwant });
      }
    });
  }

  /** Tells the actor of `partition` that another owner has taken it. */
  lost(partition: number, reason: string): void {
    this.actors[partition]?.send({ type: OwnershipEvents.Lost, reason });
  }

  /** The state and lease of one partition's actor (every lease change asks this: no array is built). */
  holding(partition: number): { state: OwnershipState; lease: Lease | undefined } | undefined {
    const snapshot = this.actors[partition]?.getSnapshot();
    return snapshot === undefined
      ? undefined
      : { state: snapshot.value as OwnershipState, lease: snapshot.context.lease };
  }

  /** The state of every partition's actor, with its lease and partition. */
  snapshots(): Array<{
    partition: number;
    state: OwnershipState;
    lease: Lease | undefined;
    owned: Partition | undefined;
  }> {
    return this.actors.map((actor, partition) => {
      const snapshot = actor.getSnapshot();
      return {
        partition,
        state: snapshot.value as OwnershipState,
        lease: snapshot.context.lease,
        owned: snapshot.context.owned,
      };
    });
  }

  /** What `stratreg status` shows of every partition this shard holds or is taking. */
  partitionStatus(now = performance.now()): PartitionStatus[] {
    return this.snapshots()
      .filter(({ state }) => state !== OwnershipStates.Unowned)
      .map(({ partition, state, lease, owned }) => ({
        partition,
        state,
        epoch: lease?.epoch ?? 0,
        leaseAgeMs: lease === undefined || !Number.isFinite(lease.renewedAt) ? -1 : Math.round(lease.age(now)),
        logSeq: owned?.lastSeq ?? 0,
        snapshotSeq: owned?.snapshotSeq ?? 0,
        queued: owned?.queued ?? 0,
        strategies: owned?.store.size ?? 0,
      }));
  }

  /** Partitions in each state. */
  byState(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const { partition, state } of this.snapshots()) {
      const list = out[state];
      if (list === undefined) out[state] = [partition];
      else list.push(partition);
    }
    return out;
  }

  /** The served partition objects. */
  served(): Partition[] {
    const out: Partition[] = [];
    for (const { state, owned } of this.snapshots()) {
      if (state === OwnershipStates.Serving && owned !== undefined) out.push(owned);
    }
    return out;
  }

  /** Hands every partition off and waits until all are unowned. */
  async releaseAll(): Promise<void> {
    this.reconcile(new Set());
    await Promise.all(
      this.actors.map(
        (actor) =>
          new Promise<void>((resolve) => {
            const check = () => actor.getSnapshot().value === OwnershipStates.Unowned;
            if (check()) return resolve();
            const sub = actor.subscribe(() => {
              if (check()) {
                sub.unsubscribe();
                resolve();
              }
            });
          }),
      ),
    );
  }

  stop(): void {
    for (const actor of this.actors) actor.stop();
  }
}
