/** pebble (the rig's ACME server) for the tests that renew through it, and a client of the sidecar's Docker API proxy. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../src/certs/selfsigned.js';

/** Python's HTTP client over the proxy's unix socket, as the sidecar sees it. */
export const PROXY_CLIENT = `import http.client, socket
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.settimeout(30); self.sock.connect("/run/mailctl-proxy/docker.sock")
def call(method, path):
    c = C("docker"); c.request(method, path); r = c.getresponse(); return r.status, r.read()
`;

const newKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** pebble's own HTTPS certificate, from a CA of the test's, handed to certbot as ACME_CA_BUNDLE. */
export function pebbleTls(): { dir: string; ca: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-pebble-'));
  const caKey = newKey();
  const ca = issueCertificate({ subjectCN: 'rig CA for pebble', keyPem: caKey, days: 30, ca: true });
  const key = newKey();
  writeFileSync(join(dir, 'ca.crt'), ca);
  writeFileSync(join(dir, 'key.pem'), key, { mode: 0o644 });
  writeFileSync(join(dir, 'cert.pem'), issueCertificate({ subjectCN: 'pebble', keyPem: key, days: 30, ca: false, issuer: { certPem: ca, keyPem: caKey }, dnsNames: ['pebble'] }));
  return { dir, ca: join(dir, 'ca.crt') };
}

