// What the operator image is, as values: where things live in it, who it runs as, how it starts, and which files of
// the bundle ship. scripts/build-image.ts builds from these, test/image/ checks the built image and the Dockerfile
// against them, so the two ways of building cannot drift apart silently.

/** The repository name of the image; the tag is package.json's version. */
export const IMAGE_NAME = 'exposedapi-apim';

export const APP_DIR = '/app';
/** The bundle (scripts/build.ts's dist/) in the image. */
export const BUNDLE_DIR = '/app/dist';
/** The pinned Node binary (package.json devDependencies.node, installed by npm ci from the npm `node` package). */
export const NODE_PATH = '/usr/local/bin/node';
/** The CycloneDX SBOM inside the image; the build also writes it beside the archive. */
export const SBOM_PATH = '/app/sbom.cdx.json';

/** The uid and gid of the Deployment and the Jobs (runAsUser/runAsGroup in manifests/base and the Job template). */
export const RUN_AS_ID = 65532;
export const USER = `${RUN_AS_ID}:${RUN_AS_ID}`;
export const ENTRYPOINT = [NODE_PATH, `${BUNDLE_DIR}/exposedapi-apim.mjs`];
export const CMD = ['--help'];
export const WORKDIR = APP_DIR;
export const ENV = ['PATH=/usr/local/bin', 'NODE_ENV=production'];

/**
 * The bundle's compile cache folder and how it is written in the image: by the image's own Node as RUN_AS_ID,
 * because Node names the cache folder after the Node version and the user id, and writes its entries readable by
 * their owner only. `--random-seed=1` makes V8 write the same bytes on every build: V8 stores each string's hash, whose
 * seed is otherwise random per process. The seed is not part of V8's flag hash, so a process started without the flag
 * accepts the cache (test/image/image.test.ts checks it inside the container).
 */
export const COMPILE_CACHE = `${BUNDLE_DIR}/compile-cache`;
export const WARM_COMPILE_CACHE = [NODE_PATH, '--random-seed=1', `${BUNDLE_DIR}/warm-compile-cache.mjs`];

/**
 * Which files of the bundle ship, by their path relative to it. Not shipped: source maps (19 MB that only a debugger
 * reads), esbuild's metafile (a build record that names source paths) and the build machine's compile cache (written
 * as another user; the image writes its own).
 */
export function bundleFileShips(relative: string): boolean {
  return !relative.endsWith('.map') && relative !== 'meta.json' && relative !== 'compile-cache' && !relative.startsWith('compile-cache/');
}

/** The OCI annotation keys the image config carries as labels (values depend on the build: scripts/build-image.ts). */
export const LABEL_KEYS = [
  'org.opencontainers.image.title',
  'org.opencontainers.image.description',
  'org.opencontainers.image.source',
  'org.opencontainers.image.version',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.created',
  'org.opencontainers.image.licenses',
] as const;
