/** Prometheus metrics of feedback ingestion, registered in the gateway's own registry. */
import client from 'prom-client';

export function createFeedbackMetrics(registry: client.Registry) {
  return {
    groups: new client.Counter({ name: 'flywheel_gateway_feedback_commits_total', help: 'INSERTs that stored feedback (one per group of requests)', registers: [registry] }),
    groupItems: new client.Histogram({
      name: 'flywheel_gateway_feedback_commit_items',
      help: 'Feedback items per INSERT: how much group commit is batching',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    commitSeconds: new client.Histogram({
      name: 'flywheel_gateway_feedback_commit_seconds',
      help: 'Time of one feedback INSERT, commit included',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    overloaded: new client.Counter({ name: 'flywheel_gateway_feedback_overloaded_total', help: 'Feedback requests turned away (503) because the commit backlog was full', registers: [registry] }),
    failures: new client.Counter({ name: 'flywheel_gateway_feedback_write_failures_total', help: 'Feedback INSERTs that failed (their requests got 503)', registers: [registry] }),
  };
}
