// The compiled form of the policies the gateway runs: inbound steps see the request, outbound steps see the backend's
// response. A step either lets the request go on (returns nothing) or answers it (returns the reply that ends it).
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayReply } from './gateway-errors.ts';
import type { RequestState } from './request-state.ts';

export type StepResult = GatewayReply | undefined;

export interface InboundStep {
  name: string;
  /** Set when the step reads the request body; the pipeline buffers it (at most maxBytes + 1 bytes are read). */
  readsBody?: { maxBytes: number };
  run(state: RequestState): StepResult | Promise<StepResult>;
}

export interface BackendResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Present when an outbound step reads the body (the response is then buffered instead of streamed). */
  body?: Buffer;
}

export interface OutboundStep {
  name: string;
  readsBody?: boolean;
  run(state: RequestState, response: BackendResponse): StepResult;
}

/** What a preflight needs of the request: its Origin, the method and headers it asks for. */
export interface Preflight {
  origin: string;
  method: string;
  headers: string[];
}

export interface CorsStep extends InboundStep {
  /** The preflight answer when this policy matches it; 'unmatched' otherwise (the caller applies terminate rules). */
  preflight(p: Preflight): GatewayReply | 'unmatched';
  terminateUnmatched: boolean;
}
