// Kubernetes manifests as found in a GitOps repository: YAML (one or many documents) or JSON, possibly `kind: List`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { isObject } from '../core/object-reader.ts';
import { errorMessage } from '../core/kube/errors.ts';

export interface ManifestDocument {
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  object: unknown;
}

export interface ManifestProblem {
  file: string;
  message: string;
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/** Files under the given paths (folders recursively, manifest extensions only), in a stable order. */
export function expandPaths(paths: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      if (explicit) missing.push(p);
      return;
    }
    if (st.isDirectory()) {
      for (const entry of readdirSync(p).sort()) if (!entry.startsWith('.')) walk(join(p, entry), false);
    } else if (explicit || MANIFEST_EXTENSIONS.test(p)) files.push(p);
  };
  for (const p of paths) walk(p, true);
  return { files, missing };
}

export function parseManifests(file: string, text: string): { documents: ManifestDocument[]; problems: ManifestProblem[] } {
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  const push = (object: unknown, index: number) => {
    if (isObject(object) && object['kind'] === 'List' && Array.isArray(object['items'])) {
      for (const item of object['items']) documents.push({ file, index, object: item });
    } else if (object !== null && object !== undefined) documents.push({ file, index, object });
  };
  if (/\.json$/i.test(file)) {
    try {
      push(JSON.parse(text), 1);
    } catch (e) {
      problems.push({ file, message: `not valid JSON: ${errorMessage(e)}` });
    }
    return { documents, problems };
  }
  YAML.parseAllDocuments(text).forEach((doc, i) => {
    if ('errors' in doc && doc.errors.length > 0) {
      problems.push({ file, message: `document ${i + 1} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      return;
    }
    push(doc.toJS({ maxAliasCount: 1000 }), i + 1);
  });
  return { documents, problems };
}

export function readManifestFile(file: string): { documents: ManifestDocument[]; problems: ManifestProblem[] } {
  return parseManifests(file, readFileSync(file, 'utf8'));
}
