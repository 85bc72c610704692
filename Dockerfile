# support-desk: one image for both processes; docker-compose.yml picks the command per service.
#   api:     node dist/api/main.js       (the default; listens on $PORT, default 3000)
#   worker:  node dist/workers/main.js   (health on $WORKER_HEALTH_PORT, default 3001 here)
#   keys:    docker-compose exec api node dist/scripts/desk.js keys create --name <name> --role <role>
#
# Two stages: `build` installs every dependency and runs `npm run build` (tsc to dist/, the workflow
# code bundled once into dist/workflow-bundle.js); the runtime stage has the production dependencies
# and dist/ only: no TypeScript, no tsx, and the worker starts without webpack.
# `npm ci` is not usable: package-lock.json carries no resolved URLs, so dependencies are resolved
# from the registry with `npm install`, still pinned by package.json's exact versions.

FROM node:20-bookworm-slim AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY config ./config
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY api ./api
COPY db ./db
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    PORT=3000 \
    WORKER_HEALTH_PORT=3001
WORKDIR /app
# Dependencies first so the layer is cached across source-only changes.
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force
# The built code, owned by root and read-only for the runtime user.
COPY --from=build /app/dist ./dist
# The unprivileged `node` user (uid 1000) that ships with the base image.
USER node
EXPOSE 3000 3001
# node itself is PID 1's child under `init: true` (compose) and gets SIGTERM directly, not through npm.
CMD ["node", "--enable-source-maps", "dist/api/main.js"]
