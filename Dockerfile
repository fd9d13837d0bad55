# syntax=docker/dockerfile:1
# One image for every app container of docker-compose.yml; SERVICES picks the services a
# container runs. Stages: deps (all dependencies) -> build (tsc into dist/) -> prod-deps
# (production dependencies only) -> runtime.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Installs what package-lock.json says; extra arguments go to npm (--omit=dev).
#
# --ignore-scripts: the only install scripts the project allows are those of `node` (the npm
# package that downloads a second Node binary for npm scripts on machines whose Node is too
# old) and esbuild (tsx's compiler). Here the image's Node 24 is the one to use, and esbuild
# finds its platform binary through its optional dependency without its script. Removing the
# `node` package's bin link (if npm made one) keeps npm scripts and `#!/usr/bin/env node` on
# the image's node. A dependency that really needs its install script must be rebuilt
# explicitly here (`npm rebuild <name>`).
#
# The fallback: our lock file is written on machines whose registry does not serve every
# optional platform package (unrs-resolver's android/darwin/win32 bindings), and `npm ci`
# refuses such a lock as "not in sync". `npm install --no-save` then installs from the same
# lock without changing it, as .ci/run does.
COPY --chmod=755 <<'SCRIPT' /usr/local/bin/install-locked-deps
#!/bin/sh
set -eu
if ! npm ci --ignore-scripts "$@" >/tmp/npm-ci.log 2>&1; then
  cat /tmp/npm-ci.log >&2
  grep -q 'are in sync' /tmp/npm-ci.log || exit 1
  echo "install-locked-deps: npm ci refused the lock file; npm install --no-save from the same lock" >&2
  npm install --no-save --ignore-scripts "$@"
fi
rm -f /tmp/npm-ci.log node_modules/.bin/node
SCRIPT

FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm install-locked-deps

# mkdir: not every checkout has proto/ (git keeps no empty folders); the runtime copies it.
FROM deps AS build
COPY . .
RUN npm run build && mkdir -p proto

FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm install-locked-deps --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Code and dependencies belong to root and are read-only for the `node` user (uid 1000) the
# process runs as; only ./data (the embedded store and dev issuer keys, used only when the
# image runs without MONGO_URI / OIDC_ISSUER) is writable.
RUN mkdir -p /app/data && chown node:node /app/data
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY package.json ./
USER node
EXPOSE 3000
# No HEALTHCHECK here: only the gateway container serves HTTP (docker-compose.yml checks its
# /api/health); the other containers run services without a port.
CMD ["node", "dist/bin/start.js"]
