# syntax=docker/dockerfile:1
# The operator image for those who build with Docker (BuildKit; COPY --exclude needs Dockerfile syntax 1.19 or later,
# which the line above selects). Build the bundle first: npm ci && npm run build. `npm run image` builds the image this
# project ships without any container engine (scripts/build-image.ts, docs/image.md): the same /app, user, entry point,
# environment and labels, and test/image/image.test.ts holds this file to it. What differs is the base: here Debian
# slim with the same Node version (it has a shell and apt, which the shipped image leaves out), and no SBOM file in the
# image (`docker buildx build --sbom=true` attaches one).
FROM node:24.21.0-bookworm-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="exposedapi-apim" \
      org.opencontainers.image.description="Publish Kubernetes services as APIs in Azure API Management from TM Forum ODA ExposedAPI resources" \
      org.opencontainers.image.source="https://github.com/exposedapi-apim/exposedapi-apim" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0"

WORKDIR /app
# The bundle carries every dependency: no node_modules. Source maps, esbuild's metafile and the build machine's
# compile cache stay out (scripts/image/image-config.ts, bundleFileShips).
COPY --exclude=**/*.map --exclude=meta.json --exclude=compile-cache dist/ /app/dist/
# V8 accepts a compile cache only from the same Node, and Node names the cache folder after the user id: the image's
# Node writes it as the user the Deployment and the Jobs run as, with a fixed hash seed (image-config.ts says why).
# At run time the root filesystem is read-only and the cache is only read (cli/main.ts).
RUN install -d -o 65532 -g 65532 /app/dist/compile-cache
USER 65532:65532
RUN ["/usr/local/bin/node", "--random-seed=1", "/app/dist/warm-compile-cache.mjs"]
ENV PATH=/usr/local/bin NODE_ENV=production
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/exposedapi-apim.mjs"]
CMD ["--help"]
