// examples/kubernetes with a stand-in kubectl on PATH that records its
// arguments and stdin: the manifests are valid YAML and carry the revision.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runCommand } from '../../src/deploy/processes.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/kubernetes/', import.meta.url));
const SHA = '0123456789abcdef0123456789abcdef01234567';

/** A kubectl that writes each call's arguments (one per line) and stdin to numbered files. */
const FAKE_KUBECTL = `#!/bin/sh
n=$(ls "$KUBECTL_RECORD" | grep -c '^args-' || true)
printf '%s\\n' "$@" > "$KUBECTL_RECORD/args-$n"
case " $* " in *" -f - "*) cat > "$KUBECTL_RECORD/stdin-$n" ;; esac
exit 0
`;

describe('examples/kubernetes', () => {
  let dir: string;
  let record: string;
  let env: Record<string, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'merge-gate-k8s-'));
    const bin = join(dir, 'bin');
    record = join(dir, 'record');
    mkdirSync(bin);
    mkdirSync(record);
    writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL);
    chmodSync(join(bin, 'kubectl'), 0o755);
    env = {
      PATH: `${bin}:${process.env.PATH}`,
      KUBECTL_RECORD: record,
      REVISION: SHA,
      PORT: '9042',
      REPOSITORY: 'Octo/My_App',
      CHECKOUT: dir,
      SIGNAL_URL: `http://trigger.internal:8787/signals/${SHA}?token=t0k3n`,
      NAMESPACE: 'prod',
      IMAGE_REPOSITORY: 'registry.example.com/octo/app',
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const calls = () =>
    readdirSync(record)
      .filter((f) => f.startsWith('args-'))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
      .map((f) => ({ args: readFileSync(join(record, f), 'utf8').trimEnd().split('\n'), stdin: existsSync(join(record, `stdin-${f.slice(5)}`)) ? readFileSync(join(record, `stdin-${f.slice(5)}`), 'utf8') : null }));

  it('deploy.sh applies a Deployment and a Service for the revision, then forwards PORT to it', async () => {
    const result = await runCommand(join(EXAMPLE, 'deploy.sh'), dir, env, 10_000);
    expect(result).toEqual({ ok: true, detail: 'exit 0' });
    const [apply, forward] = calls();
    expect(apply.args).toEqual(['apply', '--namespace', 'prod', '-f', '-']);
    expect(forward.args).toEqual(['port-forward', '--namespace', 'prod', 'service/rev-0123456789ab', '9042:80']);
    const docs = parseAllDocuments(apply.stdin!);
    expect(docs.flatMap((d) => d.errors)).toEqual([]);
    const [deployment, service] = docs.map((d) => d.toJS()) as Record<string, any>[];
    expect([deployment.kind, service.kind]).toEqual(['Deployment', 'Service']);
    const labels = { 'app.kubernetes.io/name': 'octo-my-app', 'merge-gate/revision': SHA };
    expect(deployment.metadata).toEqual({ name: 'rev-0123456789ab', labels });
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(deployment.spec.template.metadata.labels).toEqual(labels);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(`registry.example.com/octo/app:${SHA}`);
    expect(container.env).toEqual([
      { name: 'REVISION', value: SHA },
      { name: 'PORT', value: '8080' },
      { name: 'SIGNAL_URL', value: env.SIGNAL_URL },
    ]);
    expect(service.spec).toEqual({ selector: labels, ports: [{ port: 80, targetPort: 8080 }] });
  });

  it('cutoff.sh takes the revision out of service and keeps its Deployment at zero; stop.sh deletes both', async () => {
    expect((await runCommand(join(EXAMPLE, 'cutoff.sh'), dir, env, 10_000)).ok).toBe(true);
    expect((await runCommand(join(EXAMPLE, 'stop.sh'), dir, env, 10_000)).ok).toBe(true);
    expect(calls().map((c) => c.args.join(' '))).toEqual([
      'delete --namespace prod service/rev-0123456789ab --ignore-not-found',
      'scale --namespace prod deployment/rev-0123456789ab --replicas=0',
      'delete --namespace prod deployment/rev-0123456789ab service/rev-0123456789ab --ignore-not-found',
    ]);
  });

  it('refuses a REVISION that is not a commit SHA, without calling kubectl', async () => {
    for (const script of ['deploy.sh', 'cutoff.sh', 'stop.sh']) {
      const result = await runCommand(join(EXAMPLE, script), dir, { ...env, REVISION: `${SHA}"; touch pwned` }, 10_000);
      expect(result.ok).toBe(false);
      expect(result.detail).toContain('REVISION is not a commit SHA');
    }
    expect(calls()).toEqual([]);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('ships a config the trigger accepts', async () => {
    const { loadDeployConfigText } = await import('../../src/deploy/config.js');
    const file = join(EXAMPLE, 'deploy.yml');
    const loaded = loadDeployConfigText(readFileSync(file, 'utf8'), file);
    expect(loaded.ok && loaded.config.repositories['octo/app'].cutoff).toBe('./deploy/kubernetes/cutoff.sh');
    // The scripts' settings come through env: (the trigger's environment does not reach them).
    expect(loaded.ok && loaded.config.repositories['octo/app'].env).toEqual({ NAMESPACE: 'production', IMAGE_REPOSITORY: 'registry.example.com/octo/app' });
  });
});
