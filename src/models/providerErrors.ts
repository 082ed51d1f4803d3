import {
  APICallError, EmptyResponseBodyError, InvalidResponseDataError, JSONParseError, LoadAPIKeyError, NoContentGeneratedError, RetryError,
  TypeValidationError,
} from 'ai';
import { redactSecrets } from './credentials.ts';
import { abortedCallError, ModelCallError, type ModelFailureKind } from './modelCallError.ts';

export interface FailureContext {
  /** Who was called, e.g. `openai-compatible:llama3.1:8b`. */
  label: string;
  signal: AbortSignal | undefined;
  /** Keys to scrub from anything the provider echoed back. */
  secrets: readonly (string | undefined)[];
}

const MAX_DETAIL = 300;

function kindForStatus(status: number): ModelFailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server';
  // A 2xx that still failed is a body we could not read as a completion.
  if (status < 300) return 'malformed';
  // The provider understood the request and declined it: bad parameters, unknown model, too long, policy.
  return 'refused';
}

function isAbortLike(error: unknown): error is Error {
  return (error instanceof Error || error instanceof DOMException) && ['AbortError', 'TimeoutError', 'ResponseAborted'].includes(error.name);
}

function isMalformedResponse(error: unknown): boolean {
  return JSONParseError.isInstance(error) || TypeValidationError.isInstance(error) || InvalidResponseDataError.isInstance(error)
    || EmptyResponseBodyError.isInstance(error) || NoContentGeneratedError.isInstance(error);
}

/** Socket-level error codes (Node, undici) that mean the connection failed, not the provider's answer. */
const CONNECTION_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED']);

/** The errors an error was caused by, outermost first; stops on a cycle. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = (error as Error).cause; current instanceof Error && !chain.includes(current); current = current.cause) chain.push(current);
  return chain;
}

/** What cut the connection off, when one was cut while the body was being read (undici says `terminated`). */
function droppedConnection(error: APICallError): string | undefined {
  const chain = causes(error);
  const socket = chain.find((e) => CONNECTION_ERROR_CODES.has(String((e as { code?: unknown }).code)));
  if (!socket && !chain.some((e) => e instanceof TypeError && e.message === 'terminated')) return undefined;
  return chain.map((e) => e.message).join(': ');
}

/**
 * The same as a number of milliseconds from `now`, when it can be read: `retry-after-ms`, `retry-after` in seconds,
 * or `retry-after` as an HTTP date. Recorded with the failure, so the agent's wait replays without a clock.
 */
export function retryAfterMsOf(headers: Record<string, string> | undefined, now: number): number | undefined {
  const ms = headers?.['retry-after-ms']?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers?.['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What the provider said about when to come back (OpenAI sends `retry-after-ms`, most send `retry-after`). */
function retryAfter(headers: Record<string, string> | undefined): string | undefined {
  const ms = headers?.['retry-after-ms']?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return `retry after ${ms} ms`;
  const value = headers?.['retry-after']?.trim();
  if (!value) return undefined;
  return /^\d+$/.test(value) ? `retry after ${value} s` : `retry after ${value.slice(0, 40)}`;
}

/** Why a 2xx body was no completion: not JSON at all, or JSON of another shape (which field, per the SDK's schema). */
function unreadableBody(error: APICallError): string {
  const chain = causes(error);
  if (chain.some((e) => JSONParseError.isInstance(e))) return `the body is not valid JSON (${chain.at(-1)!.message})`;
  const validation = chain.find((e) => TypeValidationError.isInstance(e));
  const issue = (validation?.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues?.[0];
  if (validation) return `the body is JSON but not a chat completion${issue ? ` (${issue.path.map(String).join('.') || 'body'}: ${issue.message})` : ''}`;
  return error.message;
}

/** Where a call went, without query string or user info, which may carry credentials. */
function endpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the provider';
  }
}

function oneLine(text: string, context: FailureContext): string {
  const flat = redactSecrets(text, context.secrets).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL - 1)}…` : flat;
}

/**
 * Maps whatever the AI SDK threw to the runtime's vocabulary. The caller's abort wins over everything else: once
 * the signal fired, the error the SDK surfaces is only a consequence of it.
 */
export function toModelCallError(thrown: unknown, context: FailureContext): ModelCallError {
  if (thrown instanceof ModelCallError) return thrown;
  if (context.signal?.aborted) return abortedCallError(context.signal);
  const error = RetryError.isInstance(thrown) ? thrown.lastError : thrown;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const at = endpoint(error.url);
    if (status === undefined) return new ModelCallError('network', oneLine(`${context.label} could not be reached at ${at}: ${error.message}`, context));
    // Headers came, then the connection died: nothing is wrong with the answer, it just never arrived whole.
    const dropped = droppedConnection(error);
    if (dropped) return new ModelCallError('network', oneLine(`the connection to ${context.label} at ${at} dropped mid-answer (HTTP ${status}): ${dropped}`, context), { statusCode: status });
    const wait = retryAfter(error.responseHeaders);
    const detail = status < 300 ? unreadableBody(error) : error.message;
    const retryAfterMs = retryAfterMsOf(error.responseHeaders, Date.now());
    return new ModelCallError(kindForStatus(status), oneLine(`HTTP ${status} from ${context.label} at ${at}${wait ? ` (${wait})` : ''}: ${detail}`, context), { statusCode: status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  if (isAbortLike(error)) {
    return error.name === 'TimeoutError'
      ? new ModelCallError('timeout', oneLine(`${context.label} did not answer in time: ${error.message}`, context))
      : new ModelCallError('aborted', oneLine(`the call to ${context.label} was aborted: ${error.message}`, context));
  }
  if (isMalformedResponse(error)) return new ModelCallError('malformed', oneLine(`${context.label} sent a response we could not read: ${(error as Error).message}`, context));
  if (LoadAPIKeyError.isInstance(error)) return new ModelCallError('auth', oneLine(error.message, context));
  if (error instanceof TypeError && /fetch failed|failed to fetch/i.test(error.message)) {
    return new ModelCallError('network', oneLine(`${context.label} could not be reached: ${error.message}`, context));
  }
  // Anything else is a request the SDK itself would not send (invalid prompt or settings): repeating it fails again.
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ModelCallError('malformed', oneLine(`${context.label} call failed unexpectedly: ${described}`, context));
}
