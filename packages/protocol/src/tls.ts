/**
 * The TLS 1.2 suites that Vigil's listeners offer, the server's and the agent's alike: Mozilla's
 * "intermediate" profile, the ECDHE key exchanges with AEAD ciphers only. TLS 1.3 suites are all
 * AEAD and are offered besides. Node's own default list also has CBC suites with SHA-1 MACs, CCM8
 * and ARIA, which no current client needs.
 */
export const TLS12_AEAD_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
