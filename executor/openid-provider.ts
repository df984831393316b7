// The APIM OpenID Connect provider an API's JWT settings refer to (authenticationSettings.openid): the developer
// portal uses it to obtain tokens for the API. One provider per discovery URL, shared by every API that uses it and
// never deleted by the executor. Pure.
import { createHash } from 'node:crypto';
import type { OpenIdProviderContract } from './apim-operations.ts';
import type { JwtSettings } from '../core/exposedapi-model.ts';
import { apimSafe } from '../core/rules/apim-value-safety.ts';

/** `oidc-` and 16 hex digits of SHA-256(discovery URL): stable, APIM-legal, the same for every API using the URL. */
export function openidProviderId(openidConfigUrl: string): string {
  // Hashed here rather than with import-plan.ts's sha256: importing that module would pull the document parser and the
  // OpenAPI validator into every run that syncs APIM, delete runs included (docs/architecture.md, the Job's process).
  return `oidc-${createHash('sha256').update(openidConfigUrl).digest('hex').slice(0, 16)}`;
}

export function openidProviderContract(jwt: JwtSettings): OpenIdProviderContract {
  // The provider's settings are shown in the developer portal and its metadata endpoint is fetched by APIM: the same
  // second line as for policies (UnsafeApimValueError, a permanent failure) behind validation.
  apimSafe('spec.apim.authentication.jwt.openidConfigUrl', jwt.openidConfigUrl);
  if (jwt.audiences[0] !== undefined) apimSafe('spec.apim.authentication.jwt.audiences[0]', jwt.audiences[0]);
  const host = new URL(jwt.openidConfigUrl).host;
  return {
    displayName: host.slice(0, 50),
    description: `Created by exposedapi-apim for APIs validating tokens from ${jwt.openidConfigUrl}`,
    metadataEndpoint: jwt.openidConfigUrl,
    // APIM requires a client id; it is what the developer portal's test console presents.
    clientId: jwt.audiences[0] ?? 'exposedapi-apim',
  };
}
