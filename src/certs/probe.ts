/** The certificate a service really serves, read by a TLS handshake. */
import { connect } from 'node:tls';
import { summarizeCertificate, type CertSummary } from './install.js';

export function servedCertificate(host: string, port: number, servername: string, timeoutMs = 3000): Promise<CertSummary | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.destroy();
      resolve(raw ? summarizeCertificate(raw.toString()) : undefined);
    });
    socket.on('error', () => resolve(undefined));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}

/** Where to reach a port published on `bind` from this host. */
export function localAddress(bind: string): string {
  if (bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::') return '::1';
  return bind;
}
