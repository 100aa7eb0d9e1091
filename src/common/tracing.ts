import { OnApplicationShutdown } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, Tracer, trace } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AppConfig } from '../config/app-config';
import { TraceContext, continueTrace, parseTraceparent } from './request-context';

export interface RequestSpan {
  trace: TraceContext;
  end(attributes: Record<string, string | number | undefined>, status: number): void;
}

/**
 * Each request's span. With OTEL_EXPORTER_OTLP_ENDPOINT set, spans are real OpenTelemetry spans
 * exported over OTLP/HTTP; otherwise only their W3C ids exist, for headers and logs, and the
 * OpenTelemetry SDK is never loaded (it costs an instance about 15 MB).
 */
export class Tracing implements OnApplicationShutdown {
  private readonly tracer?: Tracer;

  private constructor(private readonly provider?: BasicTracerProvider) {
    this.tracer = provider?.getTracer('task-control-api');
  }

  static async fromConfig(config: AppConfig): Promise<Tracing> {
    const { endpoint, serviceName } = config.otel;
    if (!endpoint) return new Tracing();
    const [{ OTLPTraceExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
    ]);
    return new Tracing(
      new sdk.BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': serviceName }),
        spanProcessors: [
          new sdk.BatchSpanProcessor(
            new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
          ),
        ],
      }),
    );
  }

  startRequest(method: string, traceparent: string | undefined): RequestSpan {
    const caller = parseTraceparent(traceparent);
    if (!this.tracer) return { trace: continueTrace(caller), end: () => undefined };
    const parent = caller
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: caller.traceId,
          spanId: caller.spanId,
          traceFlags: Number.parseInt(caller.flags, 16),
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(`HTTP ${method}`, { kind: SpanKind.SERVER }, parent);
    const { traceId, spanId, traceFlags } = span.spanContext();
    return {
      trace: { traceId, spanId, flags: traceFlags.toString(16).padStart(2, '0') },
      end: (attributes, status) => {
        for (const [key, value] of Object.entries(attributes)) {
          if (value !== undefined) span.setAttribute(key, value);
        }
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.updateName(`${method} ${String(attributes['http.route'] ?? '')}`);
        span.end();
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}
