/** DKIM: the TXT record value for a private key, as `chasquid-util dkim-dns` prints it. Pure. */
import { createPublicKey } from 'node:crypto';

export function dkimTxtValue(privateKeyPem: string): string {
  const key = createPublicKey(privateKeyPem);
  const der = key.export({ type: 'spki', format: 'der' });
  if (key.asymmetricKeyType === 'ed25519') {
    // RFC 8463: the raw 32-byte key, not the SPKI structure.
    return `v=DKIM1; k=ed25519; p=${der.subarray(der.length - 32).toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

/** The key file name chasquid looks for in domains/<domain>/: dkim:<selector>.pem. */
export function dkimKeyFile(selector: string): string {
  return `dkim:${selector}.pem`;
}

export function selectorOf(fileName: string): string | undefined {
  return /^dkim:([^/]+)\.pem$/.exec(fileName)?.[1];
}
