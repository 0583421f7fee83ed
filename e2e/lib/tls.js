// Throwaway TLS for the Amazon host names: a test CA made for one run, a certificate for
// every storefront signed by it, and an NSS database (the one Chromium on Linux reads under
// $HOME/.pki/nssdb) that trusts the CA. Only the test browser's HOME gets that database, so
// nothing on the machine trusts the CA. Needs `openssl` and `certutil` (libnss3-tools).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (e) {
    const hint = e.code === 'ENOENT' ? ` (install it: apt-get install -y ${command === 'certutil' ? 'libnss3-tools' : command})` : '';
    throw new Error(`${command} ${args.join(' ')} failed${hint}: ${e.stderr?.toString() || e.message}`);
  }
}

/**
 * A CA and a server certificate for `hosts`, written under `dir`. Returns
 * `{caCert, cert, key}` (PEM text) and `caFile`, the CA's path.
 */
export function makeCertificates(dir, hosts) {
  mkdirSync(dir, { recursive: true });
  const f = (name) => path.join(dir, name);
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-days', '2', '-subj', '/CN=PriceWatch e2e throwaway CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'),
    '-subj', `/CN=${hosts[0]}`]);
  writeFileSync(f('server.ext'), [
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')]);
  return {
    caFile: f('ca.pem'),
    caCert: readFileSync(f('ca.pem'), 'utf8'),
    cert: readFileSync(f('server.pem'), 'utf8'),
    key: readFileSync(f('server.key'), 'utf8'),
  };
}

/** Make `home`/.pki/nssdb trust the CA in `caFile` for TLS servers. */
export function trustInNssDb(home, caFile) {
  const db = path.join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  run('certutil', ['-A', '-d', `sql:${db}`, '-n', 'pricewatch-e2e-ca', '-t', 'C,,', '-i', caFile]);
}
