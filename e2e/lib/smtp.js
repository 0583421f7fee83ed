// A real SMTP sink for the tests: a server on 127.0.0.1 speaking enough SMTP for lettre
// (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, several messages per connection) that keeps
// every message, so a test can read the latest mail to an address.

import net from 'node:net';
import { parseMessage } from './mime.js';
import { waitFor } from './net.js';

/** One received message: envelope, raw text and the parsed MIME. */
export class Mail {
  constructor({ from, to, raw, receivedAt }) {
    this.envelopeFrom = from;
    this.envelopeTo = to;
    this.raw = raw;
    this.receivedAt = receivedAt;
    Object.assign(this, parseMessage(raw));
  }

  /** Whether the message was sent to `address` (envelope or To header). */
  isTo(address) {
    const a = address.toLowerCase();
    return this.envelopeTo.some((t) => t.toLowerCase() === a) || (this.to || '').toLowerCase().includes(a);
  }
}

export class SmtpSink {
  constructor(server) {
    this.server = server;
    this.messages = [];
    this.sockets = new Set();
  }

  /** Start a sink on 127.0.0.1 (`port` 0: a free one). */
  static async start({ port = 0 } = {}) {
    const sink = new SmtpSink(null);
    sink.server = net.createServer((socket) => sink.#serve(socket));
    await new Promise((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen(port, '127.0.0.1', resolve);
    });
    return sink;
  }

  get port() {
    return this.server.address().port;
  }

  /** Messages sent to `address`, oldest first. */
  to(address) {
    return this.messages.filter((m) => m.isTo(address));
  }

  /**
   * The latest message to `address` that satisfies `match` (default: any), waiting up to
   * `timeoutMs` for one to arrive. `after` skips the first messages (e.g. a count taken
   * before the action that sends the mail).
   */
  async latest(address, { timeoutMs = 15000, match = () => true, after = 0 } = {}) {
    return waitFor(() => this.to(address).slice(after).filter(match).at(-1), {
      timeoutMs,
      intervalMs: 50,
      what: `an email to ${address}`,
    });
  }

  /** Stop listening and drop open connections. */
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #serve(socket) {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    const reply = (line) => socket.write(`${line}\r\n`);
    let buffer = '';
    let envelope = { from: null, to: [] };
    let data = null; // the message text while in DATA

    reply('220 pricewatch-e2e SMTP sink ready');
    socket.on('data', (chunk) => {
      buffer += chunk;
      for (;;) {
        if (data !== null) {
          const end = buffer.indexOf('\r\n.\r\n');
          const endAtStart = data === '' && buffer.startsWith('.\r\n');
          if (!endAtStart && end < 0) return;
          const body = endAtStart ? '' : buffer.slice(0, end);
          buffer = endAtStart ? buffer.slice(3) : buffer.slice(end + 5);
          // Undo dot-stuffing: a line starting with ".." began with ".".
          const raw = body.split('\r\n').map((l) => (l.startsWith('..') ? l.slice(1) : l)).join('\r\n');
          this.messages.push(new Mail({ from: envelope.from, to: envelope.to, raw, receivedAt: Date.now() }));
          envelope = { from: null, to: [] };
          data = null;
          reply('250 2.0.0 stored');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          socket.write('250-pricewatch-e2e\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n');
        } else if (verb === 'HELO') {
          reply('250 pricewatch-e2e');
        } else if (verb === 'MAIL') {
          envelope = { from: address(line), to: [] };
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          envelope.to.push(address(line));
          reply('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          data = '';
          reply('354 end data with <CR><LF>.<CR><LF>');
        } else if (verb === 'RSET') {
          envelope = { from: null, to: [] };
          reply('250 2.0.0 ok');
        } else if (verb === 'NOOP') {
          reply('250 2.0.0 ok');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          socket.end();
          return;
        } else {
          reply('502 5.5.1 command not implemented');
        }
      }
    });
  }
}

/** The address in `MAIL FROM:<a@b>` / `RCPT TO:<a@b>`. */
function address(line) {
  const m = /<([^>]*)>/.exec(line);
  return m ? m[1] : line.slice(line.indexOf(':') + 1).trim();
}
