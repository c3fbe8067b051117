import { FakeGitHub } from '../helpers/github-fake.js';
test('the fake GitHub also serves real HTTP on 127.0.0.1 (for an app in another process)', async () => {
  const { fake, close } = await FakeGitHub.listening();
  fake.addRepo('octo', 'app', { files: { 'README.md': 'hi' } });
  const res = await fetch(`${fake.baseUrl}/repos/octo/app/contents/README.md`, { headers: { accept: 'application/vnd.github.raw' } });
  expect(await res.text()).toBe('hi');
  const gql = await fetch(`${fake.baseUrl}/graphql`, { method: 'POST', body: JSON.stringify({ query: '{ rateLimit { remaining } }' }) });
  expect(await gql.json()).toEqual({ data: { rateLimit: { remaining: 5000 } } });
  await close();
  expect(fake.problems).toEqual([]);
});
