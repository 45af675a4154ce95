import type { Config } from './index.js';

/** Connection options for a Temporal address: plain for a local dev server, TLS (and an API key) for a cluster or Cloud. */
export function temporalConnectionOptions(config: Pick<Config, 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS'>, address: string) {
  if (config.TEMPORAL_API_KEY) return { address, tls: true, apiKey: config.TEMPORAL_API_KEY };
  return config.TEMPORAL_TLS ? { address, tls: true } : { address };
}

/** Where api and worker processes find Temporal: TEMPORAL_ADDRESS, else the local dev server's port. */
export function temporalAddress(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_PORT'>): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
}
