// A minimal OpenAI-compatible upstream for the proxy load test: every
// streamed chat completion is exactly CHUNKS content chunks, one every
// DELAY_MS, then a finish chunk, a usage chunk and `[DONE]`.
//
// Why not llmock: the load test compares "direct" with "through
// confab-proxy", so the upstream must cost next to nothing and pace its
// chunks exactly; a Python mock serving 50 streams at once on a 2-core
// machine would take most of the CPU the proxy needs and make both columns
// measure the mock. Node is already on the machine; nothing to install.
//
// Usage: node sse-upstream.mjs CHUNKS DELAY_MS
// Prints `listening on http://127.0.0.1:PORT` once ready; exits on SIGTERM.
import http from 'node:http';

const chunks = Number(process.argv[2] ?? 20);
const delayMs = Number(process.argv[3] ?? 10);

function frame(id, delta, finish) {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 0,
    model: 'load-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

let served = 0;
const server = http.createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'load-model', object: 'model' }] }));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    return;
  }
  // Read (and drop) the request body before answering, as a real server would.
  req.resume();
  req.on('end', () => {
    const id = `chatcmpl-load-${++served}`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      if (sent < chunks) {
        // Each chunk is one "token" of about 6 bytes of text.
        res.write(frame(id, sent === 0 ? { role: 'assistant', content: `tok${sent} ` } : { content: `tok${sent} ` }, null));
        sent += 1;
        return;
      }
      clearInterval(timer);
      res.write(frame(id, {}, 'stop'));
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 5, completion_tokens: chunks, total_tokens: chunks + 5 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    }, delayMs);
    res.on('close', () => clearInterval(timer));
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
