// Finding the cgroup v2 hierarchy and the trigger's own cgroup (cgroup.ts): on
// a unified machine, on a hybrid one (v2 under /sys/fs/cgroup/unified), and on
// one without cgroup v2.
import { cgroup2Mount, cgroupParent, ownCgroup } from '../../src/deploy/cgroup.js';

const UNIFIED = '35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n';
const HYBRID = [
  '25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw',
  '27 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory',
].join('\n');
const V1_ONLY = '27 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory\n';

describe('cgroup v2 discovery', () => {
  it('finds the cgroup2 mount point, unified or hybrid, and none without one', () => {
    expect([cgroup2Mount(UNIFIED), cgroup2Mount(HYBRID), cgroup2Mount(V1_ONLY)]).toEqual(['/sys/fs/cgroup', '/sys/fs/cgroup/unified', null]);
    expect(cgroup2Mount('36 24 0:30 / /mnt/cg\\040two rw - cgroup2 none rw\n')).toBe('/mnt/cg two');
  });

  it("reads the trigger's own cgroup from the 0:: line", () => {
    expect(ownCgroup('12:memory:/x\n0::/system.slice/merge-gate-deploy.service\n')).toBe('/system.slice/merge-gate-deploy.service');
    expect(ownCgroup('12:memory:/x\n')).toBeNull();
  });

  it('says why there are no cgroups: off, or a parent that is not a cgroup v2 directory', () => {
    expect(cgroupParent('off')).toEqual({ ok: false, reason: 'cgroup: off in the config' });
    const r = cgroupParent('/proc');
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toBe('/proc is not a cgroup v2 directory');
  });
});
