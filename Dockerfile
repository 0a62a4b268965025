# jit-access-bot container image.
#
#   docker build -t jit-access-bot .
#   docker run --rm -e SLACK_BOT_TOKEN=xoxb-… -e SLACK_APP_TOKEN=xapp-… \
#     -e JIT_DYNAMODB_TABLE=… -e AWS_REGION=… -e JIT_CONFIG_YAML="$(cat jit.config.yaml)" jit-access-bot
#   (one replica on one host can use the embedded store instead: leave out JIT_DYNAMODB_TABLE and
#    mount a volume on /app/data, e.g. -v jit-data:/app/data)
#
# Stage 1 compiles the TypeScript with the dev dependencies. Stage 2 holds the production
# dependencies only (no dev, no optional: dynalite and its native LevelDB build, which only the
# migration of an earlier version's data directory needs, are left out; the embedded store is
# SQLite, built into Node) and the compiled dist/src, dist/handlers, dist/blocks and dist/slack,
# run as the unprivileged `node` user.
# test/image/production-install.test.ts replays both stages without Docker.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
COPY blocks ./blocks
COPY slack ./slack
COPY demo ./demo
COPY bench ./bench
COPY testkit ./testkit
COPY scripts ./scripts
RUN npm run build

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HEALTH_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/handlers ./dist/handlers
COPY --from=build /app/dist/blocks ./dist/blocks
COPY --from=build /app/dist/slack ./dist/slack
# The code and its dependencies stay owned by root: the bot cannot change them. The embedded
# store's data directory (JIT_DATA_DIR, default ./data) is the node user's, owner-only.
RUN mkdir -m 700 /app/data && chown node:node /app/data
USER node
# Node flags: src/node-flags.ts says why (young generation 16 MiB, old generation capped at 384 MiB).
# Health listener (GET /healthz, /readyz) on HEALTH_PORT.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||8080)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=16", "--max-old-space-size=384", "dist/src/main.js"]
