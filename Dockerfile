# syntax=docker/dockerfile:1

# Build stage: native build tools for better-sqlite3, the TypeScript compiler, then production dependencies only.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# The benchmarks (dist/bench) need the development dependencies: they stay out of the image.
RUN npm run build && rm -rf dist/bench && npm prune --omit=dev

# Runtime stage: no compilers, a non-root user, data/ as a volume.
FROM node:20-bookworm-slim
# MALLOC_ARENA_MAX as in `npm start`: two malloc arenas instead of eight per core keep the resident memory down (bench/README.md).
ENV NODE_ENV=production \
    PORT=3000 \
    HEROLD_DATA_DIR=/app/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY --chown=node:node data ./data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# As `npm start`: a small young generation keeps the resident memory down (bench/README.md).
CMD ["node", "--max-semi-space-size=4", "--enable-source-maps", "dist/src/cli.js", "serve"]
