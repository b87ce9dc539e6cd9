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

