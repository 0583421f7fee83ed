// Child processes the tests start (the server, the fixture shop): their output goes to a log
// file under e2e/artifacts, startup waits for a line saying they listen, and they are killed
// by their own pid when the test is done.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** A started child process. */
export class Child {
  constructor(child, name, logFile) {
    this.child = child;
    this.name = name;
    this.logFile = logFile;
    this.output = '';
    this.exited = once(child, 'exit');
  }

  /** Stop it (SIGTERM, then SIGKILL after `graceMs`) and wait for it to exit. */
  async stop({ graceMs = 5000 } = {}) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The environment for a child: this one without the variables the server reads as settings
 * (`PRICEWATCH_*`, `DATABASE_URL`), so the harness's config file alone decides, plus `extra`.
 */
export function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PRICEWATCH_') && k !== 'DATABASE_URL') env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Start `command args` and wait until its output matches `ready` (a RegExp; its match is
 * returned as `child.ready`). Fails with the output so far when the process exits first or
 * `timeoutMs` passes.
 */
export async function startProcess(command, args, { name, env = {}, cwd, ready, logFile, timeoutMs = 30000 }) {
  const proc = spawn(command, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const child = new Child(proc, name, logFile);
  const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  const matched = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      const text = chunk.toString();
      log?.write(text);
      if (child.output.length < 1_000_000) child.output += text;
      const m = ready && ready.exec(child.output);
      if (m) resolve(m);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => reject(new Error(`${name} exited (${signal || code}) before it was ready:\n${child.output.slice(-4000)}`)));
  });
  proc.on('exit', () => log?.end());
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} was not ready within ${timeoutMs} ms:\n${child.output.slice(-4000)}`)), timeoutMs);
  });
  try {
    child.ready = await Promise.race([matched, timeout]);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return child;
}
