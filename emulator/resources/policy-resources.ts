// Policies (API scope and the global scope) and policy fragments. A policy document is checked when it is saved and
// stored re-formatted; `?format=rawxml` returns it as it was sent. Fragments are written asynchronously like the real
// service (their XML errors arrive on the poll, as seen in recorded failures).
//
// How a policy GET answers depends on the setting policyBodyFormat. 'json' (default): the ARM envelope with
// properties.value, as in the REST spec's examples. 'xml': the bare policy document whenever the client's Accept
// allows the XML media type of the requested format — the SDK's apiPolicy.get sends "application/json,
// application/vnd.ms-azure-apim.policy+xml, application/vnd.ms-azure-apim.policy.raw+xml" and cannot read what it
// gets (azure-sdk-for-js #31566), and Azure/apiops-cli (src/clients/apim-client.ts getResource) unwraps bare XML
// bodies it detects by an xml Content-Type. Media type per format, from the REST spec's `produces` list for policy
// GETs and PolicyExportFormat ("xml: … Content type is an XML document"; "rawxml: … a non XML encoded policy
// document"): format=xml (or none) → application/vnd.ms-azure-apim.policy+xml with the stored, XML-escaped document;
// format=rawxml → application/vnd.ms-azure-apim.policy.raw+xml with the document as sent. (unverified: which of the
// two bodies real APIM picks when the client asks for no format; the emulator follows the format parameter.)
import { ArmError, detail, entityNotFound, validationError } from '../arm-errors.ts';
import type { ArmRequest, ArmResult } from '../arm-request.ts';
import { bodyProperties, noContent, ok } from '../arm-request.ts';
import type { Route } from '../arm-routes.ts';
import type { ApimService } from '../apim-service.ts';
import { page } from '../collection-page.ts';
import { preparePolicy, policyFormat } from '../policy-documents.ts';
import type { PolicyScope } from '../policy-validation.ts';
import type { JsonObject, PolicyEntity, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { checkId, checkLength } from '../value-rules.ts';

interface PolicyHolder {
  scope: PolicyScope;
  type: string;
  path: string;
  get(): PolicyEntity | undefined;
  set(p: PolicyEntity | undefined): void;
}

function checkPolicyId(req: ArmRequest): void {
  const id = req.params['policyId']!;
  if (id !== 'policy') throw validationError([detail('policyId', `'policyId' must be 'policy'; got '${id}'.`)]);
}

function requestedFormat(req: ArmRequest): 'xml' | 'rawxml' {
  const f = req.query.get('format');
  return f === null ? 'xml' : policyFormat(f);
}

/** The XML media type of each export format (REST spec: produces of the policy GETs; PolicyExportFormat). */
export const POLICY_MEDIA_TYPES = {
  xml: 'application/vnd.ms-azure-apim.policy+xml',
  rawxml: 'application/vnd.ms-azure-apim.policy.raw+xml',
} as const;

/**
 * Whether an Accept header admits a media type (RFC 9110 §12.5.1): absent means anything; otherwise the type itself,
 * `type/*` or the any-type range, with a q above 0.
 */
export function acceptsMediaType(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const [type] = mediaType.split('/');
  for (const range of accept.split(',')) {
    const [name = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (name === mediaType || name === `${type}/*` || name === '*/*') return true;
  }
  return false;
}

function policyContract(svc: ApimService, holder: PolicyHolder, policy: PolicyEntity, format: 'xml' | 'rawxml'): JsonObject {
  return svc.contract(holder.type, holder.path, 'policy', { value: format === 'rawxml' ? policy.raw : policy.xml });
}

function policyRoutes(svc: ApimService, prefix: string, holderFor: (req: ArmRequest, write: boolean) => PolicyHolder): Route[] {
  const get = (req: ArmRequest): ArmResult => {
    checkPolicyId(req);
    const holder = holderFor(req, false);
    const policy = holder.get();
    if (!policy) throw entityNotFound('Policy');
    const format = requestedFormat(req);
    const mediaType = POLICY_MEDIA_TYPES[format];
    if (svc.settings.policyBodyFormat === 'xml' && acceptsMediaType(req.headers['accept'], mediaType)) {
      return { status: 200, body: format === 'rawxml' ? policy.raw : policy.xml, headers: { etag: policy.etag, 'content-type': mediaType } };
    }
    return ok(policyContract(svc, holder, policy, format), policy.etag);
  };
  return [
    {
      pattern: `${prefix}policies`,
      handlers: {
        GET: (req) => {
          const holder = holderFor(req, false);
          const policy = holder.get();
          const items = policy ? [policyContract(svc, holder, policy, 'xml')] : [];
          return ok(page(req, holder.path.replace(/\/policy$/, ''), items, svc.settings.pageSize));
        },
      },
    },
    {
      pattern: `${prefix}policies/{policyId}`,
      handlers: {
        GET: get,
        HEAD: (req) => ({ status: 200, headers: get(req).headers ?? {} }),
        PUT: (req) => {
          checkPolicyId(req);
          const holder = holderFor(req, true);
          const current = holder.get();
          svc.checkIfMatch(req, current?.etag);
          const props = bodyProperties(req.body);
          if (!props) throw validationError([detail('properties', `'properties' is required.`)]);
          const prepared = preparePolicy(props['value'], props['format'], svc.policyContext(holder.scope));
          const policy: PolicyEntity = { ...prepared, etag: svc.nextEtag() };
          holder.set(policy);
          svc.changed();
          return ok(policyContract(svc, holder, policy, 'xml'), policy.etag, current ? 200 : 201);
        },
        DELETE: (req) => {
          checkPolicyId(req);
          const holder = holderFor(req, true);
          const current = holder.get();
          if (!current) return noContent();
          svc.checkIfMatch(req, current.etag);
          holder.set(undefined);
          svc.changed();
          return { status: 200 };
        },
      },
    },
  ];
}

function fragmentContract(svc: ApimService, f: SimpleEntity & { policy: PolicyEntity }, format: 'xml' | 'rawxml', extra: JsonObject = {}): JsonObject {
  const props: JsonObject = { ...f.properties, format, value: format === 'rawxml' ? f.policy.raw : f.policy.xml, ...extra };
  return svc.contract('policyFragments', `/policyFragments/${f.name}`, f.name, props);
}

function fragmentRoutes(svc: ApimService): Route[] {
  const find = (req: ArmRequest): SimpleEntity & { policy: PolicyEntity } => {
    const f = svc.data.policyFragments[key(req.params['id']!)];
    if (!f) throw entityNotFound('PolicyFragment');
    return f;
  };
  const get = (req: ArmRequest): ArmResult => {
    const render = (): ArmResult => {
      const f = find(req);
      return ok(fragmentContract(svc, f, requestedFormat(req)), f.etag);
    };
    return svc.pollByLocation(req, render) ?? render();
  };
  return [
    {
      pattern: 'policyFragments',
      handlers: {
        GET: (req) => ok(page(req, '/policyFragments', Object.values(svc.data.policyFragments).map((f) => fragmentContract(svc, f, 'xml')), svc.settings.pageSize)),
      },
    },
    {
      pattern: 'policyFragments/{id}',
      handlers: {
        GET: get,
        HEAD: (req) => ({ status: 200, headers: { etag: find(req).etag } }),
        PUT: (req) => {
          const id = req.params['id']!;
          const idErrors = checkId('id', id);
          if (idErrors.length > 0) throw validationError(idErrors);
          const existing = svc.data.policyFragments[key(id)];
          svc.checkIfMatch(req, existing?.etag);
          const props = bodyProperties(req.body);
          if (!props) throw validationError([detail('properties', `'properties' is required.`)]);
          const format = policyFormat(props['format']);
          const descriptionErrors = checkLength('description', props['description'], 0, 1000);
          if (descriptionErrors.length > 0) throw validationError(descriptionErrors);
          const op = svc.lro.start(`/policyFragments/${id}`, existing ? 200 : 201);
          svc.later(svc.settings.importDelayMs, () => {
            try {
              const prepared = preparePolicy(props['value'], format, svc.policyContext('fragment'));
              const properties: JsonObject = {};
              if (typeof props['description'] === 'string') properties['description'] = props['description'];
              svc.data.policyFragments[key(id)] = { name: existing?.name ?? id, etag: svc.nextEtag(), properties, policy: { ...prepared, etag: '' } };
              svc.lro.succeed(op);
            } catch (err) {
              svc.lro.fail(op, err instanceof ArmError ? err : new ArmError(500, 'InternalServerError', String(err)));
            }
            svc.changed();
          });
          const draft: JsonObject = { format, value: typeof props['value'] === 'string' ? props['value'] : '', provisioningState: 'InProgress' };
          if (typeof props['description'] === 'string') draft['description'] = props['description'];
          return svc.accepted(req, op, svc.contract('policyFragments', `/policyFragments/${id}`, id, draft));
        },
        DELETE: (req) => {
          const f = svc.data.policyFragments[key(req.params['id']!)];
          if (!f) return noContent();
          svc.checkIfMatch(req, f.etag);
          delete svc.data.policyFragments[key(f.name)];
          svc.changed();
          return { status: 200 };
        },
      },
    },
  ];
}

export function policyResourceRoutes(svc: ApimService): Route[] {
  const apiHolder = (req: ArmRequest, write: boolean): PolicyHolder => {
    const apiId = req.params['apiId']!;
    if (write) svc.assertNotImporting(apiId);
    const api = svc.requireApi(apiId);
    return {
      scope: 'api',
      type: 'apis/policies',
      path: `/apis/${api.name}/policies/policy`,
      get: () => api.policy,
      set: (p) => {
        if (p) api.policy = p;
        else delete api.policy;
      },
    };
  };
  const globalHolder = (): PolicyHolder => ({
    scope: 'global',
    type: 'policies',
    path: '/policies/policy',
    get: () => svc.data.policy,
    set: (p) => {
      if (p) svc.data.policy = p;
      else delete svc.data.policy;
    },
  });
  const operationHolder = (req: ArmRequest, write: boolean): PolicyHolder => {
    const apiId = req.params['apiId']!;
    if (write) svc.assertNotImporting(apiId);
    const api = svc.requireApi(apiId);
    const op = api.operations[key(req.params['operationId']!)];
    if (!op) throw new ArmError(404, 'ResourceNotFound', 'Operation not found.');
    return {
      scope: 'operation',
      type: 'apis/operations/policies',
      path: `/apis/${api.name}/operations/${op.name}/policies/policy`,
      get: () => op.policy,
      set: (p) => {
        if (p) op.policy = p;
        else delete op.policy;
      },
    };
  };
  return [
    ...policyRoutes(svc, 'apis/{apiId}/', apiHolder),
    ...policyRoutes(svc, 'apis/{apiId}/operations/{operationId}/', operationHolder),
    ...policyRoutes(svc, '', globalHolder),
    ...fragmentRoutes(svc),
  ];
}
