/**
 * The cluster's strategy templates, in the JetStream KV bucket `<cluster>-templates`.
 * Each version is its own key, `<id>.<version>`, written once with `create`, so a
 * version never changes and two puts of the same id cannot both become version n:
 * one `create` wins, the other is refused by the server and tries again at n + 1,
 * unless its writer named the version it expected (`expectedVersion`), which then
 * answers CONFLICT. Versions are dense (1, 2, 3, …): a put creates the version
 * after the latest one, so the latest is found by asking for the next until it is
 * not there. Versions read once stay in memory (they never change).
 *
 * A put remembers its command id with the version it made: a put sent again with
 * the same id (a retry after a lost reply, here or at another shard) answers that
 * version instead of storing another.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ClusterSubjects,
  ConflictError,
  decode,
  ErrorCodes,
  encode,
  NotFoundError,
  StratregError,
  type Template,
  type TemplateInput,
  TemplateLimits,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";

/** How a version is stored: the template, and the command id of the put that made it. */
interface StoredTemplate {
  v: 1;
  template: Template;
  cid?: string;
}

/** A put that keeps losing races for a version (one per concurrent writer) gives up after this many. */
const PUT_ATTEMPTS = 32;

/** What a put says besides the template. */
export interface PutOptions {
  /** Who puts it (`createdBy`). */
  by?: string;
  /** The put's command id: a put with an id already stored answers that version. */
  cid?: string;
  /** The latest version the writer saw (0: none); CONFLICT when it is not the latest any more. */
  expectedVersion?: number;
}

const keyOf = (id: string, version: number) => `${id}.${version}`;

/** `mean-reversion.3` → `["mean-reversion", 3]`; undefined for a key that is not a template version. */
function parseKey(key: string): [string, number] | undefined {
  const dot = key.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const version = Number(key.slice(dot + 1));
  if (!Number.isSafeInteger(version) || version < 1) return undefined;
  return [key.slice(0, dot), version];
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    (err instanceof JetStreamApiError &&
      (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
        err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)) ||
    /wrong last sequence/i.test(String((err as Error)?.message))
  );
}

/** Failures of the bucket (server unreachable, a timeout) as a retryable error; the store's own errors as they are. */
async function unavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof StratregError) throw err;
    throw new UnavailableError(ErrorCodes.Unavailable, `the template store did not answer: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export class TemplateStore {
  /** Every version read or written, by key: versions never change. */
  private readonly versions = new Map<string, StoredTemplate>();
  /** The highest version known of each id (the latest is at or after it). */
  private readonly highest = new Map<string, number>();

  constructor(
    private readonly kv: KV,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the bucket unless it exists (a shard at start), with the cluster's replica count. */
  static async ensureBucket(js: JetStreamClient, subjects: ClusterSubjects, replicas: number): Promise<void> {
    await new Kvm(js).create(subjects.templateBucket, { history: 1, replicas });
  }

  /**
   * The store over the cluster's bucket (made by {@link ensureBucket}). Reads go to the
   * stream's leader (no direct gets from replicas), so a version just stored is seen at once.
   */
  static async open(nc: NatsConnection, subjects: ClusterSubjects): Promise<TemplateStore> {
    return new TemplateStore(await new Kvm(jetstream(nc)).open(subjects.templateBucket, { allow_direct: false }));
  }

  /** The template `id` at `version`, or its latest version; NotFoundError when there is none. */
  async get(id: string, version?: number): Promise<Template> {
    const found = await this.find(id, version);
    if (found !== undefined) return found;
    if (version === undefined) throw new NotFoundError(`no template ${id}`, { field: "id" });
    const latest = await this.latestVersion(id);
    throw new NotFoundError(
      latest === 0 ? `no template ${id}` : `template ${id} has no version ${version} (the latest is ${latest})`,
      { field: latest === 0 ? "id" : "version", details: { latest } },
    );
  }

  /** The template `id` at `version`, or its latest version; undefined when there is none. */
  async find(id: string, version?: number): Promise<Template | undefined> {
    const at = version ?? (await this.latestVersion(id));
    if (at === 0) return undefined;
    return (await this.read(id, at))?.template;
  }

  /** The latest version of `id`; 0 when it has none. */
  async latestVersion(id: string): Promise<number> {
    let latest = this.highest.get(id);
    if (latest === undefined) {
      // A first look: one read says whether the id exists at all; a listing finds how far it goes.
      if ((await this.read(id, 1)) === undefined) return 0;
      latest = await this.highestListed(`${id}.*`, id);
    }
    // Versions are dense: whatever was stored since is right after.
    while ((await this.read(id, latest + 1)) !== undefined) latest++;
    return latest;
  }

  /**
   * A page of templates in id order (code units) after `cursor`: the latest version
   * of each, at most `limit`, and fewer when their summaries would pass `maxBytes`.
   */
  async list(
    options: { cursor?: string | null; limit?: number; maxBytes?: number; size?: (t: Template) => number } = {},
  ): Promise<{ templates: Template[]; nextCursor: string | null }> {
    const latest = new Map<string, number>();
    const keys = await unavailable(this.kv.keys());
    for await (const key of keys) {
      const parsed = parseKey(key);
      if (parsed === undefined) continue;
      const [id, version] = parsed;
      if (version > (latest.get(id) ?? 0)) latest.set(id, version);
    }
    const ids = [...latest.keys()].filter((id) => options.cursor == null || id > options.cursor);
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = options.limit ?? 100;
    const page = ids.slice(0, limit);
    const found = await Promise.all(
      page.map(async (id) => {
        this.sawVersion(id, latest.get(id) ?? 1);
        return this.find(id);
      }),
    );
    const templates: Template[] = [];
    let bytes = 0;
    for (const template of found) {
      if (template === undefined) continue;
      bytes += options.size?.(template) ?? 0;
      if (templates.length > 0 && options.maxBytes !== undefined && bytes > options.maxBytes) break;
      templates.push(template);
    }
    const last = templates.at(-1);
    const more = templates.length < page.length || ids.length > page.length;
    return { templates, nextCursor: more && last !== undefined ? last.id : null };
  }

  /**
   * Stores the next version of `input.id` (checked by the caller) and returns it. With
   * `expectedVersion`, CONFLICT (`details: { expected, actual }`) unless that is still
   * the latest; without, a put that loses a race for a version takes the next one.
   */
  async put(input: TemplateInput, options: PutOptions = {}): Promise<Template> {
    let latest = await this.latestVersion(input.id);
    if (options.cid !== undefined) {
      const earlier = await this.storedBy(input.id, latest, options.cid);
      if (earlier !== undefined) return earlier;
    }
    for (let attempt = 1; ; attempt++) {
      if (options.expectedVersion !== undefined && options.expectedVersion !== latest) {
        const actual = await this.latestVersion(input.id);
        throw new ConflictError(
          ErrorCodes.Conflict,
          `template ${input.id} is at version ${actual}, not ${options.expectedVersion}`,
          { field: "expectedVersion", details: { expected: options.expectedVersion, actual } },
        );
      }
      const template: Template = { ...input, version: latest + 1, createdAt: this.now() };
      if (options.by !== undefined) template.createdBy = options.by;
      const stored: StoredTemplate = { v: 1, template };
      if (options.cid !== undefined) stored.cid = options.cid;
      const bytes = Buffer.from(encode(stored));
      if (bytes.length > TemplateLimits.bytesMax) {
        throw new ValidationError(
          ErrorCodes.PayloadTooLarge,
          `template ${input.id} is ${bytes.length} bytes stored; the most is ${TemplateLimits.bytesMax}`,
          { field: "template", details: { size: bytes.length, limit: TemplateLimits.bytesMax } },
        );
      }
      try {
        await this.kv.create(keyOf(input.id, template.version), bytes);
        this.remember(input.id, template.version, stored);
        return template;
      } catch (err) {
        if (!isWrongLastSequence(err)) {
          throw new UnavailableError(ErrorCodes.Unavailable, `template ${input.id} could not be stored: ${err}`, {
            cause: err,
          });
        }
      }
      // Another put took this version first: it exists now. It may be this very command, sent twice.
      latest = template.version;
      const winner = await this.read(input.id, latest);
      if (options.cid !== undefined && winner?.cid === options.cid) return winner.template;
      if (attempt >= PUT_ATTEMPTS) {
        throw new UnavailableError(
          ErrorCodes.Unavailable,
          `template ${input.id}: ${PUT_ATTEMPTS} puts of other writers came first; send it again`,
        );
      }
      // A little jitter spreads writers racing for the same id.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * Math.min(attempt, 5)));
    }
  }

  /** The version of `id` (up to `latest`) stored by a put with command id `cid`, if any. */
  private async storedBy(id: string, latest: number, cid: string): Promise<Template | undefined> {
    const all = await Promise.all(Array.from({ length: latest }, (_, i) => this.read(id, latest - i)));
    return all.find((stored) => stored?.cid === cid)?.template;
  }

  /** The highest version among the keys matching `filter` for `id` (at least 1: the caller saw version 1). */
  private async highestListed(filter: string, id: string): Promise<number> {
    let highest = 1;
    const keys = await unavailable(this.kv.keys(filter));
    for await (const key of keys) {
      const parsed = parseKey(key);
      if (parsed !== undefined && parsed[0] === id) highest = Math.max(highest, parsed[1]);
    }
    this.sawVersion(id, highest);
    return highest;
  }

  /** Version `version` of `id`, from memory or the bucket. */
  private async read(id: string, version: number): Promise<StoredTemplate | undefined> {
    const key = keyOf(id, version);
    const known = this.versions.get(key);
    if (known !== undefined) return known;
    const entry = await unavailable(this.kv.get(key));
    if (entry === null || entry.operation !== "PUT") return undefined;
    let stored: StoredTemplate;
    try {
      stored = decode(entry.value) as StoredTemplate;
    } catch (err) {
      throw new StratregError(ErrorCodes.Internal, `template ${key} is not readable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (stored?.v !== 1 || stored.template?.id !== id || stored.template.version !== version) {
      throw new StratregError(ErrorCodes.Internal, `template ${key} is not a template version this shard reads`);
    }
    this.remember(id, version, stored);
    return stored;
  }

  private remember(id: string, version: number, stored: StoredTemplate): void {
    this.versions.set(keyOf(id, version), stored);
    this.sawVersion(id, version);
  }

  private sawVersion(id: string, version: number): void {
    if (version > (this.highest.get(id) ?? 0)) this.highest.set(id, version);
  }
}
