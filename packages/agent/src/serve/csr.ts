import { createPublicKey, sign, type KeyObject } from 'node:crypto';

// A minimal DER writer, enough for a PKCS #10 certificate signing request (RFC 2986) with an
// ECDSA P-256 key. The agent carries no X.509 library: this and node:crypto are all it needs.

/** A DER TLV. */
function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/** Encodes a dotted object identifier. */
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const bytes: number[] = [p & 0x7f];
    for (let n = Math.floor(p / 128); n > 0; n = Math.floor(n / 128))
      bytes.unshift((n & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID_CN = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/** A subjectAltName value: DNS names, or IP addresses when the name is one. */
function altNames(names: readonly string[]): Buffer {
  const items = names.map((n) => {
    const ip = ipBytes(n);
    return ip ? tlv(0x87, ip) : tlv(0x82, Buffer.from(n, 'ascii'));
  });
  return seq(...items);
}

/** The bytes of an IPv4 or IPv6 address, or undefined when `s` is not one. */
function ipBytes(s: string): Buffer | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const b = s.split('.').map(Number);
    return b.every((x) => x <= 255) ? Buffer.from(b) : undefined;
  }
  if (s.includes(':') && /^[0-9a-fA-F:]+$/.test(s)) {
    const [head = '', tail = ''] = s.split('::');
    const h = head ? head.split(':') : [];
    const t = s.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8) return undefined;
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  return undefined;
}

/**
 * Builds a PEM certificate signing request for `commonName` (also its subjectAltName, with any
 * extra names), signed with the ECDSA P-256 private key `key`.
 */
export function buildCsr(key: KeyObject, commonName: string, extraNames: string[] = []): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = seq(set(seq(oid(OID_CN), utf8(commonName))));
  const names = [commonName, ...extraNames.filter((n) => n !== commonName)];
  const extensions = seq(seq(oid(OID_SUBJECT_ALT_NAME), octets(altNames(names))));
  const attributes = tlv(0xa0, seq(oid(OID_EXTENSION_REQUEST), set(extensions)));
  const info = seq(tlv(0x02, Buffer.from([0])), subject, spki, attributes);
  const signature = sign('sha256', info, key);
  const der = seq(info, seq(oid(OID_ECDSA_SHA256)), bitString(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
}
