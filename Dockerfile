# The operator image: the esbuild bundle on a slim Node 24 LTS base. Build the bundle first: npm ci && npm run build.
# The bundle carries every dependency; the image needs no node_modules.
FROM node:24-bookworm-slim
WORKDIR /app
COPY dist/ /app/dist/
ENV NODE_ENV=production
# The V8 compile cache of the executor's chunks (scripts/build.ts), written again here: V8 accepts a cache only from
# the same Node version, and Node keys its cache directory by the user id, so it is written by this image's Node as
# the user the Deployment and the Jobs run as (runAsUser 65532). At run time the filesystem is read-only and the cache
# is only read (cli/main.ts).
RUN rm -rf /app/dist/compile-cache && install -d -o 65532 -g 65532 /app/dist/compile-cache
USER 65532:65532
RUN ["node", "/app/dist/warm-compile-cache.mjs"]
ENTRYPOINT ["node", "/app/dist/exposedapi-apim.mjs"]
CMD ["--help"]
