// What the steps of one apply share (kopf's memo): the run's inputs, and the facts each step establishes for the
// next. A field is set by exactly one step and read only by later ones, in table order (execute-apply.ts).
import type { ApiContract } from './apim-operations.ts';
import type { ApiVersioning } from '../core/api-versioning.ts';
import type { ApiStatus } from '../core/exposedapi-status.ts';
import type { ExposedApi, JwtSettings } from '../core/exposedapi-model.ts';
import type { Apim } from './apim-client.ts';
import type { OwnershipPolicy } from './apim-sync.ts';
import type { EventRecorder } from './events.ts';
import type { ExposedApiObject, ExposedApiRef } from './exposedapi-object.ts';
import type { ImportPlan, ResolvedDocument } from './import-plan.ts';
import type { RunContext } from './run-context.ts';
import type { StatusChange } from './status-patch.ts';
import type { ServiceTier } from './service-tier.ts';
import type { RevisionResult } from './revision-sync.ts';

export interface ApplyRun {
  ctx: RunContext;
  ref: ExposedApiRef;
  /** The ExposedAPI as read for the gate. */
  obj: ExposedApiObject;
  /** As the last status write returned it (the parent Component must see that one). */
  current: ExposedApiObject | undefined;
  events: EventRecorder;
  /** The stored API under the id the object names, read while the spec is validated; undefined when that id is not valid. */
  storedEarly: Promise<ApiContract | undefined> | undefined;
  /** The service's tier, read once per run while the spec is validated (service-tier.ts). */
  serviceTier?: Promise<ServiceTier>;

  /** Writes a status change in the middle of a step (the record of a running import, import-status.ts). */
  write?: (change: StatusChange) => Promise<void>;

  /** Validated */
  model?: ExposedApi;
  document?: ResolvedDocument;
  passThrough?: boolean;
  /** RouteReady */
  backendUrl?: string;
  /** Identified: the APIM session, the API's id, who owns it, the ids it had before, its JWT settings. */
  apim?: Apim;
  apiId?: string;
  ownership?: OwnershipPolicy;
  formerIds?: string[];
  jwt?: JwtSettings | undefined;
  /** The version set the API belongs to (core/api-versioning.ts); undefined for a plain API. */
  versioning?: ApiVersioning | undefined;
  /** The apiId an import may have created before the run failed (recorded so a later rename removes it). */
  importStarted?: string;
  /** Identified: whether this change goes through a revision (revision-plan.ts revisionsEnabled). */
  revisions?: boolean;
  /** Imported */
  plan?: ImportPlan;
  /** Imported, with revisions: what happened to the revisions (revision-sync.ts). */
  revision?: RevisionResult;
  /** Ready */
  apiStatus?: ApiStatus;
  implementationReady?: boolean;
}
