import { pagesConfigFromEnv } from '../../src/pages/config.js';

const SECRET = 'x'.repeat(32);
const full = { GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'shh', SESSION_SECRET: SECRET };

describe('pagesConfigFromEnv', () => {
  it('is off (null) when none of the three settings is given', () => {
    expect(pagesConfigFromEnv({})).toBeNull();
    expect(pagesConfigFromEnv({ MERGE_GATE_URL: 'https://mg.example.com', GITHUB_CLIENT_ID: ' ' })).toBeNull();
  });

  it('names what is missing when only some are set', () => {
    expect(() => pagesConfigFromEnv({ GITHUB_CLIENT_ID: 'Iv1.abc' })).toThrow('GITHUB_CLIENT_ID is set but GITHUB_CLIENT_SECRET and SESSION_SECRET are not');
    expect(() => pagesConfigFromEnv({ GITHUB_CLIENT_ID: 'a', GITHUB_CLIENT_SECRET: 'b' })).toThrow('GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are set but SESSION_SECRET is not');
  });

  it('splits SESSION_SECRET on commas and wants each at least 32 characters', () => {
    expect(pagesConfigFromEnv({ ...full, SESSION_SECRET: `${SECRET}, ${'y'.repeat(40)}` })!.sessionSecrets).toEqual([SECRET, 'y'.repeat(40)]);
    expect(() => pagesConfigFromEnv({ ...full, SESSION_SECRET: `${SECRET},short` })).toThrow(/SESSION_SECRET: each comma-separated secret must be at least 32 characters \(secret 2 of 2 is 5\)/);
  });

  it('reads MERGE_GATE_URL without its trailing slash, and refuses what is not an http(s) URL', () => {
    expect(pagesConfigFromEnv({ ...full, MERGE_GATE_URL: 'https://mg.example.com/' })!.publicUrl).toBe('https://mg.example.com');
    expect(pagesConfigFromEnv({ ...full, MERGE_GATE_URL: 'http://127.0.0.1:3000/gate/' })!.publicUrl).toBe('http://127.0.0.1:3000/gate');
    expect(pagesConfigFromEnv(full)!.publicUrl).toBeNull();
    expect(() => pagesConfigFromEnv({ ...full, MERGE_GATE_URL: 'mg.example.com' })).toThrow(/^MERGE_GATE_URL must be an absolute http\(s\) address/);
    expect(() => pagesConfigFromEnv({ ...full, MERGE_GATE_URL: 'javascript:alert(1)' })).toThrow(/^MERGE_GATE_URL/);
  });

  it('signs in on github.com, or on GHE_HOST with GHE_PROTOCOL as Probot reads them', () => {
    expect(pagesConfigFromEnv(full)).toMatchObject({ webOrigin: 'https://github.com', apiBase: 'https://api.github.com', sessionTtlMs: 8 * 3600_000, accessTtlMs: 5 * 60_000 });
    expect(pagesConfigFromEnv({ ...full, GHE_HOST: 'ghe.example.com' })).toMatchObject({ webOrigin: 'https://ghe.example.com', apiBase: 'https://ghe.example.com/api/v3' });
    expect(pagesConfigFromEnv({ ...full, GHE_HOST: '127.0.0.1:8080', GHE_PROTOCOL: 'http' })).toMatchObject({ webOrigin: 'http://127.0.0.1:8080', apiBase: 'http://127.0.0.1:8080/api/v3' });
  });
});
