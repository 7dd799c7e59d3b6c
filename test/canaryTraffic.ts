// Real components for the canary tests: Istio 1.3-shaped traffic served by an exporter on
// loopback, its history backfilled with promtool, and a real Prometheus scraping it.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { LATENCY_BUCKETS_SECONDS } from "../canary/promql";
// ---------------------------------------------------------------------------------------------
// Traffic: each flow is one workload version of one service, as one reporter sees it, with
// phases of constant request rate, 5xx share and latency (point masses in seconds).

export type Latency = ReadonlyArray<readonly [seconds: number, share: number]>;
export interface Phase {
    /** Seconds relative to the harness's time zero (T0) at which the phase starts. */
    readonly from: number;
    readonly rps: number;
    readonly errorShare: number;
    readonly latency: Latency;
}
export interface Flow {
    readonly namespace: string;
    readonly service: string;
    readonly version: string;
    readonly reporter: "destination" | "source";
    readonly phases: ReadonlyArray<Phase>;
}

/** p99 in the (0.05, 0.1] bucket: about 97ms once Prometheus interpolates. */
export const FAST: Latency = [
    [0.02, 0.6],
    [0.04, 0.3],
    [0.08, 0.095],
    [0.2, 0.005],
];
/** 5% of requests take 4s: the p99 lands in the (2.5, 5] bucket. */
export const SLOW: Latency = [
    [0.02, 0.57],
    [0.04, 0.285],
    [0.08, 0.09],
    [0.2, 0.005],
    [4, 0.05],
];

/** Series start 20 minutes before T0 (twice the longest window the tests read); the history is backfilled from there, every 30s. */
export const HISTORY_SECONDS = 1200;

/** Requests of one response class in [T0 - HISTORY, T0 + t], by integrating the phases. */
function integral(flow: Flow, t: number, perPhase: (p: Phase) => number): number {
    let total = 0;
    flow.phases.forEach((p, i) => {
        const start = Math.max(p.from, -HISTORY_SECONDS);
        const end = Math.min(t, i + 1 < flow.phases.length ? flow.phases[i + 1].from : Infinity);
        if (end > start) total += (end - start) * perPhase(p);
    });
    return total;
}

const LABEL_DEFAULTS = (f: Flow, code: string): Record<string, string> => ({
    // Every dimension of Istio 1.3.3's requestcount/requestduration instances (charts/mixer/templates/config.yaml).
    reporter: f.reporter,
    source_app: "productpage",
    source_principal: "cluster.local/ns/bookinfo/sa/bookinfo-productpage",
    source_workload: "productpage-v1",
    source_workload_namespace: "bookinfo",
    source_version: "v1",
    destination_app: f.service,
    destination_principal: `cluster.local/ns/${f.namespace}/sa/bookinfo-${f.service}`,
    destination_workload: `${f.service}-${f.version}`,
    destination_workload_namespace: f.namespace,
    destination_version: f.version,
    destination_service: `${f.service}.${f.namespace}.svc.cluster.local`,
    destination_service_name: f.service,
    destination_service_namespace: f.namespace,
    request_protocol: "http",
    response_code: code,
    response_flags: "-",
    permissive_response_code: "none",
    permissive_response_policyid: "none",
    connection_security_policy: f.reporter === "destination" ? "mutual_tls" : "unknown",
});

function labelText(labels: Record<string, string>): string {
    return Object.entries(labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",");
}

interface Sample {
    readonly name: string;
    readonly labels: Record<string, string>;
    readonly value: number;
}

/** The samples of istio_requests_total and istio_request_duration_seconds at T0 + t. */
function samplesAt(flows: ReadonlyArray<Flow>, t: number, extra: Record<string, string>): { requests: Sample[][]; durations: Sample[][] } {
    const requests: Sample[][] = [];
    const durations: Sample[][] = [];
    for (const f of flows) {
        for (const [code, share] of [
            ["200", (p: Phase) => 1 - p.errorShare],
            ["503", (p: Phase) => p.errorShare],
        ] as const) {
            const labels = { ...LABEL_DEFAULTS(f, code), ...extra };
            const count = integral(f, t, (p) => p.rps * share(p));
            requests.push([{ name: "istio_requests_total", labels, value: count }]);
            const point: Sample[] = LATENCY_BUCKETS_SECONDS.map((le) => ({
                name: "istio_request_duration_seconds_bucket",
                labels: { ...labels, le: String(le) },
                value: integral(f, t, (p) => p.rps * share(p) * p.latency.filter(([s]) => s <= le).reduce((a, [, w]) => a + w, 0)),
            }));
            point.push({ name: "istio_request_duration_seconds_bucket", labels: { ...labels, le: "+Inf" }, value: count });
            point.push({ name: "istio_request_duration_seconds_sum", labels, value: integral(f, t, (p) => p.rps * share(p) * p.latency.reduce((a, [s, w]) => a + s * w, 0)) });
            point.push({ name: "istio_request_duration_seconds_count", labels, value: count });
            durations.push(point);
        }
    }
    return { requests, durations };
}

const line = (s: Sample, ts?: number) => `${s.name}{${labelText(s.labels)}} ${s.value}${ts === undefined ? "" : ` ${ts.toFixed(3)}`}`;

/**
 * What Mixer's Prometheus adapter serves on :42422/metrics, in the text format 0.0.4 that
 * client_golang's promhttp writes: HELP and TYPE per family, then the samples.
 */
export function exposition(flows: ReadonlyArray<Flow>, t: number): string {
    const { requests, durations } = samplesAt(flows, t, {});
    return [
        "# HELP istio_requests_total requests_total",
        "# TYPE istio_requests_total counter",
        ...requests.flat().map((s) => line(s)),
        "# HELP istio_request_duration_seconds request_duration_seconds",
        "# TYPE istio_request_duration_seconds histogram",
        ...durations.flat().map((s) => line(s)),
        "",
    ].join("\n");
}

/** The same series as OpenMetrics for `promtool tsdb create-blocks-from openmetrics`, every `step` seconds up to T0. */
export function openMetricsHistory(flows: ReadonlyArray<Flow>, t0Seconds: number, step: number, extra: Record<string, string>): string {
    const times: number[] = [];
    for (let t = -HISTORY_SECONDS + step; t <= 0; t += step) times.push(t);
    const perTime = times.map((t) => samplesAt(flows, t, extra));
    const out: string[] = ["# TYPE istio_requests counter"];
    // A Metric's points stay together, oldest first.
    perTime[0].requests.forEach((_, k) => perTime.forEach((s, i) => out.push(line(s.requests[k][0], t0Seconds + times[i]))));
    out.push("# TYPE istio_request_duration_seconds histogram");
    perTime[0].durations.forEach((_, k) => perTime.forEach((s, i) => s.durations[k].forEach((x) => out.push(line(x, t0Seconds + times[i])))));
    out.push("# EOF", "");
    return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Processes on loopback.

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface Exporter {
    readonly port: number;
    readonly scrapes: () => number;
    close(): Promise<void>;
}

export async function startExporter(flows: ReadonlyArray<Flow>, t0Ms: number): Promise<Exporter> {
    let scrapes = 0;
    const server = http.createServer((req, res) => {
        if (req.url !== "/metrics") {
            res.writeHead(404).end();
            return;
        }
        scrapes++;
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(exposition(flows, (Date.now() - t0Ms) / 1000));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, scrapes: () => scrapes, close: () => new Promise((r) => server.close(() => r())) };
}

export interface Prometheus {
    readonly url: string;
    readonly dir: string;
    query(q: string): Promise<any>;
    stop(): Promise<void>;
}

/** The Istio chart's scrape job name for Mixer's metrics (charts/prometheus/templates/configmap.yaml). */
export const SCRAPE_JOB = "istio-mesh";

async function getJson(url: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
        http.get(url, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => {
                try {
                    resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) });
                } catch {
                    resolve({ status: res.statusCode ?? 0, body });
                }
            });
        }).on("error", reject);
    });
}

/** Backfills the history into a fresh TSDB, then starts Prometheus on it, scraping the exporter every second. */
export async function startPrometheus(flows: ReadonlyArray<Flow>, t0Ms: number, exporterPort: number): Promise<Prometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-prometheus-"));
    const data = path.join(dir, "data");
    const instance = `127.0.0.1:${exporterPort}`;
    fs.writeFileSync(path.join(dir, "history.om"), openMetricsHistory(flows, t0Ms / 1000, 30, { job: SCRAPE_JOB, instance }));
    const backfill = spawnSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", "--quiet", path.join(dir, "history.om"), data], { encoding: "utf8" });
    if (backfill.status !== 0) throw new Error(`promtool failed: ${backfill.stderr}${backfill.stdout}`);
    fs.writeFileSync(
        path.join(dir, "prometheus.yml"),
        [
            "global:",
            "  scrape_interval: 1s",
            "  scrape_timeout: 1s",
            "scrape_configs:",
            `  - job_name: ${SCRAPE_JOB}`,
            "    static_configs:",
            `      - targets: ["${instance}"]`,
            "",
        ].join("\n"),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc: ChildProcess = spawn(
        "prometheus",
        [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr!.on("data", (c) => (stderr += c));
    // Never outlive the tests, even when mocha is cut short before its after hooks.
    const killOnExit = () => proc.kill("SIGKILL");
    process.once("exit", killOnExit);
    const exited = new Promise<void>((r) =>
        proc.once("exit", () => {
            process.removeListener("exit", killOnExit);
            r();
        }),
    );
    const prom: Prometheus = {
        url,
        dir,
        query: async (q) => (await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).body,
        stop: async () => {
            if (proc.exitCode === null) proc.kill("SIGTERM");
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    // Ready, and the exporter scraped at least once.
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${stderr}`);
        if (Date.now() > deadline) {
            await prom.stop();
            throw new Error(`prometheus did not scrape the exporter within 30s: ${stderr}`);
        }
        try {
            const up = await prom.query(`up{job="${SCRAPE_JOB}"}`);
            if (up?.data?.result?.[0]?.value?.[1] === "1") return prom;
        } catch {
            /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 200));
    }
}
