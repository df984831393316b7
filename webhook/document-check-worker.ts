// The child process that judges OpenAPI documents for the webhook (see document-check-process.ts). It only answers
// messages from its parent; all it can touch is the text it is given.
import { documentProblems } from '../core/spec-document.ts';
import { schemaViolations } from '../core/openapi-schema.ts';
import { errorMessage } from '../core/kube/errors.ts';

export interface CheckRequest {
  id: number;
  text: string;
}

export interface CheckReply {
  id: number;
  problems: string[];
  /** The check itself failed (an exception), so this is no verdict on the document. */
  transient?: boolean;
  rssMb: number;
}

// Compile the three OpenAPI schemas before the first document arrives.
for (const doc of [{ swagger: '2.0' }, { openapi: '3.0.3' }, { openapi: '3.1.0' }]) schemaViolations(doc);

process.on('message', (msg: CheckRequest) => {
  void documentProblems(msg.text).then(
    ({ problems }) => process.send?.({ id: msg.id, problems, rssMb: process.memoryUsage.rss() / 1048576 } satisfies CheckReply),
    (e: unknown) => process.send?.({ id: msg.id, problems: [`could not be checked: ${errorMessage(e)}`], transient: true, rssMb: process.memoryUsage.rss() / 1048576 } satisfies CheckReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
