import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for OpenAI-compatible, OpenAI Responses and Anthropic Messages endpoints, on 127.0.0.1 and a
 * random port. What it answers depends on the model named in the request body, so one server covers every case.
 */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeProviderServer {
  baseURL: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

export const FAKE_TEXT = 'Prioritise drainage in the low-lying wards, then cooling centres.';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function chatCompletion(model: string, content: string, usage: unknown, finishReason = 'stop'): unknown {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1_764_000_000, model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...(usage === undefined ? {} : { usage }),
  };
}

function answerChat(res: ServerResponse, model: string, headers: IncomingHttpHeaders): void {
  switch (model) {
    case 'ok':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: 21, completion_tokens: 13, total_tokens: 34 }));
    case 'no-usage':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, undefined));
    // Usage some servers really send: counts that are not counts, or not all there.
    case 'fractional-usage':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: 12.5, completion_tokens: 13, total_tokens: 25.5 }));
    case 'negative-usage':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: -5, completion_tokens: 13, total_tokens: 8 }));
    case 'null-usage':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: null, completion_tokens: null, total_tokens: null }));
    case 'half-usage':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: 21 }));
    case 'empty':
      return json(res, 200, chatCompletion(model, '', { prompt_tokens: 21, completion_tokens: 0, total_tokens: 21 }));
    case 'cut-short':
      return json(res, 200, chatCompletion(model, FAKE_TEXT, { prompt_tokens: 21, completion_tokens: 13, total_tokens: 34 }, 'length'));
    case 'filtered':
      return json(res, 200, chatCompletion(model, '', { prompt_tokens: 21, completion_tokens: 0, total_tokens: 21 }, 'content_filter'));
    case 'boom':
      return json(res, 500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
    case 'busy':
      return json(res, 429, { error: { message: 'Rate limit reached for requests.', type: 'rate_limit_exceeded' } });
    case 'denied':
      // Providers echo (part of) the key they refused; it must not reach our error.
      return json(res, 401, { error: { message: `Incorrect API key provided: ${String(headers.authorization ?? '').replace(/^Bearer /, '')}.`, type: 'invalid_request_error' } });
    case 'denied-bearer':
      return json(res, 401, { error: { message: `Incorrect API key provided: ${String(headers.authorization ?? '')}.`, type: 'invalid_request_error' } });
    case 'unknown-model':
      return json(res, 404, { error: { message: 'The model `unknown-model` does not exist.', type: 'invalid_request_error' } });
    case 'garbled':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"id": "chatcmpl-1", "choices": [ {"message": ');
    case 'wrong-shape':
      return json(res, 200, { hello: 'world' });
    case 'slow':
      // Never answers; the caller's abort must end the call.
      return;
    default:
      return json(res, 400, { error: { message: `fake server does not know model ${model}`, type: 'invalid_request_error' } });
  }
}

function answerResponses(res: ServerResponse, model: string): void {
  json(res, 200, {
    id: 'resp_1', object: 'response', created_at: 1_764_000_000, model, status: 'completed', error: null, incomplete_details: null,
    output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: FAKE_TEXT, annotations: [] }] }],
    usage: { input_tokens: 30, output_tokens: 14, total_tokens: 44, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
  });
}

function answerAnthropic(res: ServerResponse, model: string): void {
  json(res, 200, {
    type: 'message', id: 'msg_1', role: 'assistant', model, content: [{ type: 'text', text: FAKE_TEXT }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 25, output_tokens: 15 },
  });
}

export async function startFakeProviderServer(): Promise<FakeProviderServer> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { raw += chunk; });
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      const path = req.url ?? '';
      requests.push({ path, headers: req.headers, body });
      const model = String(body.model);
      if (path.endsWith('/chat/completions')) answerChat(res, model, req.headers);
      else if (path.endsWith('/responses')) answerResponses(res, model);
      else if (path.endsWith('/messages')) answerAnthropic(res, model);
      else json(res, 404, { error: { message: `no route ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
