// admission.k8s.io/v1 AdmissionReview: decoding of what the apiserver sends and the response shapes it accepts.
// Kept apart from the decisions so those stay plain functions of a request.
import type { FieldError, FieldErrorReason } from '../core/field-error.ts';
import { renderFieldError, renderInvalid } from '../core/field-error.ts';
import { isObject } from '../core/object-reader.ts';

export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  name?: string;
  namespace?: string;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
  userInfo?: { username?: string };
}

export interface AdmissionStatus {
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes: { reason: string; field: string; message: string }[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
}

export type DecodeResult = { ok: true; request: AdmissionRequest } | { ok: false; error: string };

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export function decodeAdmissionReview(body: unknown): DecodeResult {
  if (!isObject(body)) return { ok: false, error: 'the body must be a JSON AdmissionReview object' };
  if (body['apiVersion'] !== 'admission.k8s.io/v1' || body['kind'] !== 'AdmissionReview') {
    return { ok: false, error: 'expected apiVersion admission.k8s.io/v1 and kind AdmissionReview (set admissionReviewVersions: ["v1"])' };
  }
  const req = body['request'];
  if (!isObject(req)) return { ok: false, error: 'AdmissionReview.request is missing' };
  if (typeof req['uid'] !== 'string' || req['uid'] === '') return { ok: false, error: 'AdmissionReview.request.uid is missing' };
  if (typeof req['operation'] !== 'string' || !OPERATIONS.includes(req['operation'])) {
    return { ok: false, error: `AdmissionReview.request.operation must be one of ${OPERATIONS.join(', ')}` };
  }
  for (const key of ['object', 'oldObject'] as const) {
    const v = req[key];
    if (v !== undefined && v !== null && !isObject(v)) return { ok: false, error: `AdmissionReview.request.${key} must be an object` };
  }
  return { ok: true, request: req as unknown as AdmissionRequest };
}

export function reviewOf(response: AdmissionResponse): { apiVersion: string; kind: string; response: AdmissionResponse } {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allowed(uid: string, warnings: string[] = []): AdmissionResponse {
  return { uid, allowed: true, ...(warnings.length > 0 ? { warnings } : {}) };
}

export function patched(uid: string, patch: readonly object[], warnings: string[] = []): AdmissionResponse {
  if (patch.length === 0) return allowed(uid, warnings);
  return {
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

const CAUSE_REASON: Record<FieldErrorReason, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  TooLong: 'FieldValueTooLong',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
};

/** A 422 Invalid denial, as the apiserver itself reports field errors, so kubectl shows the familiar text. */
export function deniedInvalid(
  uid: string,
  target: { group: string; kind: string; name: string },
  errors: readonly FieldError[],
  warnings: string[] = [],
): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: renderInvalid(target.kind, target.name, errors),
      details: {
        name: target.name,
        group: target.group,
        kind: target.kind,
        // As the apiserver's own causes: the message without the field, which kubectl prints in front of it.
        causes: errors.map((e) => ({ reason: CAUSE_REASON[e.reason], field: e.field, message: renderFieldError(e).slice(e.field.length + 2) })),
      },
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
