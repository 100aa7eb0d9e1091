import type { E2eGlobals } from '../support/e2e-env';

export default async function globalTeardown(): Promise<void> {
  const env = (globalThis as E2eGlobals).__e2e;
  if (!env) return;
  await env.worker.stop();
  await env.server.stop();
}
