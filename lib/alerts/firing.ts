/**
 * What `flywheel doctor` shows of Alertmanager's alerts: the firing ones (not silenced, not
 * inhibited), most severe first, each with the line that says what to do (its runbook).
 */

/** One alert as Alertmanager's API v2 (GET /api/v2/alerts) returns it. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: string; silencedBy?: string[]; inhibitedBy?: string[] };
}

export interface FiringAlert {
  alert: string;
  severity: string;
  /** model (and version) when the alert is about one; otherwise its task queue, writer, job or instance. */
  subject: string;
  summary: string;
  runbook: string;
  since: string;
}

const SEVERITY_ORDER = ['page', 'warn', 'info'];
const rank = (s: string) => {
  const i = SEVERITY_ORDER.indexOf(s);
  return i < 0 ? SEVERITY_ORDER.length : i;
};

function subjectOf(l: Record<string, string>): string {
  if (l.model) return l.version ? `${l.model} v${l.version}` : l.model;
  return l.task_queue ?? l.writer ?? l.worker ?? l.mountpoint ?? l.job ?? l.instance ?? '';
}

/** Active alerts only, sorted by severity then start time (oldest first), then name. */
export function firingAlerts(alerts: AlertmanagerAlert[], opts: { models?: string[] } = {}): FiringAlert[] {
  return alerts
    .filter((a) => a.status.state === 'active')
    .filter((a) => !opts.models?.length || (a.labels.model !== undefined && opts.models.includes(a.labels.model)))
    .map((a) => ({
      alert: a.labels.alertname ?? '?',
      severity: a.labels.severity ?? '',
      subject: subjectOf(a.labels),
      summary: a.annotations.summary ?? '',
      runbook: a.annotations.runbook ?? '',
      since: a.startsAt,
    }))
    .sort((a, b) => rank(a.severity) - rank(b.severity) || a.since.localeCompare(b.since) || a.alert.localeCompare(b.alert));
}
