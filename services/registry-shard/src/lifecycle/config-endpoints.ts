/**
 * The gate thresholds' endpoints, answered by any shard (queue group):
 * `<cluster>.gates.get` reads what is in force for a scope, and
 * `<cluster>.control.gates.set` (operators only, by the server's permissions)
 * replaces a scope's thresholds, optionally only at an expected revision.
 */
import type { Service } from "@nats-io/services";
import type { Msg } from "@nats-io/transport-node";
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  type ClusterSubjects,
  GateConfigBodies,
  type GateScope,
  parseWith,
  requestEnvelopeSchema,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { errorReply, okReply } from "../handlers/reply.js";
import type { GateSettings } from "./stores.js";

const checks: { [Op in keyof typeof GateConfigBodies]?: TypeCheck<TSchema> } = {};

function parse<Op extends keyof typeof GateConfigBodies>(
  op: Op,
  payload: Uint8Array,
): { body: Static<(typeof GateConfigBodies)[Op]> } {
  let check = checks[op];
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(GateConfigBodies[op], false));
    checks[op] = check;
  }
  return parseWith(check, payload);
}

/** What `gates.get` answers: the thresholds in force for the scope, and the scope's own setting. */
async function read(settings: GateSettings, scope: GateScope) {
  const own = await settings.read(scope);
  const family = "family" in scope ? scope.family : null;
  const template = "template" in scope ? scope.template : null;
  const resolved = await settings.resolve(family, template);
  return { scope, setting: own ?? null, inForce: resolved.thresholds, sources: resolved.sources };
}

/** Adds the gate-threshold endpoints to the shard's service registration. */
export function addGateConfigEndpoints(
  service: Service,
  subjects: ClusterSubjects,
  settings: GateSettings,
  logger: Logger,
): void {
  const answer = (msg: Msg, work: () => Promise<Record<string, unknown>>) => {
    Promise.resolve()
      .then(work)
      .then(
        (body) => msg.respond(okReply(body)),
        (err: unknown) => {
          logger.debug({ err, subject: msg.subject }, "gate thresholds request refused");
          msg.respond(errorReply(err));
        },
      );
  };
  service.addEndpoint("gates-get", {
    subject: subjects.gatesGet,
    queue: "q",
    handler: (err, msg) => {
      if (err === null) answer(msg, () => read(settings, parse("get", msg.data).body.scope));
    },
  });
  service.addEndpoint("gates-set", {
    subject: subjects.gatesSet,
    queue: "q",
    handler: (err, msg) => {
      if (err !== null) return;
      answer(msg, async () => {
        const { scope, thresholds, by, note, expectedRevision } = parse("set", msg.data).body;
        const setting = await settings.set(
          scope,
          { thresholds, by, at: Date.now(), ...(note === undefined ? {} : { note }) },
          expectedRevision,
        );
        logger.info({ scope, thresholds, by, revision: setting.revision }, "gate thresholds set");
        return { ...(await read(settings, scope)), setting };
      });
    },
  });
}
