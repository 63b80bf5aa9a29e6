# syntax=docker/dockerfile:1
# The stratreg image: every workspace built, production dependencies only, running as `node`.
# The default command runs one registry shard; configure it with the environment variables in
# services/registry-shard/src/config.ts (NATS_URL, NATS_USER, NATS_PASSWORD, STRATREG_MEMBER_ID, …).
# `npm run check:compose` checks that the compose file and this file agree.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The whole context (see .dockerignore): every workspace's package.json must be present for
# `npm ci`, and the list of workspaces still grows.
COPY . .
# --ignore-scripts: only dev dependencies (testcontainers' ssh2, cpu-features) have install scripts,
# and msgpackr's native decoder ships prebuilt; the slim image has no compiler for them anyway.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
# tsc -b, then the operator console's browser bundle (apps/console/build.mjs, esbuild).
RUN npm run build
# Keep what runs: dist folders, package.json files (the workspace links in node_modules point at
# them) and production dependencies.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && find . -name "*.tsbuildinfo" -not -path "./node_modules/*" -delete \
  && rm -rf libs/*/src services/*/src apps/*/src apps/*/static test docs

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root: `node` can read the code but not rewrite it.
COPY --from=build /app /app
USER node
# main.js handles SIGTERM itself (releases its partitions, says goodbye to its peers), so node can run as PID 1.
CMD ["node", "services/registry-shard/dist/main.js"]
