# syntax=docker/dockerfile:1
# The modelkeys operator image: compiled JavaScript on a distroless Node 24 base, running as a numeric
# non-root user, with the Pulumi CLI and the azure-native provider for Azure OpenAI provisioning.
#
#   docker build -t ghcr.io/modelkeys/operator:"$(node -p 'require("./package.json").version')" .
#
# The tag is the release version (package.json "version", read by operator/version.ts), the one the install
# manifest and the Helm chart deploy.
#
# The development machine has no container engine, so this file is not built there: its consistency with
# the install manifest (user, ports, entry point, Node version) is checked by
# test/unit/install-manifest-image.test.ts, and every RUN step below is an npm/go/tsc command the CI runs.
#
# How TypeScript runs: compiled, not through tsx (a devDependency). The build stage runs `npm run build`
# (tsc; rewriteRelativeImportExtensions turns ./x.ts imports into ./x.js) and the image runs
# `node out/operator/main.js`, so the final stage needs only production dependencies.

ARG NODE_VERSION=24
ARG GO_VERSION=1.26

# --- pulumi: the `pulumi` CLI the Automation API drives, built from the same pinned wrapper module as the
# tests use (local/pulumi/go.mod), so the image and the tests run one engine version.
FROM golang:${GO_VERSION}-bookworm AS pulumi
WORKDIR /src
COPY local/pulumi/ local/pulumi/
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    out="$(MODELKEYS_CACHE=/tmp/cache bash local/pulumi/build.sh)" \
 && mkdir -p /opt/pulumi/bin \
 && cp "$out/bin/pulumi" /opt/pulumi/bin/pulumi

# --- build: all dependencies, compile TypeScript to out/, and fetch the azure-native provider plugin at the
# version of the @pulumi/azure-native package in package-lock.json.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build
COPY --from=pulumi /opt/pulumi /opt/pulumi
# The engine finds a provider binary on PATH ("ambient" plugin), so PULUMI_HOME can live on the writable
# state volume (see the Deployment) while the plugin stays in the read-only image.
RUN version="$(node -p 'require("./node_modules/@pulumi/azure-native/package.json").version')" \
 && PULUMI_HOME=/tmp/pulumi-home /opt/pulumi/bin/pulumi plugin install resource azure-native "v${version}" \
 && cp "/tmp/pulumi-home/plugins/resource-azure-native-v${version}/pulumi-resource-azure-native" /opt/pulumi/bin/ \
 && rm -rf /tmp/pulumi-home

# --- deps: production dependencies only, i.e. what the operator imports at run time (checked by
# test/unit/install-manifest-image.test.ts); cdk8s, cdk8s-plus-27, constructs, tsx, vitest, biome and cdk8s-cli
# are devDependencies. test/packages/operator-production.sh runs these two steps and the compiled entry point.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- the image: distroless (no shell, no package manager), user nonroot = 65532.
FROM gcr.io/distroless/nodejs${NODE_VERSION}-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production \
    PATH=/opt/pulumi/bin:/nodejs/bin:/usr/local/bin:/usr/bin:/bin \
    MODELKEYS_PULUMI_DIR=/opt/pulumi \
    PULUMI_SKIP_UPDATE_CHECK=true
# package.json carries "type": "module", which makes out/**/*.js ES modules.
COPY --from=deps /src/package.json ./package.json
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/out ./out
COPY --from=build /opt/pulumi /opt/pulumi
USER 65532:65532
# metrics (INSTALL.metricsPort) and health (INSTALL.healthPort)
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "out/operator/main.js"]
