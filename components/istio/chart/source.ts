// Where the chart handed to Helm comes from: the released package, downloaded once from the
// chart repository (or a mirror), verified file by file against the pinned manifest,
// corrected (correction.ts) and kept in the user's cache, so that later previews and updates
// work offline. Nothing is written to the cache that did not verify.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileURLToPath } from "url";
import { MAX_PACKAGE_BYTES, readChartDir, readChartPackage, writeChartDir } from "./archive";
import { CHART_CORRECTIONS, correctChart } from "./correction";
import { ChartFiles, ChartManifest, manifestProblems } from "./manifest";
import { ISTIO_CHART, ISTIO_CHART_PACKAGE, ISTIO_VERSION, releaseRewrite } from "./release";
import pinned = require("./istio-1.3.3.manifest.json");

/** The pinned manifest of the released chart (test/istio.chart.test.ts derives it from the tagged source). */
export const ISTIO_CHART_MANIFEST: ChartManifest & { readonly corrected: Readonly<Record<string, string>> } = pinned;

/** The manifest of the chart as handed to Helm: the released one with the corrected files' digests. */
export function correctedManifest(m = ISTIO_CHART_MANIFEST): Record<string, string> {
    return { ...m.files, ...m.corrected };
}

export interface ChartSourceOptions {
    /** The chart repository: the release's, or a mirror (https://, http:// or file://). */
    readonly repository: string;
    /** Where the verified package and the corrected chart are kept. */
    readonly cacheDir: string;
    /** Never use the network (the offline plan): the chart comes from the cache or `taggedSource`. */
    readonly offline: boolean;
    /**
     * Offline only: the chart's source tree at the git tag (install/kubernetes/helm/istio), made
     * into the released chart with the release build's rewrites. Never used when a package is at hand.
     */
    readonly taggedSource?: string;
    /** Fetches a URL (replaced in tests). */
    readonly download?: (url: string) => Promise<Buffer>;
}

export type PreparedChart =
    | {
          readonly available: true;
          /** The directory handed to Helm (k8s.helm.v3.Chart `path`). */
          readonly path: string;
          readonly origin: "cache" | "download" | "tagged source";
      }
    | {
          readonly available: false;
          /** Where the chart would be. */
          readonly path: string;
          readonly reason: string;
      };

/** The cache root: $XDG_CACHE_HOME/oslo-mesh, else ~/.cache/oslo-mesh. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "oslo-mesh");
}

/** What `pulumi up` records as the chart's path: the same on every machine, whatever its cache directory. */
export function recordedChartPath(prepared: PreparedChart, cacheDir: string): string {
    const rel = path.relative(cacheDir, prepared.path);
    return rel.startsWith("..") || path.isAbsolute(rel) ? prepared.path : `<oslo-mesh cache>/${rel.split(path.sep).join("/")}`;
}

export function packageUrl(repository: string): string {
    return new URL(ISTIO_CHART_PACKAGE, repository.endsWith("/") ? repository : `${repository}/`).toString();
}

export async function downloadUrl(url: string): Promise<Buffer> {
    if (url.startsWith("file:")) return fs.readFileSync(fileURLToPath(url));
    const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${res.statusText}`);
    const length = Number(res.headers.get("content-length") ?? "0");
    if (length > MAX_PACKAGE_BYTES) throw new Error(`GET ${url}: ${length} bytes, more than a chart package holds`);
    return Buffer.from(await res.arrayBuffer());
}

/** Throws with every difference when the files are not the released chart's. */
export function verifyReleasedChart(files: ChartFiles, where: string): void {
    const problems = manifestProblems(files, ISTIO_CHART_MANIFEST.files);
    if (problems.length) {
        throw new Error(`${where} is not Istio ${ISTIO_VERSION}'s released ${ISTIO_CHART} chart; refusing to hand it to Helm:\n  ${problems.join("\n  ")}`);
    }
}

/** The tagged source tree made into the released chart, as the release build did (release.ts). */
export function chartFromTaggedSource(dir: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    for (const [file, content] of readChartDir(dir)) files.set(file, Buffer.from(releaseRewrite(file, content.toString("utf8"))));
    return files;
}

function verifiesAsCorrected(dir: string): boolean {
    try {
        return manifestProblems(readChartDir(dir), correctedManifest()).length === 0;
    } catch {
        return false;
    }
}

/** Writes the corrected chart to `dir`, replacing a stale one; a concurrent writer's good copy is kept. */
function installCorrected(dir: string, released: ChartFiles): void {
    const corrected = correctChart(released, CHART_CORRECTIONS);
    fs.rmSync(dir, { recursive: true, force: true });
    try {
        writeChartDir(dir, corrected);
    } catch (e) {
        if (!verifiesAsCorrected(dir)) throw e;
    }
}

/**
 * The chart for Helm: the corrected chart in the cache if it still verifies; else the cached
 * package, verified and corrected; else (online) the package downloaded from the repository,
 * verified before it is cached; else (offline) the tagged source, when given.
 */
export async function prepareIstioChart(opts: ChartSourceOptions): Promise<PreparedChart> {
    const home = path.join(opts.cacheDir, `${ISTIO_CHART}-${ISTIO_VERSION}`);
    const chartDir = path.join(home, "chart");
    const packageFile = path.join(home, ISTIO_CHART_PACKAGE);
    if (verifiesAsCorrected(chartDir)) return { available: true, path: chartDir, origin: "cache" };

    if (fs.existsSync(packageFile)) {
        const files = await readChartPackage(fs.readFileSync(packageFile), ISTIO_CHART, packageFile);
        verifyReleasedChart(files, packageFile);
        installCorrected(chartDir, files);
        return { available: true, path: chartDir, origin: "cache" };
    }

    if (!opts.offline) {
        const url = packageUrl(opts.repository);
        const archive = await (opts.download ?? downloadUrl)(url);
        const files = await readChartPackage(archive, ISTIO_CHART, url);
        verifyReleasedChart(files, url);
        fs.mkdirSync(home, { recursive: true });
        const partial = `${packageFile}.partial-${process.pid}`;
        fs.writeFileSync(partial, archive, { mode: 0o644 });
        fs.renameSync(partial, packageFile);
        installCorrected(chartDir, files);
        return { available: true, path: chartDir, origin: "download" };
    }

    if (opts.taggedSource && fs.existsSync(path.join(opts.taggedSource, "Chart.yaml"))) {
        const files = chartFromTaggedSource(opts.taggedSource);
        verifyReleasedChart(files, opts.taggedSource);
        const dir = path.join(home, "chart-from-tagged-source");
        if (!verifiesAsCorrected(dir)) installCorrected(dir, files);
        return { available: true, path: dir, origin: "tagged source" };
    }
    return {
        available: false,
        path: chartDir,
        reason: `no network allowed and no verified ${ISTIO_CHART_PACKAGE} in ${home}: run \`pulumi preview\` once with network access (it fetches ${packageUrl(opts.repository)}), or put the package there`,
    };
}
