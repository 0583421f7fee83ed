// JSON over HTTP for the harness (the server's API, the shop's admin API), with errors that
// carry the status and body.

/** An HTTP answer that was not 2xx. */
export class HttpError extends Error {
  constructor(method, url, status, body) {
    super(`${method} ${url} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

/** `method url` with an optional JSON body and headers; the parsed JSON (or text) answer. */
export async function request(method, url, { json, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json !== undefined ? JSON.stringify(json) : undefined,
  });
  const text = await response.text();
  let body = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  if (!response.ok) throw new HttpError(method, url, response.status, body);
  return body;
}
