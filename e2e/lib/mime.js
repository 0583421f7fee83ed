// Reading the emails the server sends: headers (unfolded, RFC 2047 words decoded), and the
// plain-text and HTML bodies of a multipart message with their transfer encodings undone.
// Enough MIME for what lettre writes; pure, so it is unit-tested.

/** A parsed message: `{headers, subject, from, to, text, html, parts}`. */
export function parseMessage(raw) {
  const { headers, body } = splitHead(raw);
  const parts = [];
  collectParts(headers, body, parts);
  const text = parts.find((p) => p.type === 'text/plain')?.content ?? null;
  const html = parts.find((p) => p.type === 'text/html')?.content ?? null;
  return {
    headers,
    subject: decodeWords(headers.get('subject') ?? ''),
    from: headers.get('from') ?? null,
    to: headers.get('to') ?? null,
    text,
    html,
    parts,
  };
}

/** Headers (lower-cased names, folded lines joined) and the body after the blank line. */
export function splitHead(raw) {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end >= 0 ? normalized.slice(0, end) : normalized;
  const body = end >= 0 ? normalized.slice(end + 2) : '';
  const headers = new Map();
  let name = null;
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && name) {
      headers.set(name, `${headers.get(name)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { headers, body };
}

/** The media type and parameters of a Content-Type value. */
export function contentType(value) {
  const [type, ...params] = (value || 'text/plain').split(';');
  const out = { type: type.trim().toLowerCase(), params: {} };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    out.params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}

function collectParts(headers, body, out) {
  const ct = contentType(headers.get('content-type'));
  if (ct.type.startsWith('multipart/') && ct.params.boundary) {
    const delimiter = `--${ct.params.boundary}`;
    const chunks = body.split(delimiter).slice(1);
    for (const chunk of chunks) {
      if (chunk.startsWith('--')) break;
      const part = splitHead(chunk.replace(/^\n/, ''));
      collectParts(part.headers, part.body.replace(/\n$/, ''), out);
    }
    return;
  }
  const encoding = (headers.get('content-transfer-encoding') || '7bit').toLowerCase();
  const bytes = decodeTransfer(body, encoding);
  const content = ct.type.startsWith('text/') ? bytes.toString(ct.params.charset?.toLowerCase() === 'iso-8859-1' ? 'latin1' : 'utf8') : bytes;
  out.push({ type: ct.type, headers, content });
}

/** The bytes of a body in `encoding` (base64, quoted-printable, 7bit, 8bit, binary). */
export function decodeTransfer(body, encoding) {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return Buffer.from(body, 'utf8');
}

/** RFC 2045 quoted-printable: soft line breaks and `=XX` bytes. */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** A header value with its RFC 2047 encoded words (`=?utf-8?B?...?=`) decoded. */
export function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, kind, data) => {
      const bytes = kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return bytes.toString(charset.toLowerCase() === 'iso-8859-1' ? 'latin1' : 'utf8');
    });
}
