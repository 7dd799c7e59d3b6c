// Where the tests find upstream artifacts, in one place: Istio 1.3.3's charts and the
// osloistio tool (Istio 1.3.3's own renderer, injector and validation).
//
// The chart handed to Helm is made by the program's own code (components/istio/chart): from
// ../shared/reference (the chart at the git tag, with the release build's rewrites), else from
// the user's chart cache (filled by a `pulumi preview`), else, only with
// OSLO_MESH_TEST_NETWORK=1, downloaded from the release's chart repository. Without any of
// them, the tests that need it skip and say how to get it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { defaultCacheDir, prepareIstioChart, PreparedChart } from "../components/istio/chart/source";
import { ISTIO_CHART_REPOSITORY } from "../components/istio/chart/release";

export const PROJECT_DIR = path.resolve(__dirname, "..");
export const SHARED_DIR = path.resolve(PROJECT_DIR, "..", "shared");
export const ISTIO_REFERENCE = path.join(SHARED_DIR, "reference", "istio-1.3.3");
export const ISTIO_TAGGED_CHART = path.join(ISTIO_REFERENCE, "istio");
export const OSLOISTIO_BIN = path.join(SHARED_DIR, "tools", "istio-1.3.3", "osloistio");

const GET_REFERENCE =
    "get it with: git clone --depth 1 --branch 1.3.3 https://github.com/istio/istio && mkdir -p ../shared/reference/istio-1.3.3 && cp -r istio/install/kubernetes/helm/istio istio/install/kubernetes/helm/istio-init ../shared/reference/istio-1.3.3/ (the project's CI lays ../shared beside the clone)";
const GET_OSLOISTIO = "build it as ../shared/tools/istio-1.3.3/README.md says (go build of src/main.go in an Istio 1.3.3 tree; the project's CI lays ../shared beside the clone)";
const GET_CHART = `or run \`pulumi preview\` once (it fetches and verifies ${ISTIO_CHART_REPOSITORY}istio-1.3.3.tgz into ${defaultCacheDir()}), or set OSLO_MESH_TEST_NETWORK=1 to let the tests fetch it`;

const reported = new Set<string>();
/** Skips the current test or suite, saying why once per reason (mocha prints no reason itself). */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
    if (!reported.has(reason)) {
        reported.add(reason);
        console.log(`      skipped: ${reason}`);
    }
    ctx.skip();
}

/** ../shared/reference/istio-1.3.3 (the charts at the git tag), or why not. */
export function istioReference(): { dir: string } | { skip: string } {
    return fs.existsSync(path.join(ISTIO_TAGGED_CHART, "Chart.yaml")) ? { dir: ISTIO_REFERENCE } : { skip: `no Istio 1.3.3 charts at ${ISTIO_REFERENCE}; ${GET_REFERENCE}` };
}

export function osloistio(): { bin: string } | { skip: string } {
    return fs.existsSync(OSLOISTIO_BIN) ? { bin: OSLOISTIO_BIN } : { skip: `no osloistio at ${OSLOISTIO_BIN}; ${GET_OSLOISTIO}` };
}

/** The osloistio binary, skipping the suite (with the reason) unless both it and ../shared/reference are here. */
export function osloistioWithReference(ctx: Mocha.Context): string {
    const tool = osloistio();
    if ("skip" in tool) skipBecause(ctx, tool.skip);
    const ref = istioReference();
    if ("skip" in ref) skipBecause(ctx, ref.skip);
    return tool.bin;
}

let testCache: string | undefined;
/** A cache directory of this test process's own (the user's cache is read, never written, unless the network is allowed). */
export function testCacheDir(): string {
    testCache ??= fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-test-cache-"));
    return testCache;
}

let chart: Promise<PreparedChart | { skip: string }> | undefined;
/** The corrected chart exactly as the program hands it to Helm, or why there is none. */
export function helmChart(): Promise<(PreparedChart & { available: true }) | { skip: string }> {
    chart ??= (async () => {
        if ("dir" in istioReference()) {
            return prepareIstioChart({ repository: ISTIO_CHART_REPOSITORY, cacheDir: testCacheDir(), offline: true, taggedSource: ISTIO_TAGGED_CHART });
        }
        const cached = await prepareIstioChart({ repository: ISTIO_CHART_REPOSITORY, cacheDir: defaultCacheDir(), offline: true });
        if (cached.available) return cached;
        if (process.env.OSLO_MESH_TEST_NETWORK === "1") return prepareIstioChart({ repository: ISTIO_CHART_REPOSITORY, cacheDir: defaultCacheDir(), offline: false });
        return { skip: `no Istio 1.3.3 chart: no ${ISTIO_REFERENCE}, nothing in ${defaultCacheDir()}; ${GET_REFERENCE}; ${GET_CHART}` };
    })();
    return chart as Promise<(PreparedChart & { available: true }) | { skip: string }>;
}

export interface Rendered {
    /** The multi-document YAML osloistio printed. */
    readonly text: string;
    readonly objects: Array<Record<string, any>>;
}

function run(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `osloistio render` of a chart directory with these values; throws with osloistio's error when a template fails. */
export function renderChart(bin: string, chartDir: string, values: unknown, opts: { kubeVersion?: string; namespace?: string; name?: string } = {}): Rendered {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-render-"));
    const valuesFile = path.join(dir, "values.yaml");
    fs.writeFileSync(valuesFile, jsyaml.dump(values ?? {}, { noRefs: true }));
    const r = run(bin, ["render", "-chart", chartDir, "-values", valuesFile, "-namespace", opts.namespace ?? "istio-system", "-name", opts.name ?? "istio", "-kube-version", opts.kubeVersion ?? "1.15.12"]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`osloistio render failed: ${r.stderr.trim()}`);
    const objects = (jsyaml.loadAll(r.stdout) as Array<Record<string, any> | null>).filter((o): o is Record<string, any> => !!o);
    return { text: r.stdout, objects };
}

/** `osloistio inject`: the workload as Istio 1.3.3's injector would change it, with the rendered chart's injector and mesh config. */
export function injectSidecar(bin: string, rendered: Rendered, workload: object): Record<string, any> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-inject-"));
    fs.writeFileSync(path.join(dir, "rendered.yaml"), rendered.text);
    fs.writeFileSync(path.join(dir, "workload.yaml"), jsyaml.dump(workload));
    const r = run(bin, ["inject", "-manifest", path.join(dir, "rendered.yaml"), "-f", path.join(dir, "workload.yaml")]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`osloistio inject failed: ${r.stderr.trim()}`);
    return (jsyaml.loadAll(r.stdout) as Array<Record<string, any> | null>).find((d) => !!d)!;
}

export interface Validation {
    readonly status: number | null;
    /** One line per document: "ok Kind ns/name", "invalid Kind ns/name: reason" or "skipped ...". */
    readonly lines: string[];
}

/** `osloistio validate` of Istio objects (each object one document). */
export function validateObjects(bin: string, objects: ReadonlyArray<object>): Validation {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-validate-"));
    const file = path.join(dir, "objects.yaml");
    fs.writeFileSync(file, objects.map((o) => jsyaml.dump(o, { noRefs: true })).join("---\n"));
    const r = run(bin, ["validate", file]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (r.status !== 0 && r.status !== 1) throw new Error(`osloistio validate failed: ${r.stderr.trim()}`);
    return { status: r.status, lines: r.stdout.split("\n").filter((l) => l.trim() !== "") };
}

/** `osloistio validate` of files as they are (e.g. the plan's kubernetes/ artifacts). */
export function validateFiles(bin: string, files: string[]): Validation {
    const r = run(bin, ["validate", ...files]);
    if (r.status !== 0 && r.status !== 1) throw new Error(`osloistio validate failed: ${r.stderr.trim()}`);
    return { status: r.status, lines: r.stdout.split("\n").filter((l) => l.trim() !== "") };
}
