# The worker's container image (ECS Fargate). Three stages: `build` compiles the TypeScript with every
# dependency, `prod-deps` installs the production dependencies only, `runtime` gets nothing but
# package.json, those node_modules, the compiled worker and the compiled ops CLI.
#
# No `# syntax=` directive on purpose: it makes BuildKit pull its Dockerfile frontend (docker/dockerfile)
# from Docker Hub before anything else, anonymously and from CodeBuild's shared addresses in the pipeline.
# The frontend built into BuildKit reads everything below.
#
# This file cannot be built on the project's machines (no Docker engine), so `npm run check:artifact`
# (ops/artifact-check/main.ts) reads it and replays its stages in a temporary folder: each
# WORKDIR, COPY and RUN below, then the runtime stage's ENV, CMD and HEALTHCHECK against the local stack.
# A RUN it does not know makes the check fail, so change both together.

# The official Node.js image (Docker Hub's `node`) from ECR Public's mirror of Docker's official images,
# not from Docker Hub, whose anonymous pulls are limited per address. Its major is the `node`
# devDependency's (package.json), i.e. what the tests and the check run on. Another registry or a pinned
# digest: `docker build --build-arg NODE_IMAGE=<registry>/node:24-bookworm-slim@sha256:… .`
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:24-bookworm-slim

# ---- build: all dependencies, `npm run build` (tsconfig.build.json) -> /app/dist ----------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# The worker, and the ops CLI for the scheduled reconciliation (`node dist/ops/cli/main.js reconcile …`
# from the service's own image): ops/cli and the only two ops/local modules it imports. Nothing else of
# ops/, and no trigger/: a build without them proves neither is imported (the artifact check's import
# scan then finds any file the compiled code imports but the image lacks).
COPY worker ./worker
COPY ops/cli ./ops/cli
COPY ops/local/resources.ts ops/local/synthetic-data.ts ./ops/local/
RUN npm run build

# ---- prod-deps: production dependencies only --------------------------------------------------------
# --ignore-scripts: no production dependency needs an install script. `node` is a devDependency, so it
# is not installed here: the image's own Node runs the worker.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Init process: tini, in the image, as PID 1. It forwards SIGTERM (ECS's stop signal) to Node and reaps
# zombies whatever the task definition says, and a SIGTERM that arrives before the worker has installed
# its handlers still stops it (Node as PID 1 would ignore it: the kernel drops default-action signals
# to PID 1). So the task definition leaves linuxParameters.initProcessEnabled off: one init is enough.
# npm, npx and corepack are removed: the worker never runs them, and they only add code to patch.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack

ENV NODE_ENV=production
# = PRODUCTION_NODE_OPTIONS in worker/production-runtime.ts (a test compares them). The old-space limit
# suits a 2 GiB task; the task definition overrides NODE_OPTIONS from the task's memory.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=1536"

WORKDIR /app
# Owned by root and only readable by `node`: the worker cannot change its own code.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/worker ./dist/worker
COPY --from=build /app/dist/ops ./dist/ops

USER node
# = PRODUCTION_HTTP_PORT in worker/production-runtime.ts.
EXPOSE 8080
# = HEALTH_CHECK in worker/production-runtime.ts (the artifact check compares command and timing). For
# `docker run`: ECS ignores HEALTHCHECK and runs its task definition's, built from that constant.
# Node itself (no curl in slim images), on HTTP_PORT when it is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/worker/main.js"]
