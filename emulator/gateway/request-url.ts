// The request target as the gateway reads it: the path (compared raw, before percent-decoding, as routing needs) and
// the query, parsed only when something reads it — most requests through the gateway never need their query parsed.

export class RequestUrl {
  readonly pathname: string;
  /** '' or '?…', as sent. */
  readonly search: string;
  #params: URLSearchParams | undefined;

  constructor(target: string) {
    const q = target.indexOf('?');
    this.pathname = q >= 0 ? target.slice(0, q) : target;
    this.search = q >= 0 ? target.slice(q) : '';
  }

  get searchParams(): URLSearchParams {
    return (this.#params ??= new URLSearchParams(this.search));
  }
}
