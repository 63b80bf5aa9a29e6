/**
 * `stratreg template list | show | put | instantiate`: strategy templates from the
 * command line. A template is named `id` (its latest version) or `id@version`: the
 * program's own `--version` flag would take a subcommand's `--version <n>`. `instantiate` is quick deployment: one command from a template to a
 * registered candidate, its parameters typed by the template and checked by the
 * registry, every bad one named. `put` (operators) checks the file with the
 * protocol's own check before sending it. Any shard answers: only a NATS
 * connection and the cluster name are needed.
 */
import { PermissionViolationError } from "@nats-io/transport-node";
import {
  AdminError,
  AdminErrorCodes,
  type InstanceStrategy,
  type TemplateInput,
  TemplatesClient,
} from "@stratreg/client";
import { ErrorCodes, StratregError, templateInputError } from "@stratreg/protocol";
import { Command } from "commander";
import { withNats } from "../connection.js";
import { CliError, type ExitCode, ExitCodes, formatError } from "../errors.js";
import { readText } from "../input.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";
import { operatorName } from "../risk/operator.js";
import { strategyLines } from "../strategy-text.js";
import {
  paramsFromArgs,
  parseTemplateRef,
  templateLines,
  templateListLines,
  violationLines,
} from "../templates/format.js";

/** `err` or the first thing that caused it that matches `test`. */
function findCause(err: unknown, test: (e: Error) => boolean): Error | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (test(e)) return e;
  return undefined;
}

/**
 * The registry's failure in words a person can act on, keeping its code: a put by
 * someone who is not an operator, nobody answering, a stale expected version.
 */
export function explainTemplateError(err: unknown, globals: Pick<GlobalOptions, "cluster" | "nats" | "timeout">) {
  const refused = findCause(err, (e) => e instanceof PermissionViolationError) as PermissionViolationError | undefined;
  if (refused !== undefined) {
    const why = refused.subject.startsWith(`${globals.cluster}.control.`)
      ? `template put is for operators (connect as a NATS user allowed ${globals.cluster}.control.>)`
      : `connect as a NATS user allowed ${globals.cluster}.templates.*`;
    return new AdminError(AdminErrorCodes.PermissionDenied, `not permitted to publish ${refused.subject}: ${why}`, {
      cause: err,
    });
  }
  if (!(err instanceof StratregError)) return err;
  const options = { cause: err, retryable: err.retryable, details: err.details, field: err.field };
  const noResponders = findCause(err, (e) => e instanceof StratregError && e.details?.noResponders === true);
  if (err.code === ErrorCodes.Timeout && noResponders !== undefined) {
    return new StratregError(
      err.code,
      `no shard of cluster "${globals.cluster}" is answering template requests at ${globals.nats} (waited ${globals.timeout} ms; is a shard running, and is --cluster right?)`,
      options,
    );
  }
  const actual = err.details?.actual;
  if (err.code === ErrorCodes.Conflict && typeof actual === "number") {
    return new StratregError(
      err.code,
      `${err.message}: someone put a version since you looked. See it with \`stratreg template show\`, then put yours with --expected-version ${actual}`,
      options,
    );
  }
  return err;
}

/**
 * Runs `work` with a templates client; a failure is printed as the CLI prints errors,
 * followed by each violation it lists, and the command exits 1.
 */
async function withTemplates(
  globals: GlobalOptions,
  work: (templates: TemplatesClient) => Promise<void>,
): Promise<ExitCode> {
  try {
    await withNats(globals, (nc) =>
      work(new TemplatesClient(nc, { cluster: globals.cluster, timeoutMs: globals.timeout })),
    );
    return ExitCodes.Ok;
  } catch (err) {
    const explained = explainTemplateError(err, globals);
    if (!(explained instanceof StratregError) && !(explained instanceof AdminError)) throw explained;
    warn(formatError(explained));
    for (const line of violationLines(explained instanceof StratregError ? explained.details : undefined)) warn(line);
    return ExitCodes.Failed;
  }
}

/** Prints every template (the latest version of each). */
export function runTemplateList(globals: GlobalOptions): Promise<ExitCode> {
  return withTemplates(globals, async (templates) => {
    const all = [];
    for await (const summary of templates.listAll()) all.push(summary);
    if (globals.json) printJson(all);
    else for (const line of templateListLines(all)) printLine(line);
  });
}

/** Prints one template: `id` (its latest version) or `id@version`. */
export function runTemplateShow(ref: string, globals: GlobalOptions): Promise<ExitCode> {
  const { id, version } = parseTemplateRef(ref);
  return withTemplates(globals, async (templates) => {
    const template = await templates.get(id, version);
    if (globals.json) printJson(template);
    else for (const line of templateLines(template)) printLine(line);
  });
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path === "-" ? "stdin" : path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Options of `template put`. */
export interface TemplatePutOptions {
  expectedVersion?: number;
  by?: string;
}

/** Reads the template file, checks it as a shard would, stores it as the next version. */
export async function runTemplatePut(path: string, options: TemplatePutOptions, globals: GlobalOptions) {
  const value = parseJson(await readText(path), path);
  const where = path === "-" ? "stdin" : path;
  const problem = templateInputError(value);
  if (problem !== undefined) {
    // The same check a shard runs, before anything is sent.
    warn(
      `error ${problem.code}: ${where}: ${problem.message}${problem.field === undefined ? "" : ` (field ${problem.field})`}`,
    );
    for (const line of violationLines(problem.details)) warn(line);
    return ExitCodes.Failed;
  }
  const by = operatorName(options.by);
  return withTemplates(globals, async (templates) => {
    const template = await templates.put(value as TemplateInput, { by, expectedVersion: options.expectedVersion });
    if (globals.json) printJson(template);
    else printLine(`template ${template.id} version ${template.version} stored by ${template.createdBy ?? by}`);
  });
}

/** Options of `template instantiate`. */
export interface InstantiateCommandOptions {
  id: string;
  name: string;
  owner: string;
  description?: string;
  family?: string;
  tag?: string[];
  param: string[];
}

/**
 * Reads the template (the version asked, else the latest), types the `--param`
 * values by its specs, and instantiates that same version: the registry checks
 * the parameters and registers the candidate. Prints the registered strategy.
 */
export function runTemplateInstantiate(
  ref: string,
  options: InstantiateCommandOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  const { id: templateId, version } = parseTemplateRef(ref);
  return withTemplates(globals, async (templates) => {
    const template = await templates.get(templateId, version);
    const params = paramsFromArgs(options.param, template.params);
    const strategy: InstanceStrategy = { id: options.id, name: options.name, owner: options.owner };
    if (options.description !== undefined) strategy.description = options.description;
    if (options.family !== undefined) strategy.family = options.family;
    if (options.tag !== undefined) strategy.tags = options.tag;
    const registered = await templates.instantiate(templateId, strategy, params, { version: template.version });
    if (globals.json) printJson(registered);
    else for (const line of strategyLines(registered)) printLine(line);
  });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The `template` command and its subcommands. */
export function templateCommand(): Command {
  const list = new Command("list")
    .description("every template, its latest version (risk parameters marked !)")
    .action(async (_options: unknown, command: Command) => {
      process.exitCode = await runTemplateList(globalsOf(command));
    });
  const show = new Command("show")
    .description("one template: its parameters (type, default, range, allowed values, required, risk) and rules")
    .argument("<id[@version]>", "template id, its latest version; id@2 for version 2")
    .action(async (ref: string, _options: unknown, command: Command) => {
      process.exitCode = await runTemplateShow(ref, globalsOf(command));
    });
  const put = new Command("put")
    .description("operators: store a template (a JSON object) as its next version, checked before it is sent")
    .argument("<file>", "JSON file, or - for stdin")
    .option(
      "--expected-version <n>",
      "refuse unless this is still the latest version (0: the id must be new)",
      integerAtLeast(0),
    )
    .option("--by <name>", "operator name recorded with the version (default: $STRATREG_OPERATOR, else your user name)")
    .action(async (path: string, options: TemplatePutOptions, command: Command) => {
      process.exitCode = await runTemplatePut(path, options, globalsOf(command));
    });
  const instantiate = new Command("instantiate")
    .description(
      "register a strategy from a template in one step: parameters checked, defaults filled, linked to the version",
    )
    .argument("<template[@version]>", "template id, its latest version; id@2 for version 2")
    .requiredOption("--id <id>", "the new strategy's id")
    .requiredOption("--name <name>", "its name")
    .requiredOption("--owner <owner>", "its owner (team or person)")
    .option("--param <name=value>", "a parameter value, typed by the template (repeat for each)", collect, [])
    .option("--description <text>", "its description")
    .option("--family <family>", "its family (default: the template's)")
    .option("--tag <tag>", "a tag (repeat for each; default: the template's tags)", collect)
    .action(async (template: string, options: InstantiateCommandOptions, command: Command) => {
      process.exitCode = await runTemplateInstantiate(template, options, globalsOf(command));
    });
  return new Command("template")
    .description("strategy templates: list, show, put (operators), instantiate")
    .addCommand(list)
    .addCommand(show)
    .addCommand(put)
    .addCommand(instantiate);
}
