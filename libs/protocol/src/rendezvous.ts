import { hashString } from "./hash.js";

/**
 * Rendezvous (highest-random-weight) hashing of partitions onto members.
 * The weight of member m for partition p is `murmur3(utf8(m + "/" + p))`; the
 * member with the highest weight owns p, ties broken by the greater member id.
 * Adding or removing one member of N moves about 1/N of the partitions and no
 * others, and every process that sees the same member set computes the same owner.
 */
export function rendezvousOwner(partition: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const weight = hashString(`${member}/${partition}`);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member > best)) {
      best = member;
      bestWeight = weight;
    }
  }
  return best;
}

/** Every partition's owner among `members`, as an array indexed by partition. */
export function assignPartitions(partitions: number, members: readonly string[]): (string | undefined)[] {
  const owners: (string | undefined)[] = new Array(partitions);
  for (let p = 0; p < partitions; p++) owners[p] = rendezvousOwner(p, members);
  return owners;
}

/** The partitions `member` owns among `members`. */
export function partitionsOwnedBy(member: string, partitions: number, members: readonly string[]): number[] {
  const owned: number[] = [];
  for (let p = 0; p < partitions; p++) if (rendezvousOwner(p, members) === member) owned.push(p);
  return owned;
}
