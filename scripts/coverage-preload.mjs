/**
 * Preloaded (`NODE_OPTIONS=--import …`) into every Node process of a `npm run coverage` run; see
 * docs/adr/006-coverage.md. It acts only in the project's own programs — a `dist/**` entry of
 * `libs/` or `services/` (shards, the CLI, the launcher and the shards it starts) — and does
 * nothing in vitest's processes, whose coverage @vitest/coverage-v8 takes.
 *
 * Why not plain NODE_V8_COVERAGE: Node writes that only when a process exits by itself, and the
 * tests end most shards with SIGKILL. So this takes V8's precise coverage of the project's
 * `dist/**` scripts itself, every FLUSH_MS and at exit, and keeps the process's running total in
 * `$STRATREG_COVERAGE_DIR/process-<pid>.json` (NODE_V8_COVERAGE's `{ result }` shape). A SIGKILL
 * loses at most the last FLUSH_MS of counts.
 */
import { realpathSync, renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const FLUSH_MS = 500;
const ROOT = realPath(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
const OUT_DIR = process.env.STRATREG_COVERAGE_DIR;
const entry = realPath(process.argv[1]);

function realPath(path) {
  try {
    return path === undefined ? "" : realpathSync(path);
  } catch {
    return "";
  }
}

function isProjectProgram(path) {
  const inside = path.slice(ROOT.length + 1).split(sep);
  return path.startsWith(ROOT + sep) && (inside[0] === "libs" || inside[0] === "services") && inside[2] === "dist";
}

if (OUT_DIR !== undefined && isProjectProgram(entry)) start(OUT_DIR);

function start(outDir) {
  // Loaded only here, not in every process the preload visits. It adds up V8's range trees as c8 and vitest do.
  const require = createRequire(import.meta.url);
  const { mergeScriptCovs } = require("@bcoe/v8-coverage");
  const prefix = `${pathToFileURL(ROOT).href}/`;
  const file = join(outDir, `process-${process.pid}.json`);
  const session = new Session();
  session.connect();
  // An in-process session answers synchronously, so this also works inside an "exit" listener.
  const post = (method, params) => {
    let result;
    session.post(method, params, (err, value) => {
      if (err) throw err;
      result = value;
    });
    return result;
  };
  post("Profiler.enable");
  post("Profiler.startPreciseCoverage", { callCount: true, detailed: true });

  const total = new Map(); // url → the process's ScriptCoverage so far
  const record = (final) => {
    // takePreciseCoverage resets V8's counters, so each take is the delta since the last one: add it.
    for (const script of post("Profiler.takePreciseCoverage").result) {
      if (!script.url.startsWith(prefix) || script.url.includes("/node_modules/") || !script.url.includes("/dist/"))
        continue;
      const known = total.get(script.url);
      total.set(script.url, known === undefined ? script : mergeScriptCovs([known, script]));
    }
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ result: [...total.values()], stratreg: { pid: process.pid, entry, final } }));
    renameSync(tmp, file);
  };
  // Measuring must not change what is measured: no throw, and no output a test might read.
  const flush = (final) => {
    try {
      record(final);
    } catch (err) {
      try {
        writeFileSync(`${file}.error`, String(err?.stack ?? err));
      } catch {}
    }
  };
  setInterval(() => flush(false), FLUSH_MS).unref();
  process.on("exit", () => flush(true));
}
