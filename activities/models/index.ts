import { createLogger } from '../../config/logger.js';
import { createAnthropicProvider } from './anthropic.js';
import { createLocalProvider, type LocalModelProvider } from './local.js';
import { createOpenAIProvider } from './openai.js';
import { createScriptedProvider } from './scripted.js';
import { ModelCallError, type ModelProvider } from './types.js';

// Resolves an assistant's `model` setting (`scripted`, `local`, `local:<file.gguf>`, `openai:<name>`,
// `anthropic:<name>`) to a provider.

export interface ModelSettings {
  openaiApiKey?: string;
  openaiBaseUrl: string;
  anthropicApiKey?: string;
  anthropicBaseUrl: string;
  fetch?: typeof fetch;
  /** The worker's local model host; one with default settings is made when none is given. */
  local?: LocalModelProvider;
}

export type ModelResolver = (model: string) => { provider: ModelProvider; modelName: string };

export function createModelResolver(s: ModelSettings): ModelResolver {
  const scripted = createScriptedProvider();
  const openai = createOpenAIProvider({ apiKey: s.openaiApiKey, baseUrl: s.openaiBaseUrl, ...(s.fetch ? { fetch: s.fetch } : {}) });
  const anthropic = createAnthropicProvider({
    apiKey: s.anthropicApiKey,
    baseUrl: s.anthropicBaseUrl,
    ...(s.fetch ? { fetch: s.fetch } : {}),
  });
  const local =
    s.local ?? createLocalProvider({ sequences: 1, contextSize: 4096, log: createLogger('warn', { component: 'local-model' }) });
  const providers: Record<string, ModelProvider> = { scripted, openai, anthropic, local };
  return (model) => {
    const [prefix, ...rest] = model.split(':');
    const provider = providers[prefix ?? ''];
    if (!provider)
      throw new ModelCallError(
        `Unknown model "${model}": use scripted, local, local:<file.gguf>, openai:<model> or anthropic:<model>`,
        false,
      );
    return { provider, modelName: rest.join(':') || prefix! };
  };
}
