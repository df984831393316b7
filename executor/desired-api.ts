// The APIM API as an ExposedAPI wants it, and how a stored API differs from that. Pure. The comparison covers exactly
// what the executor sends, so a second run with nothing changed finds no drift and writes nothing.
import type { ApiContract, ApiImport, ApiSettings, AuthenticationSettings } from './apim-operations.ts';
import type { ExposedApi } from '../core/exposedapi-model.ts';
import { apimSafe } from '../core/rules/apim-value-safety.ts';
import { keyParameterNames, type KeyParameterNames } from '../core/rules/traffic-policies.ts';
import { renderMark, type OwnerIdentity } from './api-mark.ts';
import type { ImportPlan } from './import-plan.ts';

export interface DesiredApi {
  apiId: string;
  /** APIM's path: spec.path without the leading slash. */
  path: string;
  displayName: string;
  serviceUrl: string;
  subscriptionRequired: boolean;
  subscriptionKeyParameterNames: KeyParameterNames;
  /** OpenID Connect provider whose tokens the developer portal obtains; absent = no JWT. */
  openidProviderId?: string;
  /** apiRevisionDescription: owner and import fingerprint (api-mark.ts). */
  mark: string;
  /**
   * The version set the API belongs to (its resource id) and its version there (core/api-versioning.ts); `path` is
   * then the set's base path. Absent: a plain API. null: a plain API that is leaving the set it is in.
   */
  versionSet?: { id: string; apiVersion: string } | null;
  /**
   * Absent: `https` only (what the executor publishes). A new revision carries the current revision's, which only the
   * current revision may change (revision-sync.ts).
   */
  protocols?: string[];
}

export function desiredApi(
  api: ExposedApi,
  resolved: { apiId: string; serviceUrl: string; who: OwnerIdentity; plan: Pick<ImportPlan, 'fingerprint'>; openidProviderId?: string; versionSet?: { id: string; apiVersion: string; basePath: string } },
): DesiredApi {
  const akv = api.spec.apiKeyVerification;
  // A second line behind validation: a value APIM would read as a named value, an expression or markup is refused
  // (UnsafeApimValueError, a permanent failure) even if the rules were skipped.
  const names = keyParameterNames(akv.enabled ? apimSafe('spec.apiKeyVerification.location', akv.location) : '');
  return {
    apiId: apimSafe('spec.apim.apiId', resolved.apiId),
    path: apimSafe('spec.path', resolved.versionSet?.basePath ?? api.spec.path).replace(/^\/+/, ''),
    displayName: api.spec.apim.displayName !== undefined ? apimSafe('spec.apim.displayName', api.spec.apim.displayName) : apimSafe('spec.name', api.spec.name),
    serviceUrl: apimSafe(api.spec.apim.backend.mode === 'url' ? 'spec.apim.backend.url' : 'serviceUrl (the route APIM calls)', resolved.serviceUrl),
    // APIM's default for a new API is subscriptionRequired: true, so the value is always sent explicitly.
    subscriptionRequired: akv.enabled,
    subscriptionKeyParameterNames: names,
    ...(resolved.openidProviderId ? { openidProviderId: resolved.openidProviderId } : {}),
    mark: renderMark(resolved.who, resolved.plan.fingerprint),
    ...(resolved.versionSet ? { versionSet: { id: resolved.versionSet.id, apiVersion: apimSafe('spec.path (its version segment)', resolved.versionSet.apiVersion) } } : {}),
  };
}

/** The version set fields of a write: the set and version, or (null) leaving the set; nothing for a plain API. */
function versionSetFields(d: DesiredApi): Pick<ApiSettings, 'apiVersionSetId' | 'apiVersion'> {
  if (d.versionSet === undefined) return {};
  return d.versionSet === null ? { apiVersionSetId: null, apiVersion: '' } : { apiVersionSetId: d.versionSet.id, apiVersion: d.versionSet.apiVersion };
}

/**
 * "No JWT" as APIM itself reports it on GET of an API without user authorization (since api-version 2022-08-01, which
 * added the lists): both single settings null and both lists empty. Sent in that exact form because:
 * - APIM keeps settings a PATCH leaves out, so turning JWT off must say so explicitly;
 * - nulls alone may be ignored or refused on PATCH (no public source says which; the emulator's
 *   authenticationSettingsNulls setting models all three outcomes), while the reported form is what clients that
 *   GET and PUT an API back (az apim api update) send for every API without authorization;
 * - a single setting must never travel with a non-empty list ("Cannot use OpenidAuthenticationSettings in
 *   combination with Openid nor OAuth2": terraform-provider-azurerm api_management_api_resource.go, azure-cli #26895),
 *   so the JWT-on form carries `openid` alone.
 */
export const NO_AUTHENTICATION_SETTINGS = { openid: null, oAuth2: null, openidAuthenticationSettings: [], oAuth2AuthenticationSettings: [] } as const;

function authenticationSettings(d: DesiredApi): AuthenticationSettings {
  return d.openidProviderId
    ? { openid: { openidProviderId: d.openidProviderId, bearerTokenSendingMethods: ['authorizationHeader'] } }
    : (structuredClone(NO_AUTHENTICATION_SETTINGS) as unknown as AuthenticationSettings);
}

/** The PUT that creates or re-imports the API: document, path, backend and settings in one request. */
export function importBody(d: DesiredApi, plan: ImportPlan): ApiImport {
  return {
    path: d.path,
    displayName: d.displayName,
    // In the same PUT as the document: a serviceUrl patched afterwards would leave a window with the document's own.
    serviceUrl: d.serviceUrl,
    protocols: [...(d.protocols ?? ['https'])],
    subscriptionRequired: d.subscriptionRequired,
    subscriptionKeyParameterNames: { ...d.subscriptionKeyParameterNames },
    authenticationSettings: authenticationSettings(d),
    apiRevisionDescription: d.mark,
    ...versionSetFields(d),
    format: plan.format,
    value: plan.value,
    // Required query parameters stay query parameters: as URL-template parts they would change operation
    // signatures and make calls without them 404 instead of failing validation.
    translateRequiredQueryParametersConduct: 'query',
  };
}

/** The PATCH that corrects settings when the document is unchanged. */
export function updateBody(d: DesiredApi): ApiSettings {
  return {
    path: d.path,
    displayName: d.displayName,
    serviceUrl: d.serviceUrl,
    protocols: [...(d.protocols ?? ['https'])],
    subscriptionRequired: d.subscriptionRequired,
    subscriptionKeyParameterNames: { ...d.subscriptionKeyParameterNames },
    authenticationSettings: authenticationSettings(d),
    ...versionSetFields(d),
  };
}

/** Names of the settings in which the stored API differs from the desired one (the mark is compared separately). */
export function driftOf(stored: ApiContract, d: DesiredApi): string[] {
  const drift: string[] = [];
  if (stored.path !== d.path) drift.push('path');
  if (stored.displayName !== d.displayName) drift.push('displayName');
  if (stored.serviceUrl !== d.serviceUrl) drift.push('serviceUrl');
  const protocols = [...(stored.protocols ?? [])].sort().join(',');
  if (protocols !== [...(d.protocols ?? ['https'])].sort().join(',')) drift.push('protocols');
  if (stored.subscriptionRequired !== d.subscriptionRequired) drift.push('subscriptionRequired');
  const names = stored.subscriptionKeyParameterNames;
  if (names?.header !== d.subscriptionKeyParameterNames.header || names?.query !== d.subscriptionKeyParameterNames.query) {
    drift.push('subscriptionKeyParameterNames');
  }
  if (authenticationDrift(stored.authenticationSettings, d)) drift.push('authenticationSettings');
  // An API the ExposedAPI's path puts in a version set that it is not in yet (one created before version sets, or
  // whose base path changed) joins it; one in a set it should no longer be in leaves it.
  const storedSet = stored.apiVersionSetId ?? undefined;
  if (d.versionSet ? !sameSetId(storedSet, d.versionSet.id) || (stored.apiVersion ?? '') !== d.versionSet.apiVersion : storedSet !== undefined && d.versionSet === null) drift.push('apiVersionSet');
  return drift;
}

/** Two apiVersionSetIds naming the same set (APIM answers the full resource id; ids compare without case). */
function sameSetId(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/**
 * Whether the stored user authorization differs from ours: another OpenID provider, or anything else (OAuth2, a
 * further provider in the lists APIM mirrors the single settings into) that a person or tool added.
 */
function authenticationDrift(auth: ApiContract['authenticationSettings'], d: DesiredApi): boolean {
  if ((auth?.openid?.openidProviderId ?? undefined) !== d.openidProviderId) return true;
  if ((auth?.oAuth2 ?? null) !== null || (auth?.oAuth2AuthenticationSettings?.length ?? 0) > 0) return true;
  return (auth?.openidAuthenticationSettings ?? []).some((s) => s.openidProviderId !== d.openidProviderId);
}
