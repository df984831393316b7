// `exposedapi-apim webhook`: serves admission until SIGTERM/SIGINT. Configured by environment (see README).
import { readWebhookConfig } from '../core/operator-config.ts';
import { startWebhook } from '../webhook/run-webhook.ts';

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('usage: exposedapi-apim webhook\n\nServes POST /validate and POST /mutate over HTTPS. Configuration comes from environment variables; see the README\'s configuration table.\n');
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`exposedapi-apim webhook: unexpected arguments ${args.join(' ')}; configuration comes from environment variables\n`);
    return 2;
  }
  const parsed = readWebhookConfig();
  if (!parsed.ok) {
    process.stderr.write(`exposedapi-apim webhook: invalid configuration:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 2;
  }
  const webhook = await startWebhook(parsed.config);
  webhook.app.log.info({ url: webhook.url }, 'admission webhook listening');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await webhook.close();
  return 0;
}
