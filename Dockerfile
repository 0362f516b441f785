# syntax=docker/dockerfile:1
# The operator image: `docker build -t modelservice-operator:$(node -p 'require("./package.json").version') .`
# Runs `node build/cli/main.js run` as user 65532 on a distroless image (no shell, no package manager).

# Keep in step with the `node` devDependency in package.json (test/unit/chart.test.ts checks it).
ARG NODE_VERSION=24.21.0

# Build stage. The output is plain JavaScript and the production dependencies are pure JavaScript,
# so this stage runs on the build machine's platform even for multi-arch builds.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script is the `node` devDependency's, which would download a
# second Node binary; this image already has the same Node.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# Production dependencies only, into a clean directory.
WORKDIR /prod
RUN cp /src/package.json /src/package-lock.json ./ \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -f package-lock.json

# Runtime stage: Node 24 without a shell; the :nonroot tag's user is 65532.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="modelservice-operator" \
  org.opencontainers.image.description="Kubernetes operator that serves a model on GPUs from one small ModelService resource" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}"
WORKDIR /app
# Memory (measured with `npm run bench`, README "Performance"): V8's young generation defaults to
# tens of MiB, which an operator's short-lived request and watch objects fill and keep resident;
# 1 MiB semi-spaces cost ≈ 40 MiB less RSS with the caches full. One malloc arena per core (glibc's
# default is 8 per core) keeps freed native memory from staying spread over idle arenas.
ENV NODE_ENV=production \
  NODE_OPTIONS="--enable-source-maps --max-semi-space-size=1" \
  MALLOC_ARENA_MAX=2
# package.json is needed at run time: it declares "type": "module".
COPY --from=build /prod/package.json ./package.json
COPY --from=build /prod/node_modules ./node_modules
COPY --from=build /src/build ./build
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "build/cli/main.js"]
CMD ["run"]
