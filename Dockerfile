# support-desk: one image for both processes; docker-compose.yml picks the command per service
#   worker: npm run worker   (tsx workers/main.ts)
#   api:    npm run api      (tsx api/main.ts, listens on $PORT, default 3000)
#   keys:   docker-compose exec api npm run desk -- keys create --name <name> --role <role>
#
# tsx (a production dependency) runs the TypeScript sources directly, so there is no build stage.
# `npm ci` is not usable: package-lock.json carries no resolved URLs, so dependencies are resolved
# from the registry with `npm install`, still pinned by package.json's exact versions.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    PORT=3000

WORKDIR /app

# Dependencies first so the layer is cached across source-only changes.
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Application sources (owned by root, read-only for the runtime user).
COPY tsconfig.json ./
COPY domain ./domain
COPY config ./config
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY api ./api
COPY db ./db
COPY scripts ./scripts

# Run as the unprivileged `node` user (uid 1000) that ships with the base image.
USER node

EXPOSE 3000

# Default process; the worker service overrides this with `npm run worker`.
CMD ["npm", "run", "api"]
