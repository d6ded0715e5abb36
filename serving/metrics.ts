/**
 * The gateway's Prometheus metrics, in their own registry (tests start several gateways per process).
 * Names follow Prometheus' conventions: base units (seconds, ratios 0-1), `_total` only on counters
 * and naming what they count (a predict request is one count however many rows it carries; rows have
 * their own counter). Node's default metrics keep their standard names (process_*, nodejs_*) so
 * stock Node.js dashboards read them; the job label tells the gateway apart.
 */
import client from 'prom-client';

export type GatewayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const labelNames = ['model', 'version'] as const;
  const segmentLabels = ['model', 'attribute', 'segment'] as const;
  return {
    registry,
    requests: new client.Counter({ name: 'flywheel_gateway_predict_requests_total', help: 'Predict requests routed to a model version, failed ones included (a batch counts once)', labelNames, registers: [registry] }),
    rows: new client.Counter({ name: 'flywheel_gateway_predicted_rows_total', help: 'Rows predicted by a model version (every row of a batch counts)', labelNames, registers: [registry] }),
    errors: new client.Counter({ name: 'flywheel_gateway_predict_request_errors_total', help: 'Predict requests a model version failed (HTTP 500, injected faults included)', labelNames, registers: [registry] }),
    latency: new client.Histogram({
      name: 'flywheel_gateway_predict_request_duration_seconds',
      help: 'Time from request routed to response ready, per model version',
      labelNames,
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    inferenceRuns: new client.Counter({ name: 'flywheel_gateway_inference_runs_total', help: 'Model runs, by where they ran: inline (the event loop, small models) or thread (a session thread)', labelNames: ['place'] as const, registers: [registry] }),
    badRequests: new client.Counter({ name: 'flywheel_gateway_bad_requests_total', help: 'Requests refused with HTTP 400 or 404', labelNames: ['route'] as const, registers: [registry] }),
    // Stored in basis points (serving/routing.ts BUCKETS); exported as the 0-1 share of traffic.
    weight: new client.Gauge({ name: 'flywheel_gateway_traffic_weight_ratio', help: 'Share of its model\'s traffic a loaded version is served with (0-1)', labelNames, registers: [registry] }),
    loadFailures: new client.Counter({ name: 'flywheel_gateway_model_load_failures_total', help: 'Model versions that could not be loaded (not served)', labelNames, registers: [registry] }),
    reloadFailures: new client.Counter({ name: 'flywheel_gateway_reload_failures_total', help: 'Reloads of the deployment tables that failed (serving goes on with the last good state)', registers: [registry] }),
    bufferRows: new client.Gauge({ name: 'flywheel_gateway_prediction_buffer_rows', help: 'Predictions waiting to be written to PostgreSQL', registers: [registry] }),
    recorded: new client.Counter({ name: 'flywheel_gateway_prediction_rows_written_total', help: 'Prediction rows written to PostgreSQL', registers: [registry] }),
    batches: new client.Counter({ name: 'flywheel_gateway_prediction_insert_batches_total', help: 'INSERT statements that wrote predictions (one per batch)', registers: [registry] }),
    dropped: new client.Counter({ name: 'flywheel_gateway_prediction_rows_dropped_total', help: 'Prediction rows never written: the buffer was full, or shutdown could not write them', registers: [registry] }),
    recordFailures: new client.Counter({ name: 'flywheel_gateway_prediction_insert_failures_total', help: 'Batch writes of predictions that failed (the batch is retried)', registers: [registry] }),
    // Every batched writer (predictions, feedback, online_predictions), by the same names (serving/writer-health.ts).
    writerDeadLetters: new client.Counter({ name: 'flywheel_gateway_writer_dead_letters_total', help: 'Rows the database refused alone (data or constraint errors), isolated from their batch into dead_letters', labelNames: ['writer'] as const, registers: [registry] }),
    writerDropped: new client.Counter({ name: 'flywheel_gateway_writer_dropped_total', help: 'Rows a writer never wrote nor dead-lettered (buffer full, shutdown, dead letter not storable)', labelNames: ['writer'] as const, registers: [registry] }),
    writerFailures: new client.Counter({ name: 'flywheel_gateway_writer_failures_total', help: 'Writes that failed for a transient reason (connection, outage, timeout); their rows are retried', labelNames: ['writer'] as const, registers: [registry] }),
    writerOldestPending: new client.Gauge({ name: 'flywheel_gateway_writer_oldest_pending_seconds', help: 'Age of the oldest row waiting to be written (0 when none waits)', labelNames: ['writer'] as const, registers: [registry] }),
    featureRows: new client.Counter({
      name: 'flywheel_gateway_feature_rows_total',
      help: 'Served rows by what became of their features: logged, sampled-out, over-budget (serving/feature-logger.ts)',
      labelNames: ['model', 'decision'] as const,
      registers: [registry],
    }),
    shadowRows: new client.Counter({
      name: 'flywheel_gateway_shadow_rows_total',
      help: 'Rows a shadow version answered beside the serving version (never sent to the caller), by outcome',
      labelNames: ['model', 'version', 'outcome'] as const,
      registers: [registry],
    }),
    shadowDropped: new client.Counter({
      name: 'flywheel_gateway_shadow_dropped_rows_total',
      help: 'Rows picked for a shadow run that never ran: queue full, shadow version not loaded, other feature count, shutdown',
      labelNames: ['model', 'reason'] as const,
      registers: [registry],
    }),
    shadowQueue: new client.Gauge({ name: 'flywheel_gateway_shadow_queued_requests', help: 'Requests waiting for their shadow run', registers: [registry] }),
    // Per segment value of a caller's segment attribute, over the evidence window (serving/segment-gauges.ts).
    segmentBehind: new client.Gauge({ name: 'flywheel_gateway_segment_behind', help: 'Whether a segment falls behind the rest of its model\'s traffic by more than the margin, with anytime-valid evidence (1) or not (0)', labelNames: segmentLabels, registers: [registry] }),
    segmentEvidence: new client.Gauge({ name: 'flywheel_gateway_segment_evidence', help: 'E-value that a segment\'s error odds exceed (1 + margin)x the rest\'s; behind once it reaches 1/alpha', labelNames: segmentLabels, registers: [registry] }),
    segmentAccuracy: new client.Gauge({ name: 'flywheel_gateway_segment_accuracy_ratio', help: 'Share of a segment\'s labelled predictions served right (first label per prediction)', labelNames: segmentLabels, registers: [registry] }),
    segmentRestAccuracy: new client.Gauge({ name: 'flywheel_gateway_segment_rest_accuracy_ratio', help: 'The same share for the rest of the model\'s traffic, the segment\'s comparison', labelNames: segmentLabels, registers: [registry] }),
    segmentErrors: new client.Gauge({ name: 'flywheel_gateway_segment_error_ratio', help: 'Share of a segment\'s predictions that failed', labelNames: segmentLabels, registers: [registry] }),
    segmentCoverage: new client.Gauge({ name: 'flywheel_gateway_segment_label_coverage_ratio', help: 'Share of a segment\'s predictions that received a label', labelNames: segmentLabels, registers: [registry] }),
    segmentChecks: new client.Counter({ name: 'flywheel_gateway_segment_checks_total', help: 'Recomputations of the segment gauges, by outcome (ok, failed)', labelNames: ['outcome'] as const, registers: [registry] }),
    feedback: new client.Counter({ name: 'flywheel_gateway_feedback_items_stored_total', help: 'Feedback items stored (an item of a batch counts once), by kind', labelNames: ['kind'] as const, registers: [registry] }),
  };
}
