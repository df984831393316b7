# The operator image: the esbuild bundle on a slim Node 24 LTS base. Build the bundle first: npm ci && npm run build.
# The bundle carries every dependency; the image needs no node_modules.
FROM node:24-bookworm-slim
WORKDIR /app
COPY dist/ /app/dist/
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/exposedapi-apim.mjs"]
CMD ["--help"]
