import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ModelPrices } from '../core/middleware/define.js';
import type { Config } from './index.js';

// MODEL_PRICES_FILE: what a model's tokens cost, so spend_cap can turn reported token usage into money.

const priceSchema = z.object({ input_per_mtok: z.number().min(0), output_per_mtok: z.number().min(0) }).strict();
export const modelPricesSchema = z.record(z.string().min(1), priceSchema);

/** The price table, or none when MODEL_PRICES_FILE is unset; a file that does not parse stops the worker. */
export function loadModelPrices(config: Pick<Config, 'MODEL_PRICES_FILE'>): ModelPrices {
  const file = config.MODEL_PRICES_FILE;
  if (!file) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`MODEL_PRICES_FILE ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = modelPricesSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid MODEL_PRICES_FILE ${file}: ${parsed.error.message}`);
  return parsed.data;
}
