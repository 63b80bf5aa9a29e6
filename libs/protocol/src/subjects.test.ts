import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  clusterSubjects,
  DEFAULT_CLUSTER,
  DEFAULT_PARTITIONS,
  ENCODING_HEADER,
  Encodings,
  isValidClusterName,
  type PartitionOp,
  PartitionOps,
  parsePartitionSubject,
} from "./subjects.js";

describe("clusterSubjects", () => {
  test("the default cluster's subjects, stream and bucket names", () => {
    const s = clusterSubjects();
    expect(s.cluster).toBe("stratreg");
    expect(s.partition(0, PartitionOps.Register)).toBe("stratreg.part.0.register");
    expect(s.partition(255, PartitionOps.RegisterBatch)).toBe("stratreg.part.255.register-batch");
    expect(s.partitionWildcard(17)).toBe("stratreg.part.17.*");
    expect(s.log(3)).toBe("stratreg.log.3");
    expect(s.logAll).toBe("stratreg.log.*");
    expect(s.logStream).toBe("stratreg-log");
    expect(s.configBucket).toBe("stratreg-config");
    expect(s.clusterInfo).toBe("stratreg.cluster.info");
    expect(s.heartbeat).toBe("stratreg.member.heartbeat");
    expect(s.leave).toBe("stratreg.member.leave");
  });

  test("a named cluster prefixes everything with its name", () => {
    const s = clusterSubjects("test_run-7");
    expect(s.partition(9, PartitionOps.Get)).toBe("test_run-7.part.9.get");
    expect(s.logStream).toBe("test_run-7-log");
    expect(s.configBucket).toBe("test_run-7-config");
    expect(s.heartbeat).toBe("test_run-7.member.heartbeat");
  });

  test("constants", () => {
    expect(DEFAULT_CLUSTER).toBe("stratreg");
    expect(DEFAULT_PARTITIONS).toBe(256);
    expect(ENCODING_HEADER).toBe("Stratreg-Encoding");
    expect(Object.values(Encodings).sort()).toEqual(["msgpack", "msgpack-records"]);
    expect(Object.values(PartitionOps).sort()).toEqual([
      "attach-evidence",
      "cascade",
      "evidence",
      "gates",
      "get",
      "get-batch",
      "history",
      "link",
      "list",
      "perf",
      "ranking",
      "register",
      "register-batch",
      "report",
      "retire",
      "topk",
      "transition",
      "update",
    ]);
  });

  test.each(["", "Stratreg", "1cluster", "-x", "a.b", "a b", "a*", "a>", "x".repeat(33), "é", "a/b"])(
    "refuses the cluster name %j",
    (name) => {
      expect(isValidClusterName(name)).toBe(false);
      expect(() => clusterSubjects(name)).toThrow(TypeError);
    },
  );

  test.each(["a", "stratreg", "test_1", "blue-green", `a${"x".repeat(31)}`])("accepts the cluster name %j", (name) => {
    expect(isValidClusterName(name)).toBe(true);
    expect(clusterSubjects(name).cluster).toBe(name);
  });

  test("every valid cluster name gives NATS-safe subjects and names", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/), fc.nat({ max: 65535 }), (cluster, p) => {
        const s = clusterSubjects(cluster);
        for (const subject of [s.partition(p, "get"), s.log(p), s.clusterInfo, s.heartbeat, s.leave]) {
          expect(subject.split(".").every((token) => /^[A-Za-z0-9_-]+$/.test(token))).toBe(true);
        }
        // Stream and bucket names may not contain '.', '*', '>' or spaces.
        expect(`${s.logStream}${s.configBucket}`).toMatch(/^[a-z0-9_-]+$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe("parsePartitionSubject", () => {
  test("splits a partition subject into partition and op", () => {
    expect(parsePartitionSubject("stratreg.part.17.get")).toEqual({ partition: 17, op: "get" });
    expect(parsePartitionSubject("x.part.0.register-batch")).toEqual({ partition: 0, op: "register-batch" });
  });

  test("inverts clusterSubjects().partition for every partition and op", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9_-]{0,31}$/),
        fc.nat({ max: 1 << 20 }),
        fc.constantFrom(...Object.values(PartitionOps)),
        (cluster, partition, op: PartitionOp) => {
          expect(parsePartitionSubject(clusterSubjects(cluster).partition(partition, op))).toEqual({ partition, op });
        },
      ),
      { numRuns: 200 },
    );
  });

  test.each([
    "stratreg.log.3",
    "stratreg.part.3",
    "stratreg.part.3.get.extra",
    "stratreg.member.3.get",
    "stratreg.part.-1.get",
    "stratreg.part.1.5.get",
    "stratreg.part.x.get",
    "stratreg.part.NaN.get",
    "stratreg.part.Infinity.get",
    "",
  ])("returns undefined for %j", (subject) => {
    expect(parsePartitionSubject(subject)).toBeUndefined();
  });
});
