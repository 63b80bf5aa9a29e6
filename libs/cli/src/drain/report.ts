/** What `stratreg drain` says: the shard's answer, where the hand-off stands, and how it ended. */
import type { DrainProgress, DrainReply, DrainResult } from "@stratreg/client";
import { formatDuration, formatRanges } from "../format.js";

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The shard's answer to the drain request (undefined: it was already draining and no longer answers). */
export function acceptedLine(member: string, cluster: string, reply: DrainReply | undefined): string {
  if (reply === undefined) return `${member} of cluster ${cluster} is already draining`;
  return `drain requested: ${reply.member} of cluster ${cluster} is handing off ${plural(reply.partitions, "partition")}`;
}

/** `N of P unserved`, or the count alone when the partition count is unknown. */
function unservedText(progress: DrainProgress): string {
  if (progress.partitions === undefined) return "partition count unknown";
  return `${progress.unserved.length} of ${progress.partitions} partitions unserved`;
}

/** Where the drain stands, without the time (so that a change of it is a change of state). */
export function progressText(member: string, progress: DrainProgress): string {
  const where = progress.present ? `${member} still holds ${plural(progress.held, "partition")}` : `${member} has left`;
  return `${where}; ${unservedText(progress)}`;
}

/** One progress line: where the drain stands and for how long it has been waiting. */
export function progressLine(member: string, progress: DrainProgress): string {
  return `waiting: ${progressText(member, progress)} (${formatDuration(progress.elapsedMs)})`;
}

/** Why the drain is not finished, for the timeout message. */
function pendingText(result: DrainResult): string {
  const { last, member } = result;
  const reasons: string[] = [];
  if (last.present) reasons.push(`${member} still answers, holding ${plural(last.held, "partition")}`);
  if (last.unserved.length > 0) {
    reasons.push(`${unservedText(last)} (${formatRanges(last.unserved)})`);
  }
  // Present in no sweep but once: the next sweep would have confirmed it gone.
  if (reasons.length === 0) reasons.push(`${member} had only just left`);
  return reasons.join("; ");
}

/** How the drain ended: a line for stdout when it succeeded, otherwise the reason for stderr. */
export function outcomeText(result: DrainResult): { ok: boolean; text: string } {
  const { member, last, partitions } = result;
  const took = formatDuration(result.elapsedMs);
  switch (result.outcome) {
    case "drained": {
      const all = partitions === undefined ? "the partitions" : `all ${plural(partitions, "partition")}`;
      const who = last.members.length === 0 ? "no member" : last.members.join(", ");
      return {
        ok: true,
        text: `drained ${member} in ${took}: ${who} ${last.members.length === 1 ? "serves" : "serve"} ${all}`,
      };
    }
    case "timed-out":
      return {
        ok: false,
        text: `${member} not drained after ${took}: ${pendingText(result)} (a shard that accepted goes on handing off; \`stratreg status\` shows where it stands)`,
      };
    case "aborted":
      return { ok: false, text: `stopped waiting after ${took}: ${member} goes on draining by itself` };
  }
}
