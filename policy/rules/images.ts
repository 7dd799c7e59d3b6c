// What runs is what was reviewed: no moving image tags, and the Istio chart at a fixed version.
import { describe, isHelmChart, isIstioChart, isWorkload, podContainers } from "./k8s";
import { commandScripts, isCommand, logicalLines } from "./shell";
import { at, Finding, isRecord, PolicyResource, ResourceRule, undetermined, UNKNOWN } from "./types";

/** A tag that moves: `latest`, or a name built on it such as `release-1.3-latest-daily`. */
export const isMovingTag = (tag: string): boolean => /(^|[-_.])latest([-_.]|$)/i.test(tag);

/**
 * The tag of an image reference, "" when it has none (Docker then pulls `latest`), or undefined
 * when it is pinned by digest. `registry:5000/a/b:1.2` → "1.2"; `a/b` → "".
 */
export function imageTag(ref: string): string | undefined {
    if (ref.includes("@sha256:")) return undefined;
    const lastSlash = ref.lastIndexOf("/");
    const colon = ref.indexOf(":", lastSlash + 1);
    return colon < 0 ? "" : ref.slice(colon + 1);
}

function imageFindings(where: string, ref: string): Finding[] {
    if (ref === UNKNOWN) return [undetermined(`${where}: its image is known only after pulumi up`)];
    const tag = imageTag(ref);
    if (tag === "") return [{ message: `${where}: image ${ref} has no tag, so it runs whatever \`latest\` is; pin a version` }];
    if (tag !== undefined && isMovingTag(tag)) return [{ message: `${where}: image ${ref} uses the moving tag ${tag}; pin a version` }];
    return [];
}

/** Every `tag` in the chart's values, and every `image` that carries one, with its path. */
function valueTags(values: unknown, path: string[] = []): Array<{ path: string; tag: string }> {
    if (!isRecord(values)) return [];
    const out: Array<{ path: string; tag: string }> = [];
    for (const [k, v] of Object.entries(values)) {
        const p = [...path, k];
        if (typeof v === "string" && k === "tag") out.push({ path: p.join("."), tag: v });
        else if (typeof v === "string" && k === "image" && v.includes(":")) out.push({ path: p.join("."), tag: imageTag(v) ?? "" });
        else out.push(...valueTags(v, p));
    }
    return out;
}

/**
 * `image:latest`-style references in a script (a pause image, `ctr pull`, a manifest sed): what
 * `/[a-z0-9][a-z0-9._/-]*:latest\b/gi` matches, found in linear time. That regex restarts at every
 * character of a long run of path characters (a base64 line of cloud-init, a URL), which made it
 * the costliest step of a prod plan's policy check: each `:latest` is found first, and its image
 * is the run of path characters before it, from the run's first letter or digit.
 */
export function latestReferences(text: string): string[] {
    const found: string[] = [];
    let end = 0; // where the previous reference ended: a reference never begins inside one
    for (const m of text.matchAll(/:latest\b/gi)) {
        let start = m.index;
        while (start > end && PATH_CHARACTER.test(text[start - 1])) start--;
        while (start < m.index && !/[a-z0-9]/i.test(text[start])) start++;
        if (start === m.index) continue;
        found.push(text.slice(start, m.index + m[0].length));
        end = m.index + m[0].length;
    }
    return found;
}
const PATH_CHARACTER = /[a-z0-9._/-]/i;

export const noLatestImage: ResourceRule = {
    kind: "resource",
    name: "no-latest-image",
    description: "No image runs from the tag `latest` (or none, or a tag built on `latest`): in workloads, in the Istio chart's values (global.tag set), and in the scripts the program runs.",
    enforcementLevel: "mandatory",
    appliesTo: (type) => isWorkload(type) || isHelmChart(type) || isCommand(type),
    check(r) {
        if (isWorkload(r.type)) {
            return podContainers(r).flatMap(({ container, where }) => imageFindings(`${describe(r)} ${where}`, String(container.image ?? "")));
        }
        if (isHelmChart(r.type)) return chartTagFindings(r);
        const findings: Finding[] = [];
        for (const { field, script } of commandScripts(r)) {
            for (const line of logicalLines(script)) {
                for (const m of latestReferences(line.text)) findings.push({ message: `${r.name} (${field}, line ${line.number}): image ${m} uses the moving tag latest; pin a version` });
            }
        }
        return findings;
    },
};

function chartTagFindings(chart: PolicyResource): Finding[] {
    const values = chart.props.values;
    if (values === UNKNOWN) return [undetermined(`the ${chart.name} chart's values are known only after pulumi up`)];
    const findings: Finding[] = [];
    if (isIstioChart(chart)) {
        const tag = at(values, "global", "tag");
        // The chart's values.yaml in the Istio repository at 1.3.3 says `tag: release-1.3-latest-daily`;
        // only the release build rewrites it. Say the version.
        if (typeof tag !== "string" || tag === "") findings.push({ message: `the ${chart.name} chart's values do not set global.tag: the images' tag is left to the chart; set it to the Istio version` });
    }
    for (const { path, tag } of valueTags(values)) {
        if (tag === UNKNOWN) findings.push(undetermined(`the ${chart.name} chart's ${path} is known only after pulumi up`));
        else if (tag === "" || isMovingTag(tag)) findings.push({ message: `the ${chart.name} chart's ${path} is "${tag}", a moving tag; pin a version` });
    }
    return findings;
}

/** An exact version, e.g. 1.3.3 (no range, no `v`-less wildcard, no pre-release channel). */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+$/;

export const istioChartPinned: ResourceRule = {
    kind: "resource",
    name: "istio-chart-pinned",
    description: "The Istio chart is installed at an exact version (a chart from a repository names it; a local chart is the release's verified package).",
    enforcementLevel: "mandatory",
    appliesTo: isHelmChart,
    check(chart) {
        if (!isIstioChart(chart)) return [];
        const version = chart.props.version;
        if (version === UNKNOWN) return [undetermined(`the ${chart.name} chart's version is known only after pulumi up`)];
        if (typeof chart.props.chart === "string") {
            if (typeof version !== "string" || !EXACT_VERSION.test(version)) {
                return [{ message: `the ${chart.name} chart (${chart.props.chart}) is not pinned: version ${version === undefined ? "is not set (Helm takes the newest)" : `"${String(version)}" is not an exact version such as 1.3.3`}` }];
            }
            const repo = at(chart.props, "fetchOpts", "repo") ?? chart.props.repositoryOpts;
            if (typeof repo === "string" && !repo.startsWith("https://")) return [{ message: `the ${chart.name} chart comes from ${repo}, not over https` }];
            return [];
        }
        // A chart by path is whatever is on disk: pinned only when the path names the version.
        const path = String(chart.props.path ?? "");
        if (!/(^|[^0-9])\d+\.\d+\.\d+([^0-9]|$)/.test(path)) return [{ message: `the ${chart.name} chart comes from the path ${path}, which names no version` }];
        return [];
    },
};
