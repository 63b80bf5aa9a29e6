/**
 * Every NATS subject, stream and bucket name stratreg uses, derived from one
 * cluster name so that several clusters (or test runs) can share a server.
 */

import type { DiscoveryControlOp, DiscoveryOp } from "./discovery.js";
import type { LifecycleEventKind } from "./gates.js";
import type { GraphOp } from "./graph.js";
import type { RiskControlOp, RiskOp } from "./risk.js";
import type { SearchOp } from "./search.js";
import type { TemplateControlOp, TemplateOp } from "./template.js";

/** Operations served on each partition's subjects: `<cluster>.part.<p>.<op>`. */
export const PartitionOps = {
  Register: "register",
  RegisterBatch: "register-batch",
  Get: "get",
  GetBatch: "get-batch",
  Update: "update",
  Retire: "retire",
  List: "list",
  /** Performance reports in (a write). */
  Report: "report",
  /** One strategy's performance. */
  Perf: "perf",
  /** The partition's own top-k for any scope, or a count of who ranks above a value. */
  Ranking: "ranking",
  /** The partition's whole published top-k set (a ranker catching up). */
  TopK: "topk",
  /** One strategy's returns and metrics over a time range, from its partition's log. */
  History: "history",
  /** A lifecycle move (a write). */
  Transition: "transition",
  /** Backtest evidence attached to a strategy (a write). */
  AttachEvidence: "attach-evidence",
  /** The graph service's projection of dependency edges onto a strategy (a write; services only). */
  Link: "link",
  /** A move the graph service makes as part of a cascade (a write; services only). */
  Cascade: "cascade",
  /** The evidence last attached to a strategy, as it was sent. */
  Evidence: "evidence",
  /** A dry run of the quality gates for one strategy. */
  Gates: "gates",
} as const;
export type PartitionOp = (typeof PartitionOps)[keyof typeof PartitionOps];

/** The default cluster name, and so the default subject prefix. */
export const DEFAULT_CLUSTER = "stratreg";

/** The default partition count of a new cluster. */
export const DEFAULT_PARTITIONS = 256;

/** Name of the service every shard registers with the NATS services framework. */
export const SHARD_SERVICE_NAME = "stratreg-shard";

/** Name of the service every ranker registers with the NATS services framework. */
export const RANKER_SERVICE_NAME = "stratreg-ranker";

/** Operations the ranker serves: `<cluster>.ranker.<op>` (any ranker) and `<cluster>.ranker.<member>.<op>` (that one). */
export const RankerOps = {
  Top: "top",
  Rank: "rank",
  Forecast: "forecast",
  Select: "select",
  Status: "status",
} as const;
export type RankerOp = (typeof RankerOps)[keyof typeof RankerOps];

/** Kinds of entry in the risk guard's log, each its own subject: `<cluster>.risklog.<kind>`. */
export const RiskLogKinds = {
  /** Decisions and order events, group-committed. */
  Entries: "entries",
  /** Every trading-state change (the last one is what a process starting up reads). */
  State: "state",
} as const;
export type RiskLogKind = (typeof RiskLogKinds)[keyof typeof RiskLogKinds];

/** Header that selects msgpackr's record encoding on bulk endpoints. */
export const ENCODING_HEADER = "Stratreg-Encoding";

/** Values of {@link ENCODING_HEADER}. */
export const Encodings = {
  /** Standard msgpack maps (the default; any language). */
  Msgpack: "msgpack",
  /** msgpackr's self-describing record extension (faster to decode for large batches). */
  Records: "msgpack-records",
} as const;
export type Encoding = (typeof Encodings)[keyof typeof Encodings];

const CLUSTER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Shard member ids: 1-64 of `[A-Za-z0-9_-]` (a member id is a subject token). */
export const MEMBER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `member` may be used as a shard member id. */
export function isValidMemberId(member: string): boolean {
  return MEMBER_ID_PATTERN.test(member);
}

/** Whether `name` may be used as a cluster name (it becomes a subject token and stream name). */
export function isValidClusterName(name: string): boolean {
  return CLUSTER_NAME.test(name);
}

/** The subjects, stream and bucket names of one cluster. */
export interface ClusterSubjects {
  readonly cluster: string;
  /** `<cluster>.part.<p>.<op>`: requests for one partition's owner. */
  partition(partition: number, op: PartitionOp): string;
  /** `<cluster>.part.<p>.*`: what an owner subscribes to. */
  partitionWildcard(partition: number): string;
  /** `<cluster>.log.<p>`: the partition's append-only log subject in the log stream. */
  log(partition: number): string;
  /** `<cluster>.log.*`: every partition log subject. */
  readonly logAll: string;
  /** JetStream stream holding every partition log. */
  readonly logStream: string;
  /** KV bucket holding the cluster config (partition count, replicas). */
  readonly configBucket: string;
  /** KV bucket of partition leases: key `p<partition>`, compare-and-set on the revision. */
  readonly leaseBucket: string;
  /** The lease key of a partition in {@link leaseBucket}. */
  leaseKey(partition: number): string;
  /** Object store bucket of partition snapshots. */
  readonly snapshotBucket: string;
  /** `<cluster>.events.ownership`: shards publish every ownership change here. */
  readonly ownershipEvents: string;
  /** `<cluster>.control.drain.<member>`: operators ask a shard to hand off every partition. */
  drain(member: string): string;
  /** `<cluster>.shard.<member>.status`: one shard's status. */
  shardStatus(member: string): string;
  /** `<cluster>.topk.<p>`: the partition's owner publishes its top-k lists here every tick they change. */
  topk(partition: number): string;
  /** `<cluster>.topk.*`: every partition's top-k publications. */
  readonly topkAll: string;
  /** `<cluster>.ranker.<op>`: any ranker answers (queue group). */
  ranker(op: RankerOp): string;
  /** `<cluster>.ranker.<member>.<op>`: one ranker answers. */
  rankerMember(member: string, op: RankerOp): string;
  /** `<cluster>.risk.<op>`: the active risk guard answers (trading services and operators). */
  risk(op: RiskOp): string;
  /** `<cluster>.riskguard.<member>.status`: one risk guard, active or standby, answers. */
  riskGuardStatus(member: string): string;
  /** `<cluster>.control.risk.<op>`: operators' halt, reduce, resume and limits (operators only). */
  riskControl(op: RiskControlOp): string;
  /** `<cluster>.trading.state`: the active risk guard broadcasts the trading state here; followers acknowledge. */
  readonly tradingState: string;
  /** `<cluster>.risklog.<kind>`: subjects of the risk guard's log stream. */
  riskLog(kind: RiskLogKind): string;
  /** `<cluster>.risklog.>`: every subject of the risk guard's log stream. */
  readonly riskLogAll: string;
  /** JetStream stream of the risk guard's fenced log. */
  readonly riskLogStream: string;
  /** KV bucket of the risk guard's leader lease (key {@link riskLeaseKey}) and snapshots. */
  readonly riskBucket: string;
  /** The leader lease key in {@link riskBucket}. */
  readonly riskLeaseKey: string;
  /** KV bucket of the risk book's snapshots (chunked, under the name `book`). */
  readonly riskSnapshotBucket: string;
  /** `<cluster>.lifecycle.<kind>.<p>`: lifecycle events of partition `p`'s strategies. */
  lifecycleEvents(kind: LifecycleEventKind, partition: number): string;
  /** `<cluster>.lifecycle.>`: every lifecycle event. */
  readonly lifecycleAll: string;
  /** JetStream stream keeping every lifecycle event (late consumers catch up from it). */
  readonly lifecycleStream: string;
  /** `<cluster>.gates.get`: the gate thresholds in force for a scope (any shard answers). */
  readonly gatesGet: string;
  /** `<cluster>.control.gates.set`: operators set a scope's gate thresholds. */
  readonly gatesSet: string;
  /** KV bucket of gate thresholds: keys `default`, `family.<f>`, `template.<t>` (names base64url). */
  readonly gatesBucket: string;
  /** KV bucket of trials recorded per family: key `<family>.<strategy>` (both base64url). */
  readonly trialsBucket: string;
  /** KV bucket of the evidence last attached to each strategy (key: the id, base64url). */
  readonly evidenceBucket: string;
  /** `<cluster>.cluster.info`: any shard answers with the cluster config. */
  readonly clusterInfo: string;
  /** `<cluster>.templates.<op>`: any shard answers (queue group): list, get, instantiate. */
  templates(op: TemplateOp): string;
  /** `<cluster>.control.templates.<op>`: operators store template versions (operators only). */
  templatesControl(op: TemplateControlOp): string;
  /** KV bucket of strategy templates: key `<id>.<version>`, each written once. */
  readonly templateBucket: string;
  /** `<cluster>.discovery.<op>`: any discovery process answers (queue group). */
  discovery(op: DiscoveryOp): string;
  /** `<cluster>.control.discovery.<op>`: operators start and stop runs (operators only). */
  discoveryControl(op: DiscoveryControlOp): string;
  /** `<cluster>.discovery.events.candidate`: every candidate discovery registered, with its report. */
  readonly discoveryCandidates: string;
  /** `<cluster>.discovery.events.progress`: a run's progress, after each generation and phase. */
  readonly discoveryProgress: string;
  /** `<cluster>.discovery.events.regimes`: the scanner's findings at each run: the market's regime, lead-lag, weekday effects, anomalies. */
  readonly discoveryRegimes: string;
  /** JetStream stream keeping every published candidate. */
  readonly candidateStream: string;
  /** `<cluster>.bars.<venue>.<symbol>`: subject of a series in the market-data stream. */
  bars(venue: string, symbol: string): string;
  /** `<cluster>.bars.>`: every series of the market-data stream. */
  readonly barsAll: string;
  /** JetStream stream of market data (bars), one subject per series. */
  readonly barsStream: string;
  /** KV bucket of discovery's run checkpoints (chunked, under `checkpoint-<run>`). */
  readonly discoveryBucket: string;
  /** `<cluster>.search.<op>`: any search process answers (queue group). */
  search(op: SearchOp): string;
  /** `<cluster>.graph.<op>`: the graph service's leader answers. */
  graph(op: GraphOp): string;
  /** `<cluster>.graphlog`: the dependency graph's log, which only the graph leader appends to. */
  readonly graphLog: string;
  /** JetStream stream of the dependency graph's log. */
  readonly graphLogStream: string;
  /** `<cluster>.member.heartbeat`: shards announce themselves here. */
  readonly heartbeat: string;
  /** `<cluster>.member.leave`: a shard says goodbye here when it stops gracefully. */
  readonly leave: string;
}

/** Builds the subject scheme for `cluster`; throws on an invalid name. */
export function clusterSubjects(cluster: string = DEFAULT_CLUSTER): ClusterSubjects {
  if (!isValidClusterName(cluster)) {
    throw new TypeError(
      `invalid cluster name ${JSON.stringify(cluster)}: use 1-32 of [a-z0-9_-], starting with a letter`,
    );
  }
  const partitionPrefixes: string[] = [];
  const prefixOf = (p: number): string => {
    let prefix = partitionPrefixes[p];
    if (prefix === undefined) {
      prefix = `${cluster}.part.${p}.`;
      partitionPrefixes[p] = prefix;
    }
    return prefix;
  };
  return {
    cluster,
    partition: (p, op) => prefixOf(p) + op,
    partitionWildcard: (p) => `${prefixOf(p)}*`,
    log: (p) => `${cluster}.log.${p}`,
    logAll: `${cluster}.log.*`,
    logStream: `${cluster}-log`,
    configBucket: `${cluster}-config`,
    leaseBucket: `${cluster}-leases`,
    leaseKey: (p) => `p${p}`,
    snapshotBucket: `${cluster}-snapshots`,
    ownershipEvents: `${cluster}.events.ownership`,
    drain: (member) => `${cluster}.control.drain.${member}`,
    shardStatus: (member) => `${cluster}.shard.${member}.status`,
    topk: (p) => `${cluster}.topk.${p}`,
    topkAll: `${cluster}.topk.*`,
    ranker: (op) => `${cluster}.ranker.${op}`,
    rankerMember: (member, op) => `${cluster}.ranker.${member}.${op}`,
    risk: (op) => `${cluster}.risk.${op}`,
    riskGuardStatus: (member) => `${cluster}.riskguard.${member}.status`,
    riskControl: (op) => `${cluster}.control.risk.${op}`,
    tradingState: `${cluster}.trading.state`,
    riskLog: (kind) => `${cluster}.risklog.${kind}`,
    riskLogAll: `${cluster}.risklog.>`,
    riskLogStream: `${cluster}-risk`,
    riskBucket: `${cluster}-risk`,
    riskLeaseKey: "leader",
    riskSnapshotBucket: `${cluster}-risk-snapshots`,
    lifecycleEvents: (kind, p) => `${cluster}.lifecycle.${kind}.${p}`,
    lifecycleAll: `${cluster}.lifecycle.>`,
    lifecycleStream: `${cluster}-lifecycle`,
    gatesGet: `${cluster}.gates.get`,
    gatesSet: `${cluster}.control.gates.set`,
    gatesBucket: `${cluster}-gates`,
    trialsBucket: `${cluster}-trials`,
    evidenceBucket: `${cluster}-evidence`,
    clusterInfo: `${cluster}.cluster.info`,
    templates: (op) => `${cluster}.templates.${op}`,
    templatesControl: (op) => `${cluster}.control.templates.${op}`,
    templateBucket: `${cluster}-templates`,
    discovery: (op) => `${cluster}.discovery.${op}`,
    discoveryControl: (op) => `${cluster}.control.discovery.${op}`,
    discoveryCandidates: `${cluster}.discovery.events.candidate`,
    discoveryProgress: `${cluster}.discovery.events.progress`,
    discoveryRegimes: `${cluster}.discovery.events.regimes`,
    candidateStream: `${cluster}-candidates`,
    bars: (venue, symbol) => `${cluster}.bars.${venue}.${symbol}`,
    barsAll: `${cluster}.bars.>`,
    barsStream: `${cluster}-bars`,
    discoveryBucket: `${cluster}-discovery`,
    search: (op) => `${cluster}.search.${op}`,
    graph: (op) => `${cluster}.graph.${op}`,
    graphLog: `${cluster}.graphlog`,
    graphLogStream: `${cluster}-graph`,
    heartbeat: `${cluster}.member.heartbeat`,
    leave: `${cluster}.member.leave`,
  };
}

/** Splits `<cluster>.part.<p>.<op>` into its partition and op, or undefined if it is not one. */
export function parsePartitionSubject(subject: string): { partition: number; op: string } | undefined {
  const parts = subject.split(".");
  if (parts.length !== 4 || parts[1] !== "part") return undefined;
  if (!/^(0|[1-9]\d{0,8})$/.test(parts[2] ?? "")) return undefined;
  const partition = Number(parts[2]);
  return { partition, op: parts[3] as string };
}
