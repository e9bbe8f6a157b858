import { describe, expect, it } from 'vitest';
import { comparePlacement } from '../../../src/plan/compare-placement.js';
import { aPlacement, convergedService, envFile, hash, runningUnit, timerFile, unitFile } from './builders.js';

describe('comparePlacement', () => {
  it('leaves a converged service unchanged with nothing to write', () => {
    const placement = aPlacement('api', 'host-01');
    const step = comparePlacement(placement, convergedService(placement));
    expect(step).toMatchObject({ action: 'unchanged', reasons: [], writes: [], deletes: [], release: undefined, needsDaemonReload: false });
  });

  it('creates a service the host does not have, writing every file and reloading systemd', () => {
    const placement = aPlacement('api', 'host-01');
    const step = comparePlacement(placement, undefined);
    expect(step.action).toBe('create');
    expect(step.reasons).toEqual([{ what: 'missing', detail: 'api is not on host-01' }]);
    expect(step.writes.map((file) => file.path)).toEqual(['/etc/systemd/system/api.service', '/etc/tend/env/api.env']);
    expect(step.release).toBe(placement.release);
    expect(step.releasePresent).toBe(false);
    expect(step.needsDaemonReload).toBe(true);
  });

  it.each([
    { changed: 'unit', files: [unitFile('api', 'v2'), envFile('api')], written: '/etc/systemd/system/api.service', reload: true },
    { changed: 'env', files: [unitFile('api'), envFile('api', 'v2')], written: '/etc/tend/env/api.env', reload: false },
  ])('updates only the differing $changed file and names it', ({ changed, files, written, reload }) => {
    const before = aPlacement('api', 'host-01');
    const step = comparePlacement({ ...before, files }, convergedService(before));
    expect(step.action).toBe('update');
    expect(step.writes.map((file) => file.path)).toEqual([written]);
    expect(step.reasons).toEqual([{ what: changed, detail: `${written} differs` }]);
    expect(step.release).toBeUndefined();
    expect(step.needsDaemonReload).toBe(reload);
  });

  it('writes a file that is missing on the host and says it is missing', () => {
    const before = aPlacement('api', 'host-01');
    const timer = timerFile('api', 'cleanup');
    const step = comparePlacement({ ...before, files: [...before.files, timer] }, convergedService(before));
    expect(step.writes).toEqual([timer]);
    expect(step.reasons).toEqual([{ what: 'timer', detail: `${timer.path} is missing` }]);
    expect(step.needsDaemonReload).toBe(true);
  });

  it('deletes a timer removed from the spec and reloads systemd', () => {
    const withTimer = aPlacement('api', 'host-01', { files: [unitFile('api'), envFile('api'), timerFile('api', 'cleanup')] });
    const step = comparePlacement(aPlacement('api', 'host-01'), convergedService(withTimer));
    expect(step.action).toBe('update');
    expect(step.writes).toEqual([]);
    expect(step.deletes).toEqual(['/etc/systemd/system/api-cleanup.timer']);
    expect(step.reasons).toEqual([{ what: 'stale-file', detail: '/etc/systemd/system/api-cleanup.timer is no longer in the spec' }]);
    expect(step.needsDaemonReload).toBe(true);
  });

  it('names a release change with short hashes and needs an upload for a new release', () => {
    const before = aPlacement('api', 'host-01', { release: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    const after = { ...before, release: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' };
    const step = comparePlacement(after, convergedService(before));
    expect(step.action).toBe('update');
    expect(step.reasons).toEqual([{ what: 'release', detail: 'release aaaaaaaa… -> bbbbbbbb…' }]);
    expect(step.release).toBe(after.release);
    expect(step.releasePresent).toBe(false);
    expect(step.writes).toEqual([]);
    // Units point at `current`: switching the symlink needs no daemon-reload.
    expect(step.needsDaemonReload).toBe(false);
  });

  it('rolls back without upload when the target release is among the kept releases', () => {
    const current = aPlacement('api', 'host-01', { release: hash('release-2') });
    const target = { ...current, release: hash('release-1') };
    const step = comparePlacement(target, convergedService(current, { releases: [hash('release-2'), hash('release-1')] }));
    expect(step.release).toBe(hash('release-1'));
    expect(step.releasePresent).toBe(true);
  });

  it('compares no release for a package run', () => {
    const placement = aPlacement('api', 'host-01', { release: undefined });
    const step = comparePlacement(placement, convergedService(placement, { currentRelease: undefined, releases: [] }));
    expect(step.action).toBe('unchanged');
  });

  it.each([
    { unit: runningUnit({ activeState: 'failed', subState: 'failed' }), what: 'inactive', detail: 'unit is failed/failed, not active/running', reload: false },
    { unit: runningUnit({ activeState: 'inactive', subState: 'dead' }), what: 'inactive', detail: 'unit is inactive/dead, not active/running', reload: false },
    { unit: runningUnit({ activeState: 'activating', subState: 'auto-restart' }), what: 'inactive', detail: 'unit is activating/auto-restart, not active/running', reload: false },
    { unit: runningUnit({ needDaemonReload: true }), what: 'daemon-reload', detail: 'systemd reports NeedDaemonReload=yes', reload: true },
  ])('restarts a service whose files match but whose unit is $detail', ({ unit, what, detail, reload }) => {
    const placement = aPlacement('api', 'host-01');
    const step = comparePlacement(placement, convergedService(placement, { unit }));
    expect(step.action).toBe('restart');
    expect(step.reasons).toEqual([{ what, detail }]);
    expect(step.writes).toEqual([]);
    expect(step.needsDaemonReload).toBe(reload);
  });

  it('keeps the unit-state reason next to the file reasons of an update', () => {
    const before = aPlacement('api', 'host-01');
    const step = comparePlacement(
      { ...before, files: [unitFile('api', 'v2'), envFile('api')] },
      convergedService(before, { unit: runningUnit({ activeState: 'failed', subState: 'failed' }) }),
    );
    expect(step.action).toBe('update');
    expect(step.reasons.map((reason) => reason.what)).toEqual(['unit', 'inactive']);
  });

  describe('a package run', () => {
    const placement = aPlacement('api', 'host-01', { release: undefined, package: { name: 'api', version: '1.4.3-1' } });

    it.each([
      ['another version installed', { name: 'api', version: '1.4.2-1' }, 'api 1.4.2-1 → 1.4.3-1'],
      ['not installed', { name: 'api', version: undefined }, 'api not installed → 1.4.3-1'],
    ])('installs the pinned version when %s, and says so as the plan shows it', (_, installed, detail) => {
      const step = comparePlacement(placement, convergedService(placement, { installedPackage: installed }));
      expect(step.action).toBe('update');
      expect(step.reasons).toEqual([{ what: 'package', detail }]);
      expect(step.package).toEqual({ name: 'api', from: installed.version, to: '1.4.3-1' });
      expect(step.writes).toEqual([]);
    });

    it.each([
      ['the pinned version', '1.4.3-1'],
      ['the pinned version with the epoch 0 dpkg does not print', '0:1.4.3-1'],
    ])('leaves a host with %s installed unchanged', (_, version) => {
      const step = comparePlacement(placement, convergedService(placement, { installedPackage: { name: 'api', version } }));
      expect(step).toMatchObject({ action: 'unchanged', reasons: [] });
      expect(step.package).toBeUndefined();
    });

    it('takes any installed version when the spec pins none, and installs the candidate when none is installed', () => {
      const unpinned = { ...placement, package: { name: 'api', version: undefined } };
      expect(comparePlacement(unpinned, convergedService(unpinned, { installedPackage: { name: 'api', version: '0.9-1' } })).action).toBe('unchanged');
      const step = comparePlacement(unpinned, convergedService(unpinned, { installedPackage: { name: 'api', version: undefined } }));
      expect(step.reasons).toEqual([{ what: 'package', detail: "api not installed → the repository's version" }]);
    });

    it('plans no package change when the observation did not report the package', () => {
      expect(comparePlacement(placement, convergedService(placement)).action).toBe('unchanged');
    });

    it('installs the package of a service new to the host', () => {
      expect(comparePlacement(placement, undefined).package).toEqual({ name: 'api', from: undefined, to: '1.4.3-1' });
    });
  });
});
