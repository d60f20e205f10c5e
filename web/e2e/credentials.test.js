// Interoperability of Difronte credentials with an independent JOSE
// implementation (the npm `jose` package, not go-jose) and an independent
// bitstring decoder (Node's zlib). The Go side writes a credential, a
// status list and the JWKS: schema's TestWriteInterop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';

const repo = resolve(import.meta.dirname, '..', '..');

function interop() {
  const dir = mkdtempSync(join(tmpdir(), 'difronte-interop-'));
  try {
    execFileSync('go', ['test', './schema', '-run', '^TestWriteInterop$', '-count=1'], {
      cwd: repo, env: { ...process.env, DIFRONTE_INTEROP_DIR: dir }, stdio: 'pipe',
    });
    return JSON.parse(readFileSync(join(dir, 'interop.json'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const data = interop();
const jwks = createLocalJWKSet(data.jwks);
const dec = new TextDecoder();

async function verify(token) {
  const { payload, protectedHeader } = await compactVerify(token, jwks, { algorithms: ['EdDSA'] });
  return { header: protectedHeader, vc: JSON.parse(dec.decode(payload)) };
}

function isDate(s) { return typeof s === 'string' && !Number.isNaN(Date.parse(s)); }

test('qualification verifies with jose and has the VC 2.0 shape', async () => {
  const { header, vc } = await verify(data.credential);
  assert.equal(header.alg, 'EdDSA');
  assert.equal(header.typ, 'vc+jwt');
  assert.ok(header.kid);
  assert.equal(vc['@context'][0], 'https://www.w3.org/ns/credentials/v2');
  assert.ok(vc.type.includes('VerifiableCredential'));
  assert.ok(vc.type.includes('DifronteQualification'));
  assert.equal(vc.vc, undefined, 'no VC-JWT 1.1 vc claim');
  assert.match(vc.issuer.id, /^[a-z][a-z0-9+.-]*:/);
  assert.ok(isDate(vc.validFrom) && isDate(vc.validUntil));
  assert.ok(Date.parse(vc.validUntil) > Date.parse(vc.validFrom));
  assert.match(vc.credentialSubject.id, /^urn:difronte:peer:12D3KooW/);
  assert.ok(vc.credentialSubject.categories.length > 0);
  assert.ok(vc.credentialSubject.municipalities.every((m) => /^\d{6}$/.test(m)));
  const st = vc.credentialStatus;
  assert.equal(st.type, 'BitstringStatusListEntry');
  assert.equal(st.statusPurpose, 'revocation');
  assert.match(st.statusListIndex, /^\d+$/);
});

test('a tampered credential fails in jose too', async () => {
  const [h, p, s] = data.credential.split('.');
  const vc = JSON.parse(Buffer.from(p, 'base64url'));
  vc.credentialSubject.municipalities.push('080063');
  const forged = [h, Buffer.from(JSON.stringify(vc)).toString('base64url'), s].join('.');
  await assert.rejects(verify(forged));
  assert.equal(decodeProtectedHeader(forged).alg, 'EdDSA');
});

test('status list decodes with zlib and base64url', async () => {
  const { vc } = await verify(data.statusList);
  assert.ok(vc.type.includes('BitstringStatusListCredential'));
  const enc = vc.credentialSubject.encodedList;
  assert.equal(enc[0], 'u', 'multibase base64url prefix');
  const bits = gunzipSync(Buffer.from(enc.slice(1), 'base64url'));
  assert.equal(bits.length * 8, 131072);
  const set = [];
  for (let i = 0; i < bits.length * 8; i++) {
    if (bits[i >> 3] & (0x80 >> (i & 7))) set.push(i);
  }
  assert.deepEqual(set, data.revoked);
});
