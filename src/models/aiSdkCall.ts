import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel as SdkModel } from 'ai';
import type { HostedProvider } from './credentials.ts';

// The Vercel AI SDK's part of a real provider's call, apart from `AiSdkModel` so that the SDK is loaded only when a
// call is made.
export { generateText } from 'ai';
export { toModelCallError } from './providerErrors.ts';

/** The SDK's model for a provider's model id, with the key (none: the SDK's own lookup) and base URL given. */
export function sdkModel(provider: HostedProvider, id: string, apiKey: string | undefined, baseURL: string | undefined): SdkModel {
  switch (provider) {
    case 'openai':
      return createOpenAI({ ...(apiKey ? { apiKey } : {}), ...(baseURL ? { baseURL } : {}) })(id);
    case 'anthropic':
      return createAnthropic({ ...(apiKey ? { apiKey } : {}), ...(baseURL ? { baseURL } : {}) })(id);
    case 'openai-compatible':
      return createOpenAICompatible({ name: 'openai-compatible', baseURL: baseURL!, ...(apiKey ? { apiKey } : {}) })(id);
  }
}
