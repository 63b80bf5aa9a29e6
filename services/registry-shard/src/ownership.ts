/**
 * Partition ownership as xstate actors, one per partition of the cluster:
 *
 *   unowned ──ACQUIRE──▶ loading ──done──▶ serving ──RELEASE──▶ releasing ──▶ unowned
 *                          │  ▲
 *                   error  ▼  │ after retryDelay
 *                         retrying
 *
 * Loading replays the partition's log; serving subscribes to its subjects;
 * releasing drains the subscription and waits for queued writes. The actors
 * hold no strategy data themselves: a partition's state lives in `owned`.
 */

import type { Logger } from "pino";
import { type ActorRefFrom, assign, createActor, fromPromise, setup } from "xstate";
import type { Partition } from "./partition.js";

/** Effects the machine asks the shard to carry out. */
export interface OwnershipEffects {
  /** Builds the partition's state from its log. */
  load(partition: number): Promise<Partition>;
  /** Starts answering the partition's subjects. */
  serve(partition: Partition): void;
  /** Stops answering and waits for in-flight work. */
  unserve(partition: Partition): Promise<void>;
}

export const OwnershipEvents = { Acquire: "ACQUIRE", Release: "RELEASE" } as const;
type OwnershipEvent = { type: typeof OwnershipEvents.Acquire } | { type: typeof OwnershipEvents.Release };

export const OwnershipStates = {
  Unowned: "unowned",
  Loading: "loading",
  Retrying: "retrying",
  Serving: "serving",
  Releasing: "releasing",
} as const;

export function createOwnershipMachine(effects: OwnershipEffects, retryDelayMs: number) {
  return setup({
    types: {
      context: {} as { partition: number; owned: Partition | undefined; failures: number },
      events: {} as OwnershipEvent,
      input: {} as { partition: number },
    },
    actors: {
      load: fromPromise<Partition, { partition: number }>(({ input }) => effects.load(input.partition)),
      release: fromPromise<void, { owned: Partition | undefined }>(async ({ input }) => {
        if (input.owned !== undefined) await effects.unserve(input.owned);
      }),
    },
    actions: {
      serve: ({ context }) => {
        if (context.owned !== undefined) effects.serve(context.owned);
      },
    },
    delays: {
      retryDelay: ({ context }) => Math.min(retryDelayMs * 2 ** context.failures, retryDelayMs * 16),
    },
  }).createMachine({
    id: "partition-ownership",
    context: ({ input }) => ({ partition: input.partition, owned: undefined, failures: 0 }),
    initial: OwnershipStates.Unowned,
    states: {
      [OwnershipStates.Unowned]: {
        on: { [OwnershipEvents.Acquire]: OwnershipStates.Loading },
      },
      [OwnershipStates.Loading]: {
        invoke: {
          src: "load",
          input: ({ context }) => ({ partition: context.partition }),
          onDone: {
            target: OwnershipStates.Serving,
            actions: assign({ owned: ({ event }) => event.output, failures: 0 }),
          },
          onError: {
            target: OwnershipStates.Retrying,
            actions: assign({ failures: ({ context }) => context.failures + 1 }),
          },
        },
        on: { [OwnershipEvents.Release]: OwnershipStates.Unowned },
      },
      [OwnershipStates.Retrying]: {
        after: { retryDelay: OwnershipStates.Loading },
        on: { [OwnershipEvents.Release]: OwnershipStates.Unowned },
      },
      [OwnershipStates.Serving]: {
        entry: "serve",
        on: { [OwnershipEvents.Release]: OwnershipStates.Releasing },
      },
      [OwnershipStates.Releasing]: {
        invoke: {
          src: "release",
          input: ({ context }) => ({ owned: context.owned }),
          onDone: { target: OwnershipStates.Unowned, actions: assign({ owned: undefined }) },
          onError: { target: OwnershipStates.Unowned, actions: assign({ owned: undefined }) },
        },
      },
    },
  });
}

type OwnershipActor = ActorRefFrom<ReturnType<typeof createOwnershipMachine>>;

/** Runs one ownership actor per partition and steers them towards the wanted set. */
export class OwnershipManager {
  private readonly actors: OwnershipActor[] = [];

  constructor(partitions: number, effects: OwnershipEffects, logger: Logger, retryDelayMs = 500) {
    const machine = createOwnershipMachine(effects, retryDelayMs);
    for (let partition = 0; partition < partitions; partition++) {
      const actor = createActor(machine, { input: { partition } });
      let previous: string = OwnershipStates.Unowned;
      actor.subscribe({
        next: (snapshot) => {
          const state = String(snapshot.value);
          if (state === previous) return;
          if (state === OwnershipStates.Retrying) {
            logger.warn({ partition, failures: snapshot.context.failures }, "partition load failed; retrying");
          } else {
            logger.debug({ partition, from: previous, to: state }, "partition ownership moved");
          }
          previous = state;
        },
        error: (err) => logger.error({ err, partition }, "partition ownership actor failed"),
      });
      actor.start();
      this.actors.push(actor);
    }
  }

  /** Sends ACQUIRE to partitions in `wanted` that are not owned, RELEASE to owned ones that are not wanted. */
  reconcile(wanted: ReadonlySet<number>): void {
    this.actors.forEach((actor, partition) => {
      const state = actor.getSnapshot().value;
      if (wanted.has(partition)) {
        if (state === OwnershipStates.Unowned) actor.send({ type: OwnershipEvents.Acquire });
      } else if (state !== OwnershipStates.Unowned && state !== OwnershipStates.Releasing) {
        actor.send({ type: OwnershipEvents.Release });
      }
    });
  }

  /** Partitions in each state. */
  byState(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    this.actors.forEach((actor, partition) => {
      const state = String(actor.getSnapshot().value);
      const list = out[state];
      if (list === undefined) out[state] = [partition];
      else list.push(partition);
    });
    return out;
  }

  /** The served partition objects. */
  served(): Partition[] {
    const out: Partition[] = [];
    for (const actor of this.actors) {
      const snapshot = actor.getSnapshot();
      if (snapshot.value === OwnershipStates.Serving && snapshot.context.owned !== undefined) {
        out.push(snapshot.context.owned);
      }
    }
    return out;
  }

  /** Releases every partition and waits until all are unowned. */
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
