/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard variable; spans
 * go to `<endpoint>/v1/traces` as OTLP over HTTP, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given).
 * Off, nothing is registered and every tracer is OpenTelemetry's no-op one: no cost, and workflow
 * code and histories are exactly as without tracing.
 *
 * On, one trace follows a request through every process: the CLI's command span → the workflow
 * client's StartWorkflow (its context travels in the workflow's headers) → RunWorkflow in the
 * workflow worker (spans leave the sandbox through a sink) → StartActivity → RunActivity in the
 * activity pools; and a gateway request continues the caller's W3C `traceparent`.
 */
import { createRequire } from 'node:module';
import { context, propagation, SpanKind, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';

// The SDK, the exporter and Temporal's interceptors are loaded only when tracing is on: about
// 0.4 s of module loading that every CLI command and process start would pay for nothing.
const load = createRequire(import.meta.url);
type Interceptors = typeof import('@temporalio/interceptors-opentelemetry');

export const TRACER_NAME = 'flywheel';

export interface Tracing {
  interceptors: Interceptors;
  resource: Resource;
  processor: SpanProcessor;
  tracer: Tracer;
  /** Sends what is buffered (a CLI command ends before the batch interval). */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Registers the process's tracer provider once (a no-op without an endpoint); returns it when on. */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (active || !tracingEnabled(env)) return active;
  const { Resource } = load('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor } = load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { NodeTracerProvider } = load('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { W3CTraceContextPropagator } = load('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const resource = new Resource({ 'service.name': service, 'service.namespace': 'flywheel' });
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself.
  const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const interceptors = load('@temporalio/interceptors-opentelemetry') as Interceptors;
  active = { interceptors, resource, processor, tracer: trace.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() };
  return active;
}

/** Interceptors for a Temporal client: its calls become spans whose context the workflow inherits. */
export function clientTracingInterceptors(): ClientInterceptors | undefined {
  return active ? { workflow: [new active.interceptors.OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** What an activity worker adds: each activity runs in a span continuing its workflow's. */
export function activityTracingOptions(): Pick<WorkerOptions, 'interceptors'> {
  if (!active) return {};
  const { OpenTelemetryActivityInboundInterceptor: Inbound, OpenTelemetryActivityOutboundInterceptor: Outbound } = active.interceptors;
  return { interceptors: { activity: [(ctx) => ({ inbound: new Inbound(ctx), outbound: new Outbound(ctx) })] } };
}

/** What the workflow worker adds: the sink its sandboxed interceptors export spans through. */
export function workflowTracingOptions(): Pick<WorkerOptions, 'sinks'> {
  if (!active) return {};
  return { sinks: { exporter: active.interceptors.makeWorkflowExporter(active.processor, active.resource) } };
}

/** The workflow-side interceptor module, bundled only when tracing is on. */
export function workflowTracingModules(): string[] {
  return active || tracingEnabled() ? [load.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : [];
}

/** Runs `fn` in a span (a CLI command, a gateway request), continuing `carrier`'s traceparent if any. */
export async function inSpan<T>(name: string, fn: (span: Span) => Promise<T>, carrier?: Record<string, unknown>): Promise<T> {
  const tracer = active?.tracer ?? trace.getTracer(TRACER_NAME);
  const parent = carrier ? propagation.extract(context.active(), carrier) : context.active();
  return tracer.startActiveSpan(name, {}, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      throw err;
    } finally {
      span.end();
    }
  });
}

interface TracedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, unknown>;
  routeOptions: { url?: string };
}

/**
 * A server span per gateway request (fastify hooks), continuing the caller's `traceparent`; only
 * when tracing is on. Named by route pattern, not path, so predictions of every model group.
 */
export function traceHttpRequests(app: {
  addHook(name: 'onRequest', hook: (req: TracedRequest) => Promise<void>): unknown;
  addHook(name: 'onResponse', hook: (req: TracedRequest, reply: { statusCode: number }) => Promise<void>): unknown;
}): void {
  if (!active) return;
  const tracer = active.tracer;
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', async (req) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} ${req.routeOptions.url ?? 'unmatched'}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.url.split('?')[0]!, 'flywheel.request_id': req.id } },
      parent,
    );
    spans.set(req, span);
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = spans.get(req);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    span.end();
  });
}
