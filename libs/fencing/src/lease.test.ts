/**
 * Partition leases against a real nats-server: taken and renewed by
 * compare-and-set, expired only by the taker's own clock, handed over at once
 * when released.
 */
import { performance } from "node:perf_hooks";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { LeaseTable } from "./lease.js";

const LEASE_MS = 400;
const MARGIN_MS = 80;
let nc: NatsConnection;
let kv: KV;
const tables: LeaseTable[] = [];

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  kv = await new Kvm(jetstream(nc)).create(`${uniqueClusterName("lease")}-leases`, { history: 1 });
});
afterAll(async () => {
  for (const table of tables) table.stop();
  await nc?.close();
});

async function table(member: string): Promise<LeaseTable> {
  const t = new LeaseTable(
    kv,
    (p) => `p${p}`,
    (key) => (key.startsWith("p") ? Number(key.slice(1)) : undefined),
    member,
    `${member}-instance`,
    { leaseMs: LEASE_MS, marginMs: MARGIN_MS },
    pino({ level: "silent" }),
  );
  await t.start();
  tables.push(t);
  return t;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function takeEventually(t: LeaseTable, partition: number, timeoutMs = 5000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const lease = await t.tryTake(partition);
    if (lease !== undefined) return lease;
    await sleep(Math.max(10, Math.min(t.waitBeforeTaking(partition), 50)));
  }
  throw new Error(`partition ${partition} not taken in ${timeoutMs} ms`);
}

test("a free lease is taken at epoch 1; while its holder renews, nobody else can take it", async () => {
  const a = await table("a1");
  const b = await table("b1");
  const lease = await a.tryTake(0);
  expect(lease?.epoch).toBe(1);
  expect(lease?.fresh()).toBe(true);
  await sleep(50);
  expect(b.holder(0)?.member).toBe("a1");
  for (let i = 0; i < 6; i++) {
    expect(await a.renew(lease as NonNullable<typeof lease>)).toBe(true);
    expect(await b.tryTake(0)).toBeUndefined();
    await sleep(LEASE_MS / 4);
  }
});

test("an unrenewed lease is taken only after a whole lease period by the taker's clock, at the next epoch; the old holder then fails to renew", async () => {
  const a = await table("a2");
  const b = await table("b2");
  const first = await a.tryTake(1);
  if (first === undefined) throw new Error("not taken");
  await sleep(50);
  const lastRenewal = performance.now();
  expect(await a.renew(first)).toBe(true);
  const second = await takeEventually(b, 1);
  expect(performance.now() - lastRenewal).toBeGreaterThanOrEqual(LEASE_MS);
  expect(second.epoch).toBe(2);
  // By then the old holder had stopped answering: its answer window is the lease period minus the margin.
  expect(first.fresh()).toBe(false);
  expect(await a.renew(first)).toBe(false);
  await sleep(50);
  expect(a.isOurs(1, first.epoch)).toBe(false);
  expect(b.isOurs(1, second.epoch)).toBe(true);
});

test("a released lease is taken at once, without waiting for expiry", async () => {
  const a = await table("a3");
  const b = await table("b3");
  const first = await a.tryTake(2);
  if (first === undefined) throw new Error("not taken");
  await sleep(50);
  expect(await b.tryTake(2)).toBeUndefined();
  const changed = new Promise<void>((resolve) => b.onChange((p) => p === 2 && resolve()));
  await a.release(first);
  expect(first.fresh()).toBe(false);
  await changed;
  const began = performance.now();
  const second = await b.tryTake(2);
  expect(second?.epoch).toBe(2);
  expect(performance.now() - began).toBeLessThan(LEASE_MS);
});

test("of many takers racing for a free lease, exactly one wins", async () => {
  const racers = await Promise.all(Array.from({ length: 6 }, (_, i) => table(`r${i}`)));
  const leases = await Promise.all(racers.map((r) => r.tryTake(3)));
  expect(leases.filter((l) => l !== undefined)).toHaveLength(1);
});

test("a holder's lease stops being fresh a margin before anyone could take it", async () => {
  const a = await table("a5");
  const lease = await takeEventually(a, 4);
  expect(lease.fresh(lease.renewedAt + LEASE_MS - MARGIN_MS - 1)).toBe(true);
  // A microsecond past the window: exactly at it, floating-point rounding of a large clock reading can land either side.
  expect(lease.fresh(lease.renewedAt + LEASE_MS - MARGIN_MS + 0.001)).toBe(false);
});
