/**
 * Token verification (pure, no I/O): valid tokens pass (also when remembered), and the
 * cache of verified tokens never lets a forged, expired or other-secret token through.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintToken, TokenVerifier } from './auth.js';

const SECRET = 'auth-test-secret';

describe('TokenVerifier', () => {
  it('accepts a valid token, the second time from its cache, with the same principal', async () => {
    const v = new TokenVerifier(SECRET);
    const token = await mintToken(SECRET, { sub: 'u-1', roles: ['user'] });
    expect(await v.verify(token)).toEqual({ sub: 'u-1', roles: ['user'] });
    expect(await v.verify(token)).toEqual({ sub: 'u-1', roles: ['user'] });
  });

  it('refuses a token signed with another secret, even after the genuine one was cached', async () => {
    const v = new TokenVerifier(SECRET);
    const genuine = await mintToken(SECRET, { sub: 'u-2', roles: ['admin'] });
    await v.verify(genuine);
    const forged = await mintToken('another-secret', { sub: 'u-2', roles: ['admin'] });
    await expect(v.verify(forged)).rejects.toMatchObject({ code: 'unauthorized' });
    // Same header and payload, tampered signature.
    const tampered = `${genuine.slice(0, genuine.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    await expect(v.verify(tampered)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an expired token, a token without a subject and a missing one', async () => {
    const v = new TokenVerifier(SECRET);
    const key = new TextEncoder().encode(SECRET);
    const expired = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-3')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(key);
    await expect(v.verify(expired)).rejects.toMatchObject({ code: 'unauthorized' });
    const noSub = await new SignJWT({ roles: ['user'] }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    await expect(v.verify(noSub)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(v.verify(undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
