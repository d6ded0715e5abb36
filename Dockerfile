# Flywheel's Node processes (workflow worker, CPU activity pool, schema migration) for
# docker-compose.temporal.yml. TypeScript runs through tsx, as it does locally: no build step.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    # onnxruntime-node's install script would fetch CUDA libraries from outside npm; the CPU
    # binding it ships is the one the workers use.
    ONNXRUNTIME_NODE_INSTALL=skip

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY . .
# The commit this image was built from (compose passes it): lineage tags on every version it registers.
ARG FLYWHEEL_GIT_COMMIT=unknown
ENV FLYWHEEL_GIT_COMMIT=$FLYWHEEL_GIT_COMMIT
# The shared data volume is created from this folder, so it starts out owned by `node`.
RUN mkdir -p /data && chown node:node /data
USER node

CMD ["node", "--import", "tsx", "workers/cpu-worker.ts"]
