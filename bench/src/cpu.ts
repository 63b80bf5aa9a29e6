/**
 * CPU time per process over a measured stretch, read from /proc (Linux): what
 * each process of a figure spent, so a throughput says where its time went.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

function processCpuMs(pid: number): number {
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) are space-separated: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Processes measured together, by role (several pids may share one role, e.g. the shards). */
export type Roles = Record<string, number[]>;

/** CPU ms spent by each role since the snapshot. */
export interface CpuSpent {
  [role: string]: number;
}

/** Takes a snapshot now; the returned function gives the CPU ms each role spent since. */
export function cpuMeter(roles: Roles): () => CpuSpent {
  const read = (): CpuSpent =>
    Object.fromEntries(
      Object.entries(roles).map(([role, pids]) => [role, pids.reduce((ms, pid) => ms + processCpuMs(pid), 0)]),
    );
  const before = read();
  return () => {
    const after = read();
    return Object.fromEntries(Object.keys(roles).map((role) => [role, (after[role] ?? 0) - (before[role] ?? 0)]));
  };
}

/** Microseconds of CPU per operation, by role. */
export function perOperationUs(spent: CpuSpent, operations: number): CpuSpent {
  return Object.fromEntries(Object.entries(spent).map(([role, ms]) => [role, (ms * 1000) / operations]));
}
