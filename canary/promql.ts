// The canary's figures as PromQL over the metrics Istio 1.3.3 installs, and the reading of
// Prometheus' HTTP API answers. Pure: no I/O here.
//
// Facts from the Istio 1.3.3 charts (../shared/reference/istio-1.3.3/istio/charts/):
// - mixer/templates/config.yaml: the `requestcount` and `requestduration` metric instances
//   carry `reporter` ("destination" when the server-side proxy reports), `destination_service_name`,
//   `destination_service_namespace`, `destination_version` (destination.labels["version"] | "unknown")
//   and `response_code`; the prometheus handler exposes them as `requests_total` (COUNTER) and
//   `request_duration_seconds` (DISTRIBUTION, explicit buckets below), under the adapter's default
//   namespace "istio" (mixer/adapter/prometheus/prometheus.go, defaultNS), hence
//   `istio_requests_total` and `istio_request_duration_seconds_bucket`. Durations are observed in
//   seconds (promValue: time.Duration → Seconds()).
// - prometheus/values.yaml: scrapeInterval 15s, retention 6h; prometheus/templates/service.yaml:
//   Service `prometheus`, port 9090 (`http-prometheus`), in the release namespace istio-system.
// The chart's Prometheus is v2.8.0: only PromQL that 2.8 knows is used.

/** Bucket bounds of istio_request_duration_seconds in Istio 1.3.3 (mixer config.yaml, explicit_buckets). */
export const LATENCY_BUCKETS_SECONDS: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The chart's `prometheus.scrapeInterval`. */
export const PROMETHEUS_SCRAPE_INTERVAL_MS = 15_000;
/** The chart's `prometheus.retention`. */
export const PROMETHEUS_RETENTION_MS = 6 * 3_600_000;
/** Where the chart's Prometheus answers inside the cluster. */
export const PROMETHEUS_SERVICE = { namespace: "istio-system", name: "prometheus", port: 9090 } as const;

/** Which series are the canary's: the server-side reports of one service's pods of one version. */
export interface CanarySeries {
    readonly namespace: string;
    readonly service: string;
    /** The canary subset's `version` pod label. */
    readonly version: string;
}

export interface Queries {
    readonly requests: string;
    readonly successRate: string;
    readonly p99: string;
}

function quote(v: string): string {
    return JSON.stringify(v);
}

function selector(s: CanarySeries, extra = ""): string {
    return `{reporter="destination",destination_service_namespace=${quote(s.namespace)},destination_service_name=${quote(s.service)},destination_version=${quote(s.version)}${extra}}`;
}

/** The three queries over a window of whole seconds. */
export function canaryQueries(s: CanarySeries, windowSeconds: number): Queries {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new Error(`the window must be a whole number of seconds, got ${windowSeconds}`);
    const range = `[${windowSeconds}s]`;
    return {
        requests: `sum(increase(istio_requests_total${selector(s)}${range}))`,
        successRate: `100 * sum(rate(istio_requests_total${selector(s, ',response_code!~"5.*"')}${range})) / sum(rate(istio_requests_total${selector(s)}${range}))`,
        p99: `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_seconds_bucket${selector(s)}${range})))`,
    };
}

/** What one instant query gave: a number, nothing (no series, or NaN), or an error. */
export type QueryOutcome = { readonly value: number } | { readonly noData: true } | { readonly error: string };

/**
 * Reads a /api/v1/query answer (https://prometheus.io/docs/prometheus/latest/querying/api/):
 * `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[t,"1.5"]}]}}`,
 * or `{"status":"error","errorType":…,"error":…}`. Sample values are strings; "NaN" (0/0, or a
 * quantile of no observations) means no data.
 */
export function readQueryAnswer(httpStatus: number, body: string): QueryOutcome {
    let doc: { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: Array<{ value?: [number, string] }> } };
    try {
        doc = JSON.parse(body);
    } catch {
        return { error: `HTTP ${httpStatus}, not a Prometheus answer: ${body.slice(0, 200).trim()}` };
    }
    if (doc.status !== "success") return { error: `${doc.errorType ?? `HTTP ${httpStatus}`}: ${doc.error ?? "no error message"}` };
    const data = doc.data;
    if (!data || data.resultType !== "vector" || !Array.isArray(data.result)) return { error: `expected a vector, got ${data?.resultType ?? "nothing"}` };
    if (data.result.length === 0) return { noData: true };
    if (data.result.length > 1) return { error: `expected one series, got ${data.result.length}` };
    const v = Number(data.result[0].value?.[1]);
    return Number.isFinite(v) ? { value: v } : { noData: true };
}
