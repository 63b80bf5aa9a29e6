#!/usr/bin/env node
/**
 * `npm run check:compose`: checks docker-compose.yml against the code, because CI has no Docker
 * engine to try it. For every service built from a Dockerfile: the script its command runs is in the
 * image (followed through the Dockerfile's COPY steps to a file of the build context, and built by
 * `tsc -b` when .dockerignore keeps it out), and every environment variable set is one the code reads
 * (`env.NAME`, `process.env.NAME`, `env["NAME"]` in the TypeScript sources). For every service:
 * mounted files exist, named volumes are declared, depends_on names services (with a healthcheck when
 * it waits for health). A nats-server config given with `-c` must be mounted, get every variable it
 * references, and know the users the other services log in as, with the same passwords.
 *
 * Variables are scoped to the program: those read by its package and the workspace packages it depends on.
 *
 *   node scripts/check-compose.mjs [compose-file]
 *
 * Prints what it checked; exits 1 naming each problem. `checkCompose()` is exported for tests.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import {
  dependsOn,
  envFiles,
  environmentOf,
  globToRegExp,
  hasHealthcheck,
  isIgnored,
  isObject,
  parseDockerfile,
  parseNatsConfig,
  parseVolume,
  readJson,
} from "./compose-files.mjs";

/** The repository this script belongs to. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const PACKAGE_PARENTS = ["libs", "services", "apps"];
const BUILD_COMMAND = /\btsc\b[^&|;]*\s(?:-b|--build)\b|\bnpm run build\b/;

/**
 * @typedef {object} CheckOptions
 * @property {string} [root] The repository root (default: this script's repository).
 * @property {string} [composeFile] The compose file, relative to `root` (default `docker-compose.yml`).
 * @property {Record<string, string | null>} [files] Files to see instead of the disk's, by path relative
 *   to `root`: a string is the file's text, `null` makes it absent. Tests use it to check mutated copies.
 *
 * @typedef {object} CheckResult
 * @property {boolean} ok Whether no problem was found.
 * @property {string[]} checked What was checked and found right, one line each.
 * @property {string[]} problems What is wrong, one line each, naming the service and the setting.
 */

/**
 * Checks a compose file against the Dockerfile, the code and the files it mounts.
 * @param {CheckOptions} [options]
 * @returns {CheckResult}
 */
export function checkCompose(options = {}) {
  const fs = overlayFs(resolve(options.root ?? REPO_ROOT), options.files ?? {});
  const composePath = fs.abs(options.composeFile ?? "docker-compose.yml");
  /** @type {string[]} */ const checked = [];
  /** @type {string[]} */ const problems = [];
  const result = () => ({ ok: problems.length === 0, checked, problems });
  const fail = (problem) => {
    problems.push(problem);
    return result();
  };

  const text = fs.read(composePath);
  if (text === undefined) return fail(`${fs.show(composePath)} does not exist`);
  let compose;
  try {
    // merge: compose files share settings through YAML anchors and `<<` merge keys.
    compose = parse(text, { merge: true });
  } catch (err) {
    return fail(`${fs.show(composePath)} is not valid YAML: ${err.message}`);
  }
  const services = compose?.services;
  if (!isObject(services) || Object.keys(services).length === 0) {
    return fail(`${fs.show(composePath)} defines no services`);
  }
  const baseDir = dirname(composePath);
  const volumes = isObject(compose.volumes) ? compose.volumes : {};
  const workspaces = workspacePackages(fs);
  /** @type {Map<string, NatsConfig>} nats-server configs by the service that runs them */
  const natsConfigs = new Map();

  for (const [name, service] of Object.entries(services)) {
    const where = `service ${name}`;
    for (const dep of dependsOn(service.depends_on)) {
      if (!(dep.name in services)) problems.push(`${where}: depends_on names ${dep.name}, which is not a service`);
      else if (dep.condition === "service_healthy" && !hasHealthcheck(services[dep.name])) {
        problems.push(`${where}: waits for ${dep.name} to be healthy, but ${dep.name} has no healthcheck`);
      } else checked.push(`${where}: depends on ${dep.name}${dep.condition ? ` (${dep.condition})` : ""}`);
    }
    /** @type {Map<string, string>} container path -> host path of bind mounts */
    const mounts = new Map();
    for (const volume of service.volumes ?? []) {
      const { source, target } = parseVolume(volume);
      if (source === undefined || /^[./~]/.test(source) === false) {
        if (source !== undefined && !(source in volumes)) {
          problems.push(`${where}: named volume ${source} is not declared under top-level volumes`);
        } else if (source !== undefined) checked.push(`${where}: named volume ${source} at ${target}`);
        continue;
      }
      const host = resolve(baseDir, source);
      if (!fs.exists(host)) problems.push(`${where}: mounted file ${fs.show(host)} does not exist`);
      else {
        mounts.set(target, host);
        checked.push(`${where}: mounts ${fs.show(host)} at ${target}`);
      }
    }
    for (const file of envFiles(service.env_file)) {
      if (file.required !== false && !fs.exists(resolve(baseDir, file.path))) {
        problems.push(`${where}: env_file ${file.path} does not exist`);
      }
    }
    const env = environmentOf(service.environment);
    if (service.build !== undefined) {
      checkBuiltService(fs, { where, service, env, baseDir, workspaces }, checked, problems);
    } else {
      const config = configOf(service.command, mounts);
      if (config === undefined) continue;
      if (config.host === undefined) {
        problems.push(`${where}: its config ${config.target} is not a mounted file`);
        continue;
      }
      const parsed = parseNatsConfig(fs.read(config.host) ?? "");
      natsConfigs.set(name, parsed);
      for (const variable of parsed.variables) {
        if (!env.has(variable)) {
          problems.push(
            `${where}: ${fs.show(config.host)} references $${variable}, which its environment does not set`,
          );
        } else checked.push(`${where}: sets $${variable} for ${fs.show(config.host)}`);
      }
      for (const key of env.keys()) {
        if (!parsed.variables.includes(key)) {
          problems.push(`${where}: environment variable ${key} is not referenced by ${fs.show(config.host)}`);
        }
      }
    }
  }
  checkCredentials(services, natsConfigs, checked, problems);
  return result();
}

/**
 * A built service: the script it runs must be in the image, and it may set only variables the code reads.
 * @param {ReturnType<typeof overlayFs>} fs
 */
function checkBuiltService(fs, { where, service, env, baseDir, workspaces }, checked, problems) {
  const build = typeof service.build === "string" ? { context: service.build } : service.build;
  const context = resolve(baseDir, build.context ?? ".");
  const dockerfilePath = resolve(context, build.dockerfile ?? "Dockerfile");
  const dockerfileText = fs.read(dockerfilePath);
  if (dockerfileText === undefined) {
    problems.push(`${where}: ${fs.show(dockerfilePath)} does not exist`);
    return;
  }
  const dockerfile = parseDockerfile(dockerfileText);
  const final = dockerfile.at(-1);
  if (final === undefined) {
    problems.push(`${where}: ${fs.show(dockerfilePath)} has no FROM`);
    return;
  }
  if (final.user === undefined || /^(root|0)(:|$)/.test(final.user)) {
    problems.push(`${where}: the image runs as root (add USER to the last stage of ${fs.show(dockerfilePath)})`);
  }
  const argv = commandLine(service, final);
  const script = argv[0] === "node" ? argv.slice(1).find((arg) => /\.[cm]?js$/.test(arg)) : undefined;
  const inImage = script === undefined ? undefined : posix.resolve(final.workdir, script);
  const origin = inImage === undefined ? undefined : originOf(dockerfile, dockerfile.length - 1, inImage);
  const hostFile = origin === undefined ? undefined : resolve(context, origin.contextPath);
  checkEnvironment(fs, { where, env, workspaces, program: hostFile }, checked, problems);
  if (inImage === undefined) {
    problems.push(`${where}: cannot tell which script its command runs: ${JSON.stringify(argv)}`);
    return;
  }
  if (origin === undefined || hostFile === undefined) {
    problems.push(`${where}: runs ${inImage}, which no COPY in ${fs.show(dockerfilePath)} puts in the image`);
    return;
  }
  const shown = fs.show(hostFile);
  for (const run of origin.laterRuns) {
    const rm = removes(run);
    if (rm !== undefined) {
      problems.push(`${where}: runs ${inImage}, but \`${rm}\` deletes it during the build`);
      return;
    }
  }
  if (!isIgnored(fs.read(join(context, ".dockerignore")) ?? "", origin.contextPath)) {
    if (fs.exists(hostFile)) checked.push(`${where}: runs ${inImage}, copied from ${shown}`);
    else problems.push(`${where}: runs ${inImage}, copied from ${shown}, which does not exist`);
    return;
  }
  // Kept out of the context, so the build must make it: tsc -b after the sources were copied.
  if (!origin.laterRuns.some((run) => BUILD_COMMAND.test(run.command))) {
    problems.push(`${where}: runs ${inImage}; ${shown} is not in the build context and no RUN builds it`);
    return;
  }
  const source = typeScriptSourceOf(fs, context, origin.contextPath);
  if (source === undefined) {
    problems.push(`${where}: runs ${inImage}, but no project of \`tsc -b\` (tsconfig.json references) emits ${shown}`);
  } else if (!fs.exists(source)) {
    problems.push(`${where}: runs ${inImage}, which would be built from ${fs.show(source)}, which does not exist`);
  } else if (isIgnored(fs.read(join(context, ".dockerignore")) ?? "", rel(context, source))) {
    problems.push(`${where}: runs ${inImage}, built from ${fs.show(source)}, which .dockerignore keeps out`);
  } else if (!fs.exists(hostFile)) {
    problems.push(`${where}: runs ${inImage}, but \`npx tsc -b\` did not make ${shown} here (run it first)`);
  } else checked.push(`${where}: runs ${inImage}, which \`tsc -b\` builds from ${fs.show(source)}`);
}

/** The argv a service runs: compose's entrypoint/command over the image's ENTRYPOINT/CMD. */
function commandLine(service, stage) {
  const words = (value) =>
    value == null ? undefined : Array.isArray(value) ? value.map(String) : String(value).split(/\s+/);
  const entrypoint = words(service.entrypoint) ?? stage.entrypoint ?? [];
  // Setting the entrypoint in compose drops the image's CMD.
  const command = words(service.command) ?? (service.entrypoint == null ? stage.cmd : undefined) ?? [];
  const argv = [...entrypoint, ...command];
  // Shell form: `sh -c "node x.js"`.
  if ((argv[0] === "/bin/sh" || argv[0] === "sh") && argv[1] === "-c") return String(argv[2] ?? "").split(/\s+/);
  return argv;
}

/**
 * @typedef {object} LaterRun A RUN step after the file arrived, with the file's path in that stage.
 * @property {string} command
 * @property {string} workdir
 * @property {string} path
 */

/**
 * Where a file of the final image comes from: follows COPY steps (the last one wins) back through the
 * stages to the build context (`COPY . .`, `COPY --from=build /app /app`, `COPY x.js /app/x.js`).
 * @returns {{ contextPath: string, laterRuns: LaterRun[] } | undefined}
 */
function originOf(stages, index, path) {
  const stage = stages[index];
  const runsFrom = (i) =>
    stage.steps.slice(i).flatMap((s) => (s.type === "run" ? [{ command: s.command, workdir: s.workdir, path }] : []));
  for (let i = stage.steps.length - 1; i >= 0; i--) {
    const step = stage.steps[i];
    if (step.type !== "copy") continue;
    const within = posix.relative(posix.resolve(step.workdir, step.dest), path);
    if (within.startsWith("..") || posix.isAbsolute(within)) continue;
    for (const src of step.sources) {
      if (step.from === undefined) {
        return { contextPath: posix.normalize(posix.join(src, within)), laterRuns: runsFrom(i + 1) };
      }
      const from = stages.findIndex((s, j) => j < index && (s.name === step.from || String(j) === step.from));
      if (from < 0) return undefined;
      const inner = originOf(stages, from, posix.join(posix.resolve("/", src), within));
      if (inner !== undefined) return { ...inner, laterRuns: [...inner.laterRuns, ...runsFrom(i + 1)] };
    }
  }
  // `FROM <earlier stage>` starts from that stage's files.
  const base = stages.findIndex((s, j) => j < index && s.name === stage.base);
  const inner = base < 0 ? undefined : originOf(stages, base, path);
  return inner && { ...inner, laterRuns: [...inner.laterRuns, ...runsFrom(0)] };
}

/** The `rm` of a RUN step that deletes the file (or a folder holding it), if any. */
function removes({ command, workdir, path }) {
  for (const match of command.matchAll(/\brm\s+([^&|;]+)/g)) {
    for (const arg of match[1].trim().split(/\s+/)) {
      if (arg.startsWith("-")) continue;
      const target = posix.resolve(workdir, arg.replace(/^["']|["']$/g, ""));
      if (globToRegExp(target).test(path) || globToRegExp(`${target}/**`).test(path)) return match[0].trim();
    }
  }
  return undefined;
}

/** The TypeScript file `tsc -b` compiles into `contextPath`, if a project in the build graph does. */
function typeScriptSourceOf(fs, context, contextPath) {
  const file = resolve(context, contextPath);
  const seen = new Set();
  const queue = [resolve(context, "tsconfig.json")];
  while (queue.length > 0) {
    const configPath = queue.shift();
    if (seen.has(configPath)) continue;
    seen.add(configPath);
    const config = readJson(fs.read(configPath));
    if (config === undefined) continue;
    const dir = dirname(configPath);
    for (const reference of config.references ?? []) {
      const target = resolve(dir, reference.path);
      queue.push(target.endsWith(".json") ? target : join(target, "tsconfig.json"));
    }
    const outDir = config.compilerOptions?.outDir;
    if (outDir === undefined) continue;
    const within = relative(resolve(dir, outDir), file);
    if (within.startsWith("..") || isAbsolute(within)) continue;
    const rootDir = resolve(dir, config.compilerOptions?.rootDir ?? ".");
    return join(
      rootDir,
      within
        .replace(/\.js$/, ".ts")
        .replace(/\.mjs$/, ".mts")
        .replace(/\.cjs$/, ".cts"),
    );
  }
  return undefined;
}

/**
 * Every variable set must be one the program reads: read by the sources of its package or of the
 * workspace packages it depends on (so a test-only variable of another library does not count).
 */
function checkEnvironment(fs, { where, env, workspaces, program }, checked, problems) {
  const home = [...workspaces.values()]
    .filter((pkg) => program !== undefined && !rel(pkg.dir, program).startsWith(".."))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
  const packages = home === undefined ? [...workspaces.values()] : dependencyClosure(home, workspaces);
  const read = envNamesRead(
    fs,
    packages.map((pkg) => join(pkg.dir, "src")),
  );
  const readers = home === undefined ? "the code" : `${fs.show(home.dir)} and the workspace libraries it uses`;
  for (const name of env.keys()) {
    if (read.has(name)) checked.push(`${where}: sets ${name}, which ${readers} read`);
    else {
      const known = [...read].sort().join(", ");
      problems.push(`${where}: environment variable ${name} is not read by ${readers} (they read ${known})`);
    }
  }
}

/** Workspace packages under libs/ and services/, by package name. */
function workspacePackages(fs) {
  const packages = new Map();
  for (const dir of fs.packageDirs()) {
    const manifest = readJson(fs.read(join(dir, "package.json")));
    if (typeof manifest?.name !== "string") continue;
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    packages.set(manifest.name, { name: manifest.name, dir, deps });
  }
  return packages;
}

/** `start` and every workspace package it depends on, directly or not. */
function dependencyClosure(start, workspaces) {
  const found = new Map([[start.name, start]]);
  const queue = [start];
  while (queue.length > 0) {
    for (const dep of queue.shift().deps) {
      const pkg = workspaces.get(dep);
      if (pkg !== undefined && !found.has(dep)) {
        found.set(dep, pkg);
        queue.push(pkg);
      }
    }
  }
  return [...found.values()];
}

/** Every environment variable name the TypeScript sources under `srcDirs` read (tests excluded). */
function envNamesRead(fs, srcDirs) {
  const names = new Set();
  const patterns = [
    /\benv\.([A-Za-z_][A-Za-z0-9_]*)(?!\s*\()/g,
    /\benv\[\s*["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]\s*\]/g,
    /\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g,
  ];
  for (const file of fs.sources(srcDirs)) {
    const text = fs.read(file) ?? "";
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        for (const part of match[1].split(",")) {
          const name = part.split(/[:=]/)[0]?.trim();
          if (name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) names.add(name);
        }
      }
    }
  }
  return names;
}

/** Services that log in to a compose nats-server must use one of its users, with that user's password. */
function checkCredentials(services, natsConfigs, checked, problems) {
  for (const [name, service] of Object.entries(services)) {
    const env = environmentOf(service.environment);
    const url = env.get("NATS_URL");
    if (typeof url !== "string") continue;
    let host;
    let port;
    try {
      ({ hostname: host, port } = new URL(url));
    } catch {
      problems.push(`service ${name}: NATS_URL ${url} is not a URL`);
      continue;
    }
    const config = natsConfigs.get(host);
    if (config === undefined) continue;
    if (Number(port || 4222) !== config.port) {
      problems.push(`service ${name}: NATS_URL uses port ${port || 4222}, but ${host} listens on ${config.port}`);
    }
    const user = env.get("NATS_USER");
    if (config.users.size === 0) continue;
    if (typeof user !== "string" || !config.users.has(user)) {
      problems.push(
        `service ${name}: NATS_USER ${user ?? "(unset)"} is not a user of ${host} (${[...config.users.keys()].join(", ")})`,
      );
      continue;
    }
    const variable = config.users.get(user);
    if (variable === undefined) continue;
    const given = interpolated(env.get("NATS_PASSWORD"));
    const expected = interpolated(environmentOf(services[host].environment).get(variable));
    if (given === undefined || given !== expected) {
      problems.push(
        `service ${name}: NATS_PASSWORD must be what ${host} gets as ${variable} (${expected ?? "unset"}), not ${given ?? "unset"}`,
      );
    } else checked.push(`service ${name}: logs in to ${host} as ${user} with ${variable}`);
  }
}

/** `${NAME:?msg}` -> `$NAME` (so two services using one variable compare equal); literals stay. */
function interpolated(value) {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}$/.exec(value) ?? /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  return match ? `$${match[1]}` : value;
}

/** A nats-server `-c`/`--config` argument, and the host file mounted there. */
function configOf(command, mounts) {
  const argv = Array.isArray(command) ? command.map(String) : typeof command === "string" ? command.split(/\s+/) : [];
  const at = argv.findIndex((arg) => arg === "-c" || arg === "--config" || arg === "-config");
  const target = at >= 0 ? argv[at + 1] : undefined;
  return target === undefined ? undefined : { target, host: mounts.get(target) };
}

function rel(from, to) {
  return relative(from, to).split(sep).join("/");
}

/** The disk under `root`, with `files` laid over it (tests check mutated copies this way). */
function overlayFs(root, files) {
  const overlay = new Map(Object.entries(files).map(([path, text]) => [resolve(root, path), text]));
  const walk = (dir, out) => {
    if (!existsSync(dir)) return out;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, out);
      else out.push(path);
    }
    return out;
  };
  return {
    abs: (path) => resolve(root, path),
    show: (path) => (rel(root, path).startsWith("..") ? path : rel(root, path)),
    exists: (path) => (overlay.has(path) ? overlay.get(path) !== null : existsSync(path)),
    read(path) {
      if (overlay.has(path)) return overlay.get(path) ?? undefined;
      return existsSync(path) ? readFileSync(path, "utf8") : undefined;
    },
    /** Package folders under libs/ and services/. */
    packageDirs() {
      return PACKAGE_PARENTS.flatMap((top) => {
        const dir = join(root, top);
        if (!existsSync(dir)) return [];
        return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(dir, e.name)] : []));
      });
    },
    /** TypeScript sources under `dirs`, tests and declarations excluded. */
    sources(dirs) {
      const inside = (path) => dirs.some((dir) => !rel(dir, path).startsWith(".."));
      const all = new Set([...overlay.keys()].filter(inside));
      for (const dir of dirs) for (const file of walk(dir, [])) all.add(file);
      return [...all].filter(
        (path) => /\.[cm]?ts$/.test(path) && !/\.(test|d)\.[cm]?ts$/.test(path) && this.exists(path),
      );
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // Usage: node scripts/check-compose.mjs [compose-file]   (default: docker-compose.yml of this repository)
  const composeFile = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
  const { ok, checked, problems } = checkCompose({ composeFile });
  const name = composeFile ?? "docker-compose.yml";
  for (const line of checked) console.log(`ok    ${line}`);
  for (const line of problems) console.error(`FAIL  ${line}`);
  console.log(ok ? `${name}: ${checked.length} checks passed` : `${name}: ${problems.length} problem(s) found`);
  process.exitCode = ok ? 0 : 1;
}
