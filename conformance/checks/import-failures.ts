// How an import that APIM cannot apply fails: with a validation error that names the problem, on the poll of the
// accepted import (or, where the service checks early, on the PUT itself).
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import { duplicateSignatureDocument } from '../documents.ts';
import { outcomeError } from '../long-running.ts';

export const importFailureChecks: Check[] = [
  {
    id: 'import.duplicate-signature',
    expected: 'Importing two operations with the same method and URL template (parameter names aside) fails: ValidationError "Importing API has duplicate signature operations: 2 operations with signature \'GET /things/{…}\'"',
    source: 'https://github.com/Azure/apim-lab/issues/129',
    async run(ctx) {
      const apiId = ctx.id('dup');
      const { accepted, outcome } = await ctx.importApi(apiId, { path: ctx.path('dup'), format: 'openapi+json', value: duplicateSignatureDocument(), protocols: ['https'] });
      const error = outcomeError(outcome);
      const observed = `${accepted.status}${outcome.via !== 'none' ? ` → ${outcome.via} poll ${outcome.final.status}` : ''}: ${error ?? 'the import succeeded'}`;
      return error !== undefined && /ValidationError/.test(error) && /duplicate signature operations: 2 operations with signature 'GET \/things\/\{thing(Id|Key)\}'/i.test(error)
        ? pass(observed)
        : differs(observed);
    },
  },
];
