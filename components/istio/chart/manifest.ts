// What "this is Istio 1.3.3's chart" means, file by file. The released package's own sha256
// cannot be pinned here (it is not published beside the package, and no copy was at hand to
// compute it), so the program pins what decides the rendering instead: every template, every
// file a template reads, the values, the requirements and the chart identities, as digests
// computed from the chart at the git tag with the release build's rewrites (release.ts).
// test/istio.chart.test.ts recomputes the pinned manifest from ../shared/reference.
import * as crypto from "crypto";
import * as jsyaml from "js-yaml";

/** A chart's files by path relative to the chart's root (e.g. `charts/pilot/templates/deployment.yaml`). */
export type ChartFiles = ReadonlyMap<string, Buffer>;

export interface ChartManifest {
    readonly chart: string;
    readonly version: string;
    /** Where the digests come from, for people. */
    readonly source: string;
    /** Digest of each pinned file's canonical content (canonicalContent), as released. */
    readonly files: Readonly<Record<string, string>>;
}

/**
 * Files of the package that Helm never renders or reads: documentation, licence, ignore rules
 * and example value sets that a user would have to pass by hand. They are neither pinned nor
 * refused. Every other file of the package must be pinned.
 */
const UNRENDERED = /^(?:charts\/[^/]+\/)?(?:README\.md|LICENSE|\.helmignore)$|^(?:values-istio-[^/]+\.yaml|example-values\/.+|test-values\/.+)$/;

export function isPinned(file: string): boolean {
    return !UNRENDERED.test(file);
}

/**
 * The part of a file that must match, as bytes. Chart.yaml: Helm v2's `helm package` writes it
 * anew from its parsed fields, so only what templates read of it is compared (apiVersion, name,
 * version, appVersion). The root values.yaml: the `global.hub` line names the registry the
 * release pushed to, which the program always overrides; it is compared without its value.
 */
export function canonicalContent(file: string, content: Buffer): Buffer {
    if (file === "Chart.yaml" || /^charts\/[^/]+\/Chart\.yaml$/.test(file)) {
        const c = (jsyaml.load(content.toString("utf8")) ?? {}) as Record<string, unknown>;
        return Buffer.from(JSON.stringify([c.apiVersion ?? null, c.name ?? null, c.version ?? null, c.appVersion ?? null]));
    }
    if (file === "values.yaml") return Buffer.from(content.toString("utf8").replace(/^( {2}hub: ).*$/m, "$1<release registry>"));
    return content;
}

export function digest(content: Buffer): string {
    return crypto.createHash("sha256").update(content).digest("hex");
}

/** The manifest of a chart's files: a digest per pinned file. */
export function manifestOf(files: ChartFiles): Record<string, string> {
    const out: Record<string, string> = {};
    for (const file of [...files.keys()].filter(isPinned).sort()) out[file] = digest(canonicalContent(file, files.get(file)!));
    return out;
}

/**
 * Every way the files differ from the manifest: a pinned file missing or different, or a file
 * Helm would load that the release does not have. Empty means the chart is the release's.
 */
export function manifestProblems(files: ChartFiles, pinned: Readonly<Record<string, string>>): string[] {
    const problems: string[] = [];
    const actual = manifestOf(files);
    for (const [file, want] of Object.entries(pinned)) {
        if (!(file in actual)) problems.push(`${file} is missing`);
        else if (actual[file] !== want) problems.push(`${file} differs (sha256 ${actual[file]}, expected ${want})`);
    }
    for (const file of Object.keys(actual)) if (!(file in pinned)) problems.push(`${file} is not in the release`);
    return problems;
}
