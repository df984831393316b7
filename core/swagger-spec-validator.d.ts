// swagger-parser ships no types for its deep modules; core/local-refs.ts runs this one on its own dereference.
declare module '@apidevtools/swagger-parser/lib/validators/spec.js' {
  /** Throws a SyntaxError naming the first Swagger 2.0 rule the dereferenced document breaks; returns at once for OpenAPI 3.x. */
  export default function validateSpec(api: object): void;
}
