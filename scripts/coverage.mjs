#!/usr/bin/env node
/**
 * `npm run coverage`: V8 line, branch and function coverage of the TypeScript sources across every
 * Node process the tests start (docs/adr/006-coverage.md).
 *
 * - vitest's workers run sources (and siblings' `dist/`) in-process; @vitest/coverage-v8 measures them.
 * - The programs the tests spawn (shards, the CLI, the launcher and its shards) run `dist/**.js`;
 *   scripts/coverage-preload.mjs, preloaded into each through NODE_OPTIONS, records their V8 coverage.
 * - scripts/coverage-join.mjs maps both onto one set of statements, branches and functions per file.
 *
 *   node scripts/coverage.mjs [vitest filters and options…]
 *   node scripts/coverage.mjs --report-only     # report the last run's raw data again
 *
 * Builds, runs the tests, prints the table, the totals and the least-covered files, and writes
 * coverage/index.html, lcov.info, coverage-final.json and coverage-summary.json (raw data in
 * coverage/raw/). Exits with vitest's code: a failing test still gets a report.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import libCoverage from "istanbul-lib-coverage";
import libReport from "istanbul-lib-report";
import reports from "istanbul-reports";
import { addInProcess, spawnedCoverage } from "./coverage-join.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "coverage");
const RAW_VITEST = join(OUT, "raw", "vitest");
const RAW_PROCESSES = join(OUT, "raw", "processes");
const PRELOAD = join(ROOT, "scripts", "coverage-preload.mjs");
const PACKAGE_DIRS = ["libs", "services"];

/**
 * What is measured: the product sources. Tests, the test kit and the CLI's test helpers are not
 * product code; bench/ is a tool run by hand that no test runs, so counting it would only say so.
 */
const SOURCES = PACKAGE_DIRS.map((dir) => `${dir}/*/src/**/*.ts`);
/** The same packages' build, which tests import in-process and whose maps lead back to SOURCES. */
const BUILT = PACKAGE_DIRS.map((dir) => `${dir}/*/dist/**/*.js`);
const EXCLUDED = [
  "**/*.test.ts",
  "**/*.d.ts",
  "libs/testkit/**",
  "libs/cli/src/testing/**",
  "libs/cli/dist/testing/**",
];

const reportOnly = process.argv[2] === "--report-only";
const vitest = reportOnly ? { status: 0 } : runTests(process.argv.slice(2));

const distDirs = PACKAGE_DIRS.flatMap((dir) =>
  readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name, "dist")),
);
const rawProcesses = existsSync(RAW_PROCESSES) ? readdirSync(RAW_PROCESSES) : [];
const processFiles = rawProcesses
  .filter((name) => /^process-\d+\.json$/.test(name))
  .map((name) => join(RAW_PROCESSES, name));
const recordErrors = rawProcesses.filter((name) => name.endsWith(".error")).length;
if (recordErrors > 0)
  console.warn(`coverage: ${recordErrors} programs could not record coverage; see ${RAW_PROCESSES}/*.error`);
const spawned = await spawnedCoverage(distDirs.filter(existsSync), processFiles);
const inProcess = readJson(join(RAW_VITEST, "coverage-final.json"));
if (inProcess === undefined) console.warn("coverage: vitest wrote no coverage; only spawned programs are counted");
const placed = addInProcess(spawned.data, inProcess ?? {});
const coverageMap = libCoverage.createCoverageMap(spawned.data);
coverageMap.filter((file) => isSource(relative(ROOT, file)));

const context = libReport.createContext({ dir: OUT, coverageMap, defaultSummarizer: "nested" });
for (const name of ["text", "html", "lcovonly", "json", "json-summary"]) reports.create(name).execute(context);

const total = libCoverage.createCoverageSummary();
for (const file of coverageMap.files()) total.merge(coverageMap.fileCoverageFor(file).toSummary());
const figure = (kind) => `${kind} ${total[kind].pct}% (${total[kind].covered}/${total[kind].total})`;
console.log(`\n${["lines", "branches", "functions", "statements"].map(figure).join(", ")}`);
console.log(
  `spawned programs measured: ${spawned.processes} (${spawned.flushedAtExit} flushed at exit, the rest ended by a ` +
    "signal and lost at most their last 500 ms)",
);
if (placed.unplaced > 0)
  console.log(
    `vitest items with no counterpart in the build, left out: ${placed.unplaced} (${placed.unplacedHit} hit)`,
  );

console.log("\nleast-covered files (lines):");
const ranked = coverageMap
  .files()
  .map((file) => ({ file: relative(ROOT, file), lines: coverageMap.fileCoverageFor(file).toSummary().lines }))
  .filter(({ lines }) => lines.total > 0)
  .sort((a, b) => a.lines.pct - b.lines.pct || b.lines.total - a.lines.total);
for (const { file, lines } of ranked.slice(0, 10))
  console.log(`  ${`${lines.pct}%`.padStart(7)}  ${file} (${lines.covered}/${lines.total})`);
console.log(
  `\nreport: ${relative(process.cwd(), join(OUT, "index.html"))}, ${relative(process.cwd(), join(OUT, "lcov.info"))}`,
);
if (vitest.status !== 0)
  console.log(`vitest exited with ${vitest.status ?? vitest.signal}: the tests did not all pass`);
process.exit(vitest.status ?? 1);

/** Builds, then runs vitest with both kinds of coverage collection on; returns spawnSync's result. */
function runTests(vitestArgs) {
  const require = createRequire(import.meta.url);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(RAW_PROCESSES, { recursive: true });
  const build = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const vitestBin = join(dirname(require.resolve("vitest/package.json")), "vitest.mjs");
  return spawnSync(
    process.execPath,
    [
      vitestBin,
      "run",
      "--coverage.enabled",
      "--coverage.provider=v8",
      ...[...SOURCES, ...BUILT].map((glob) => `--coverage.include=${glob}`),
      ...EXCLUDED.map((glob) => `--coverage.exclude=${glob}`),
      "--coverage.reporter=json",
      `--coverage.reportsDirectory=${relative(ROOT, RAW_VITEST)}`,
      "--coverage.reportOnFailure",
      ...vitestArgs,
    ],
    {
      cwd: ROOT,
      stdio: "inherit",
      env: {
        ...process.env,
        STRATREG_COVERAGE_DIR: RAW_PROCESSES,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${pathToFileURL(PRELOAD).href}`.trim(),
      },
    },
  );
}

function isSource(path) {
  return SOURCES.some((glob) => globMatch(glob, path)) && !EXCLUDED.some((glob) => globMatch(glob, path));
}

/** `*` within a path segment, `**` across segments: enough for the globs above. */
function globMatch(glob, path) {
  let pattern = "";
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] !== "*") pattern += glob[i].replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    else if (glob[i + 1] !== "*") pattern += "[^/]*";
    else if (glob[i + 2] === "/") {
      pattern += "(?:.*/)?";
      i += 2;
    } else {
      pattern += ".*";
      i += 1;
    }
  }
  return new RegExp(`^${pattern}$`).test(path);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
