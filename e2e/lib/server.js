// A PriceWatch server for one test file: the `pricewatch` binary on SQLite in a temporary
// folder, on a free 127.0.0.1 port, its mail going to the SMTP sink and its crawler (when on)
// reading the fixture shop. It can be stopped and started again on the same port and
// database, to test what clients do while it is down.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startProcess, childEnv } from './process.js';
import { binary, artifact, ROOT } from './paths.js';
import { freePort } from './net.js';
import { request } from './http.js';
import { MARKETPLACES } from './marketplaces.js';

const execFileAsync = promisify(execFile);

/** A TOML value: strings quoted, numbers and booleans as they are, arrays of those. */
function toml(value) {
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Whether `value` is a TOML table (an object, not an array). */
function isTable(value) {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** `{section: {key: value}}` (one level of sub-tables) as TOML. */
export function renderToml(settings) {
  const lines = [];
  const tables = [];
  for (const [key, value] of Object.entries(settings)) {
    if (isTable(value)) tables.push([key, value]);
    else lines.push(`${key} = ${toml(value)}`);
  }
  for (const [name, table] of tables) {
    const nested = [];
    lines.push('', `[${name}]`);
    for (const [key, value] of Object.entries(table)) {
      if (isTable(value)) nested.push([`${name}.${key}`, value]);
      else lines.push(`${key} = ${toml(value)}`);
    }
    for (const [sub, values] of nested) {
      lines.push('', `[${sub}]`);
      for (const [key, value] of Object.entries(values)) lines.push(`${key} = ${toml(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Deep-merge plain objects: `over` wins. */
function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over || {})) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? merge(base[k], v) : v;
  }
  return out;
}

export class PriceWatchServer {
  /**
   * Prepare and start a server in `dir`. `smtpPort`: the sink's port. `shop`: a Shop whose
   * URLs the crawler uses for every marketplace (the crawler runs only when `crawler` is
   * true). `demo`: `{products, days}` to fill the database with `pricewatch demo` first.
   * `settings`: more settings, merged over the harness's (same shape as the TOML file).
   */
  static async start({ dir, smtpPort, shop = null, crawler = false, demo = null, settings = {}, logName = 'server' }) {
    const server = new PriceWatchServer();
    server.dir = dir;
    server.port = await freePort();
    server.url = `http://127.0.0.1:${server.port}`;
    server.dbPath = path.join(dir, 'pricewatch.db');
    server.logFile = artifact('logs', `${logName}.log`);
    const baseUrls = {};
    if (shop) for (const code of Object.keys(MARKETPLACES)) baseUrls[code] = shop.baseUrl(code);
    const config = merge({
      bind: `127.0.0.1:${server.port}`,
      database_url: `sqlite://${server.dbPath}`,
      public_url: server.url,
      log: { filter: 'info,pricewatch_server=debug' },
      web: { root: path.join(ROOT, 'www'), pkg: path.join(ROOT, 'dist', 'pkg') },
      ingest: { per_ip_per_minute: 100000, per_key_per_minute: 100000 },
      auth: { per_ip_per_minute: 1000, emails_per_hour: 100 },
      mail: { smtp_host: '127.0.0.1', smtp_port: smtpPort ?? 25, security: 'none', from: 'PriceWatch <alerts@pricewatch.test>', timeout_secs: 5 },
      alerts: { poll_interval_ms: 100 },
      crawler: {
        enabled: Boolean(crawler && shop),
        per_host_rps: 50,
        per_host_burst: 50,
        poll_interval_ms: 200,
        seed_interval_secs: 1,
        min_refresh_secs: 1,
        max_refresh_secs: 2,
        backoff_base_ms: 200,
        backoff_max_ms: 1000,
        request_timeout_ms: 5000,
        base_urls: baseUrls,
      },
    }, settings);
    server.configFile = path.join(dir, 'pricewatch.toml');
    writeFileSync(server.configFile, renderToml(config));
    if (demo) {
      await execFileAsync(binary('pricewatch'), ['--config', server.configFile, 'demo',
        '--products', String(demo.products ?? 30), '--days', String(demo.days ?? 400)], { cwd: dir, env: childEnv() });
    }
    await server.start();
    return server;
  }

  /** Start (again) on the same port and database. */
  async start() {
    this.child = await startProcess(binary('pricewatch'), ['--config', this.configFile, 'serve'], {
      name: 'pricewatch',
      cwd: this.dir,
      ready: /PriceWatch listening on (http:\/\/[^\s]+)/,
      logFile: this.logFile,
    });
  }

  /** Stop it (the database stays, for `start` again). */
  async stop() {
    await this.child?.stop();
  }

  /** `GET path` on the API; `token` signs in as a user. */
  get(apiPath, { token } = {}) {
    return request('GET', `${this.url}${apiPath}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  /** `POST path` with a JSON body. */
  post(apiPath, json, { token } = {}) {
    return request('POST', `${this.url}${apiPath}`, { json, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  /** Sign `email` in through the emailed code (read from `sink`); the bearer token. */
  async signIn(email, sink) {
    const before = sink.to(email).length;
    await this.post('/api/auth/email', { email });
    const mail = await sink.latest(email, { after: before });
    const code = /code:\s*(\S+)/.exec(mail.subject)?.[1];
    if (!code) throw new Error(`no sign-in code in "${mail.subject}"`);
    const answer = await this.post('/api/auth/verify', { email, code, client: 'extension' });
    return answer.token;
  }

  /**
   * Products on `marketplace` that are in stock with a price (e.g. the demo catalogue's), as
   * `{marketplace, asin, title, priceMinor}`, most history first.
   */
  async productsOn(marketplace) {
    if (!/^[a-z]{2}$/.test(marketplace)) throw new Error(`not a marketplace code: ${marketplace}`);
    const rows = await this.sql(`SELECT p.marketplace, p.asin, p.title, p.current_price AS price
      FROM products p WHERE p.marketplace = '${marketplace}' AND p.availability = 'in_stock'
      AND p.current_price IS NOT NULL
      ORDER BY (SELECT COUNT(*) FROM price_points pp WHERE pp.product_id = p.id) DESC, p.asin`);
    return rows.map((r) => ({ marketplace: r.marketplace, asin: r.asin, title: r.title, priceMinor: r.price }));
  }

  /** Rows of a read-only SQL query on the database (through the `sqlite3` command). */
  async sql(query) {
    const { stdout } = await execFileAsync('sqlite3', ['-readonly', '-json', this.dbPath, query]);
    return stdout.trim() ? JSON.parse(stdout) : [];
  }
}
