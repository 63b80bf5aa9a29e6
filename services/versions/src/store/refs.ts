/**
 * Branches and tags, each a KV bucket of the cluster's replication, one key per
 * branch (`<base64url(id)>.<base64url(name)>`: ids and names may hold dots) and
 * one key per strategy for all its tags. Every change of a branch is a
 * compare-and-set on the key's revision, so of two concurrent edits of one
 * branch one is refused CONFLICT; a tag moves only when asked to (`force`).
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import {
  type Branch,
  ConflictError,
  decode,
  ErrorCodes,
  encode,
  NotFoundError,
  type VersionTag,
} from "@stratreg/protocol";

/** A name as a KV key token. */
export function keyToken(name: string): string {
  return Buffer.from(name, "utf8").toString("base64url");
}

function keyOf(id: string, name: string): string {
  return `${keyToken(id)}.${keyToken(name)}`;
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    (err instanceof JetStreamApiError &&
      (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
        err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) ||
    /wrong last sequence/i.test(String((err as Error)?.message))
  );
}

async function valuesUnder<T>(kv: KV, id: string): Promise<T[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys(`${keyToken(id)}.*`)) keys.push(key);
  const entries = await Promise.all(keys.map((key) => kv.get(key)));
  return entries.flatMap((entry) => (entry === null || entry.operation !== "PUT" ? [] : [decode(entry.value) as T]));
}

/** A branch as stored, with the KV revision an edit must name. */
export interface StoredBranch {
  branch: Branch;
  revision: number;
}

/** Branches of strategies, in KV. */
export class BranchStore {
  constructor(private readonly kv: KV) {}

  async get(id: string, name: string): Promise<StoredBranch> {
    const entry = await this.kv.get(keyOf(id, name));
    if (entry === null || entry.operation !== "PUT") {
      throw new NotFoundError(`strategy ${id} has no branch ${name}`, { details: { id, branch: name } });
    }
    return { branch: decode(entry.value) as Branch, revision: entry.revision };
  }

  /** Every branch of `id`, by name. */
  async list(id: string): Promise<Branch[]> {
    const branches = await valuesUnder<Branch>(this.kv, id);
    return branches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Stores a new branch; ALREADY_EXISTS if the name is taken. */
  async create(branch: Branch): Promise<void> {
    try {
      await this.kv.create(keyOf(branch.id, branch.name), encode(branch));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw new ConflictError(ErrorCodes.AlreadyExists, `strategy ${branch.id} has a branch ${branch.name} already`, {
        details: { id: branch.id, branch: branch.name },
      });
    }
  }

  /** Replaces the branch stored at `revision`; CONFLICT if it changed since. */
  async replace(branch: Branch, revision: number, seenVersion: number): Promise<void> {
    try {
      await this.kv.update(keyOf(branch.id, branch.name), encode(branch), revision);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw new ConflictError(
        ErrorCodes.Conflict,
        `branch ${branch.name} of ${branch.id} changed while this edit was made on version ${seenVersion}`,
        { details: { id: branch.id, branch: branch.name, expected: seenVersion } },
      );
    }
  }

  async delete(id: string, name: string): Promise<void> {
    await this.kv.purge(keyOf(id, name));
  }
}

/** How many times a tag change is tried again after another change of the same strategy's tags won. */
const TAG_ATTEMPTS = 16;

/**
 * Tags of strategy versions, in KV: one key per strategy (`<base64url(id)>`)
 * holding all its tags, so `log` reads them with one get. Every change is a
 * compare-and-set on the key's revision, tried again when another change of
 * the same strategy's tags came first.
 */
export class TagStore {
  constructor(private readonly kv: KV) {}

  private async read(id: string): Promise<{ tags: Record<string, VersionTag>; revision: number }> {
    const entry = await this.kv.get(keyToken(id));
    if (entry === null || entry.operation !== "PUT") return { tags: {}, revision: 0 };
    return { tags: (decode(entry.value) as { tags: Record<string, VersionTag> }).tags, revision: entry.revision };
  }

  /** Applies `change` to `id`'s tags by compare-and-set, trying again when another change came first. */
  private async change<T>(
    id: string,
    change: (tags: Record<string, VersionTag>) => { write: boolean; result: T },
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { tags, revision } = await this.read(id);
      const { write, result } = change(tags);
      if (!write) return result;
      try {
        const value = encode({ tags });
        if (revision === 0) await this.kv.create(keyToken(id), value);
        else await this.kv.update(keyToken(id), value, revision);
        return result;
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= TAG_ATTEMPTS) throw err;
      }
    }
  }

  async get(id: string, tag: string): Promise<VersionTag | undefined> {
    return (await this.read(id)).tags[tag];
  }

  /** Every tag of `id`. */
  async list(id: string): Promise<VersionTag[]> {
    return Object.values((await this.read(id)).tags);
  }

  /**
   * Names `version` of `id` `tag`. A tag naming another version already is
   * CONFLICT (with the version it names) unless `force` moves it.
   */
  put(id: string, value: VersionTag, force: boolean): Promise<VersionTag> {
    return this.change(id, (tags) => {
      const existing = tags[value.tag];
      if (existing !== undefined && existing.version === value.version) return { write: false, result: existing };
      if (existing !== undefined && !force) {
        throw new ConflictError(
          ErrorCodes.Conflict,
          `tag ${value.tag} of ${id} names version ${existing.version}; move it with force`,
          { details: { id, tag: value.tag, version: existing.version } },
        );
      }
      tags[value.tag] = value;
      return { write: true, result: value };
    });
  }

  /** Removes a tag; NOT_FOUND if there is none. */
  delete(id: string, tag: string): Promise<VersionTag> {
    return this.change(id, (tags) => {
      const existing = tags[tag];
      if (existing === undefined) throw new NotFoundError(`strategy ${id} has no tag ${tag}`, { details: { id, tag } });
      delete tags[tag];
      return { write: true, result: existing };
    });
  }
}
