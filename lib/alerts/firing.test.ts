import { describe, expect, it } from 'vitest';
import { firingAlerts, type AlertmanagerAlert } from './firing';

const alert = (name: string, severity: string, labels: Record<string, string>, startsAt: string, state = 'active'): AlertmanagerAlert => ({
  labels: { alertname: name, severity, ...labels },
  annotations: { summary: `${name} summary`, runbook: `${name} runbook` },
  startsAt,
  status: { state },
});

describe('firingAlerts', () => {
  const alerts = [
    alert('FlywheelDriftDetected', 'info', { model: 'iris' }, '2026-01-01T00:00:00Z'),
    alert('FlywheelCanaryRolledBack', 'warn', { model: 'iris', version: '3' }, '2026-01-01T00:02:00Z'),
    alert('FlywheelWorkerDown', 'page', { worker: 'cpu-worker', job: 'flywheel-workers' }, '2026-01-01T00:03:00Z'),
    alert('FlywheelTargetDown', 'warn', { job: 'node' }, '2026-01-01T00:01:00Z'),
    alert('FlywheelModelErrorRateHigh', 'page', { model: 'wine', version: '1' }, '2026-01-01T00:00:00Z', 'suppressed'),
  ];

  it('keeps active alerts, most severe first, then oldest, with a subject and the runbook', () => {
    expect(firingAlerts(alerts).map((a) => [a.alert, a.severity, a.subject])).toEqual([
      ['FlywheelWorkerDown', 'page', 'cpu-worker'],
      ['FlywheelTargetDown', 'warn', 'node'],
      ['FlywheelCanaryRolledBack', 'warn', 'iris v3'],
      ['FlywheelDriftDetected', 'info', 'iris'],
    ]);
    expect(firingAlerts(alerts)[2]).toMatchObject({ summary: 'FlywheelCanaryRolledBack summary', runbook: 'FlywheelCanaryRolledBack runbook', since: '2026-01-01T00:02:00Z' });
  });

  it('with models, keeps only alerts about those models', () => {
    expect(firingAlerts(alerts, { models: ['iris'] }).map((a) => a.alert)).toEqual(['FlywheelCanaryRolledBack', 'FlywheelDriftDetected']);
    expect(firingAlerts(alerts, { models: ['wine'] })).toEqual([]);
  });
});
