/**
 * Version control from the command line, answered by a versions process:
 * `stratreg log <id>`, `show <id> <ref>`, `diff <id> <from> <to>` (a coloured
 * unified field diff), `rollback <id> <version>`, `branch <id> create|list|show|edit|delete`,
 * `merge <id> <branch>`, `tag <id> <version> <tag>` and `untag <id> <tag>`.
 * A ref is a version number, `main`, `tag:<name>` or `branch:<name>`.
 */
import type { Branch, FieldChange, StratregClient, VersionLog } from "@stratreg/client";
import { ErrorCodes, type MergeConflict, type Ref, StratregError } from "@stratreg/protocol";
import { Argument, Command, InvalidArgumentError } from "commander";
import { withClient } from "../connection.js";
import { CliError, type ExitCode, ExitCodes, formatError } from "../errors.js";
import { formatTable } from "../format.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";
import { operatorName } from "../risk/operator.js";

const REF_PATTERN = /^(main|(branch|tag):[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/** A ref from the command line: a version number, `main`, `tag:<name>` or `branch:<name>`. */
export function parseRef(raw: string): Ref {
  if (/^[0-9]+$/.test(raw) && Number(raw) >= 1) return Number(raw);
  if (REF_PATTERN.test(raw)) return raw;
  throw new InvalidArgumentError(
    `expected a version number, main, tag:<name> or branch:<name>, got ${JSON.stringify(raw)}`,
  );
}

const paint = (code: number) => (text: string, colour: boolean) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const red = paint(31);
const green = paint(32);
const bold = paint(1);
const cyan = paint(36);

/** Whether stdout takes colours (a terminal, and NO_COLOR unset). */
export function stdoutColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

const show = (value: unknown) => JSON.stringify(value);

/** A log as a table, newest first: version, when, what made it, by whom, state, tags, note. */
export function logLines(log: VersionLog): string[] {
  const rows = log.versions.map((v) => [
    String(v.version),
    new Date(v.at).toISOString().replace(".000Z", "Z"),
    v.op,
    v.by ?? "–",
    v.state,
    v.tags.length === 0 ? "–" : v.tags.join(","),
    v.note ?? "",
  ]);
  const lines = formatTable([["version", "at", "op", "by", "state", "tags", "note"], ...rows]);
  if (log.next !== null) lines.push(`more: --before ${log.next}`);
  if (log.current !== null && (log.versions[0]?.version ?? 0) < log.current && log.next === null) {
    lines.push(`(the shard is at version ${log.current}; the newest is still being copied)`);
  }
  return lines;
}

/** A unified field diff: `--- from`, `+++ to`, then `-`/`+` lines per field, red and green in a terminal. */
export function diffLines(from: string, to: string, changes: readonly FieldChange[], colour: boolean): string[] {
  const lines = [bold(`--- ${from}`, colour), bold(`+++ ${to}`, colour)];
  if (changes.length === 0) lines.push("(no differences)");
  for (const change of changes) {
    lines.push(cyan(`@@ ${change.path} (${change.kind})`, colour));
    if (change.kind !== "added") lines.push(red(`-${change.path}: ${show(change.old)}`, colour));
    if (change.kind !== "removed") lines.push(green(`+${change.path}: ${show(change.new)}`, colour));
  }
  return lines;
}

/** Merge conflicts, one block per field. */
export function conflictLines(conflicts: readonly MergeConflict[]): string[] {
  return conflicts.flatMap((c) => [
    `conflict in ${c.path}:`,
    `  base    ${show(c.base)}`,
    `  ours    ${show(c.ours)}   (main)`,
    `  theirs  ${show(c.theirs)}   (the branch)`,
  ]);
}

function branchLines(branch: Branch): string[] {
  const merged = branch.mergedAs === undefined ? "" : `, last merged as version ${branch.mergedAs}`;
  return [
    `branch ${branch.name} of ${branch.id}: version ${branch.version}, from version ${branch.base}${merged}`,
    `  by ${branch.by}, updated ${new Date(branch.updatedAt).toISOString()}`,
  ];
}

/** Sets `path` (`template.params.lookback`, `venues[0].symbols`) of `fields` to `value`; returns the top field. */
export function setPath(fields: Record<string, unknown>, path: string, value: unknown): string {
  const segments = path.match(/[^.[\]]+/g) ?? [];
  if (segments.length === 0) throw new CliError(`--set needs a field, got ${JSON.stringify(path)}`);
  let node: Record<string, unknown> = fields;
  for (const [i, segment] of segments.entries()) {
    if (i === segments.length - 1) node[segment] = value;
    else {
      const next = node[segment];
      if (typeof next !== "object" || next === null)
        node[segment] = /^[0-9]+$/.test(segments[i + 1] as string) ? [] : {};
      node = node[segment] as Record<string, unknown>;
    }
  }
  return segments[0] as string;
}

/** `name=value`: the value as JSON when it parses (numbers, lists, null), else as a string. */
function parseAssignment(raw: string): [string, unknown] {
  const eq = raw.indexOf("=");
  if (eq <= 0) throw new CliError(`--set takes field=value, got ${JSON.stringify(raw)}`);
  const text = raw.slice(eq + 1);
  try {
    return [raw.slice(0, eq), JSON.parse(text)];
  } catch {
    return [raw.slice(0, eq), text];
  }
}

async function run(globals: GlobalOptions, work: (client: StratregClient) => Promise<ExitCode>): Promise<ExitCode> {
  return withClient(globals, work);
}

export function logCommand(): Command {
  return new Command("log")
    .description(
      "a strategy's versions, newest first: when, what made each (update, move, rollback, merge), by whom, tags",
    )
    .argument("<id>")
    .option("--limit <n>", "versions per page", integerAtLeast(1))
    .option("--before <version>", "only versions before this one (the previous page's more:)", integerAtLeast(1))
    .action(async (id: string, options: { limit?: number; before?: number }, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await run(globals, async (client) => {
        const log = await client.versionLog(id, options);
        if (globals.json) printJson(log);
        else for (const line of logLines(log)) printLine(line);
        return ExitCodes.Ok;
      });
    });
}

export function showCommand(): Command {
  return new Command("show")
    .description("a strategy as it was at a version, a tag (tag:<name>), a branch head (branch:<name>) or main")
    .argument("<id>")
    .argument("<ref>", "a version number, main, tag:<name> or branch:<name>", parseRef)
    .action(async (id: string, ref: Ref, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await run(globals, async (client) => {
        const shown = await client.showVersion(id, ref);
        printJson(globals.json ? shown : (shown.strategy ?? shown.branch));
        return ExitCodes.Ok;
      });
    });
}

export function diffCommand(): Command {
  return new Command("diff")
    .description("field-level differences between two versions (or main, tag:<name>, branch:<name>), as a unified diff")
    .argument("<id>")
    .argument("<from>", "a version number, main, tag:<name> or branch:<name>", parseRef)
    .argument("<to>", "the same kinds of ref", parseRef)
    .action(async (id: string, from: Ref, to: Ref, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await run(globals, async (client) => {
        const d = await client.diffVersions(id, from, to);
        if (globals.json) printJson(d);
        else
          for (const line of diffLines(`${id} ${d.from}`, `${id} ${d.to}`, d.changes, stdoutColour())) printLine(line);
        return ExitCodes.Ok;
      });
    });
}

export function rollbackCommand(): Command {
  return new Command("rollback")
    .description(
      "make a new version whose descriptive fields equal an old version's (history is kept; the lifecycle state is not rolled back)",
    )
    .argument("<id>")
    .argument("<version>", "the version to go back to", integerAtLeast(1))
    .option("--expected-version <n>", "the current version you saw: refused if it changed", integerAtLeast(1))
    .option("--by <name>", "who rolls back (default $STRATREG_OPERATOR or the OS user)")
    .action(
      async (id: string, version: number, options: { expectedVersion?: number; by?: string }, command: Command) => {
        const globals = globalsOf(command);
        const by = operatorName(options.by);
        process.exitCode = await run(globals, async (client) => {
          const result = await client.rollback(id, version, {
            by,
            ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
          });
          if (globals.json) printJson(result);
          else if (!result.rolledBack) printLine(`${id} already equals version ${version}: nothing to roll back`);
          else {
            printLine(
              `${id} rolled back to version ${version} as version ${result.strategy.version} (${result.changed.join(", ")}); state stays ${result.strategy.state}`,
            );
          }
          return ExitCodes.Ok;
        });
      },
    );
}

const BRANCH_ACTIONS = ["create", "list", "show", "edit", "delete"] as const;
type BranchAction = (typeof BRANCH_ACTIONS)[number];

interface BranchOptions {
  from?: number;
  set?: string[];
  expectedVersion?: number;
  by?: string;
}

export function branchCommand(): Command {
  return new Command("branch")
    .description(
      "experiment branches of a strategy: create (from a version), list, show (its edits), edit (--set field=value …), delete",
    )
    .argument("<id>")
    .addArgument(new Argument("<action>").choices(BRANCH_ACTIONS))
    .argument("[name]", "the branch")
    .option("--from <version>", "create: the version to start from (default: the current one)", integerAtLeast(1))
    .option(
      "--set <field=value>",
      "edit: a field or a path in it (name=…, tags='[\"fx\"]', template.params.lookback=60); repeat for more",
      (raw: string, previous: string[] = []) => [...previous, raw],
    )
    .option("--expected-version <n>", "edit, delete: the branch version you saw", integerAtLeast(1))
    .option("--by <name>", "who (default $STRATREG_OPERATOR or the OS user)")
    .action(
      async (id: string, action: BranchAction, name: string | undefined, options: BranchOptions, command: Command) => {
        const globals = globalsOf(command);
        if (action !== "list" && name === undefined) throw new CliError(`branch ${action} needs a branch name`);
        const branchName = name as string;
        process.exitCode = await run(globals, async (client) => {
          if (action === "list") {
            const branches = await client.branches(id);
            if (globals.json) printJson(branches);
            else {
              const rows = branches.map((b) => [b.name, String(b.version), String(b.base), b.by]);
              for (const line of formatTable([["branch", "version", "from", "by"], ...rows])) printLine(line);
            }
            return ExitCodes.Ok;
          }
          if (action === "create") {
            const branch = await client.createBranch(id, branchName, {
              by: operatorName(options.by),
              ...(options.from === undefined ? {} : { from: options.from }),
            });
            if (globals.json) printJson(branch);
            else for (const line of branchLines(branch)) printLine(line);
            return ExitCodes.Ok;
          }
          if (action === "show") {
            const view = await client.branch(id, branchName);
            if (globals.json) printJson(view);
            else {
              for (const line of branchLines(view.branch)) printLine(line);
              const from = `${id} ${view.branch.base}`;
              for (const line of diffLines(from, `${id} branch:${branchName}`, view.changes, stdoutColour()))
                printLine(line);
            }
            return ExitCodes.Ok;
          }
          if (action === "delete") {
            const reply = await client.deleteBranch(
              id,
              branchName,
              options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion },
            );
            if (globals.json) printJson(reply);
            else printLine(`deleted branch ${branchName} of ${id}`);
            return ExitCodes.Ok;
          }
          if (options.set === undefined || options.set.length === 0)
            throw new CliError("branch edit needs --set field=value");
          const { branch } = await client.branch(id, branchName);
          const fields = JSON.parse(JSON.stringify(branch.fields)) as Record<string, unknown>;
          const patch: Record<string, unknown> = {};
          for (const raw of options.set) {
            const [path, value] = parseAssignment(raw);
            const field = setPath(fields, path, value);
            patch[field] = fields[field];
          }
          const edited = await client.editBranch(id, branchName, options.expectedVersion ?? branch.version, patch, {
            by: operatorName(options.by),
          });
          if (globals.json) printJson(edited);
          else for (const line of branchLines(edited)) printLine(line);
          return ExitCodes.Ok;
        });
      },
    );
}

export function mergeCommand(): Command {
  return new Command("merge")
    .description(
      "merge a branch into the strategy (three-way, field by field); conflicts are listed and nothing is written",
    )
    .argument("<id>")
    .argument("<branch>")
    .option("--expected-version <n>", "the current version you saw: refused if it changed", integerAtLeast(1))
    .option("--by <name>", "who merges (default $STRATREG_OPERATOR or the OS user)")
    .action(
      async (id: string, branch: string, options: { expectedVersion?: number; by?: string }, command: Command) => {
        const globals = globalsOf(command);
        const by = operatorName(options.by);
        process.exitCode = await run(globals, async (client) => {
          try {
            const result = await client.merge(id, branch, {
              by,
              ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
            });
            if (globals.json) printJson(result);
            else if (!result.merged) printLine(`branch ${branch} has nothing ${id} lacks: nothing merged`);
            else
              printLine(
                `merged branch ${branch} into ${id} as version ${result.strategy.version} (${result.changed.join(", ")})`,
              );
            return ExitCodes.Ok;
          } catch (err) {
            const conflicts = err instanceof StratregError ? err.details?.conflicts : undefined;
            if (!(err instanceof StratregError) || err.code !== ErrorCodes.Conflict || !Array.isArray(conflicts))
              throw err;
            warn(formatError(err));
            for (const line of conflictLines(conflicts as MergeConflict[])) warn(line);
            warn(`edit the branch (stratreg branch ${id} edit ${branch} --set …) or main, then merge again`);
            return ExitCodes.Failed;
          }
        });
      },
    );
}

export function tagCommand(): Command {
  return new Command("tag")
    .description("name a version of a strategy (moving a tag that names another version needs --force)")
    .argument("<id>")
    .argument("<version>", "the version", integerAtLeast(1))
    .argument("<tag>")
    .option("--force", "move the tag if it names another version", false)
    .option("--by <name>", "who tags (default $STRATREG_OPERATOR or the OS user)")
    .action(
      async (id: string, version: number, tag: string, options: { force: boolean; by?: string }, command: Command) => {
        const globals = globalsOf(command);
        const by = operatorName(options.by);
        process.exitCode = await run(globals, async (client) => {
          const result = await client.tagVersion(id, version, tag, { by, force: options.force });
          if (globals.json) printJson(result);
          else printLine(`tag ${tag} names version ${result.version} of ${id}`);
          return ExitCodes.Ok;
        });
      },
    );
}

export function untagCommand(): Command {
  return new Command("untag")
    .description("remove a tag")
    .argument("<id>")
    .argument("<tag>")
    .action(async (id: string, tag: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await run(globals, async (client) => {
        const removed = await client.untagVersion(id, tag);
        if (globals.json) printJson(removed);
        else printLine(`removed tag ${tag} (version ${removed.version}) of ${id}`);
        return ExitCodes.Ok;
      });
    });
}

/** Every version-control command, in the order `--help` lists them. */
export function versionCommands(): Command[] {
  return [
    logCommand(),
    showCommand(),
    diffCommand(),
    rollbackCommand(),
    branchCommand(),
    mergeCommand(),
    tagCommand(),
    untagCommand(),
  ];
}
