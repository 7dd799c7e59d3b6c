// Resources for the policy rules' tests, built from the program's own renders where it has them,
// and the Istio 1.3.3 renderer (../shared/tools) for what the chart would create.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { bashCommand } from "../components/shared/script";
import { MeshObject } from "../components/mesh/render";
import { Environment, Finding, PolicyResource, Rule, StackFacts } from "../policy/rules";
import { PROJECT_DIR, REFERENCE_DIR } from "./harness";

export const OSLOISTIO = path.resolve(PROJECT_DIR, "..", "shared", "tools", "istio-1.3.3", "osloistio");
export const ISTIO_CHART = path.join(REFERENCE_DIR, "istio-1.3.3", "istio");
export const haveIstioTools = (): boolean => fs.existsSync(OSLOISTIO) && fs.existsSync(ISTIO_CHART);

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::oslo-mesh::${type}::${name}`;

/** A Kubernetes object as @pulumi/kubernetes registers it. */
export function k8sResource(obj: { apiVersion: string; kind: string; metadata: { name: string } } | MeshObject, stack = "prod"): PolicyResource {
    const type = `kubernetes:${obj.apiVersion.includes("/") ? obj.apiVersion : `core/${obj.apiVersion}`}:${obj.kind}`;
    return { type, name: obj.metadata.name, urn: urn(stack, type, obj.metadata.name), props: JSON.parse(JSON.stringify(obj)), secretOutputs: [] };
}

/** A remote command running `script` the way KubeadmCluster runs its scripts (create and update alike). */
export function commandResource(name: string, script: string, opts: { logging?: string; secretOutputs?: string[]; stack?: string } = {}): PolicyResource {
    const type = "command:remote:Command";
    const create = bashCommand(script, { sudo: true });
    return {
        type,
        name,
        urn: urn(opts.stack ?? "prod", type, name),
        props: { create, update: create, ...(opts.logging ? { logging: opts.logging } : {}) },
        secretOutputs: opts.secretOutputs ?? [],
    };
}

export function chartResource(values: unknown, props: Record<string, unknown> = {}): PolicyResource {
    const type = "kubernetes:helm.sh/v3:Chart";
    return { type, name: "istio", urn: urn("prod", type, "istio"), props: { chart: "istio", version: "1.3.3", values, ...props }, secretOutputs: [] };
}

export function facts(environment: Environment | undefined, more: Partial<StackFacts> = {}): StackFacts {
    return { stack: environment ?? "qa", environment, clusterDomain: "cluster.local", today: "2026-06-15", ...more };
}

/** What a rule reports, violations only (not what it could not check). */
export function violations(rule: Rule, resources: PolicyResource[], f: StackFacts = facts("prod")): string[] {
    const found: Finding[] = rule.kind === "resource" ? resources.filter((r) => rule.appliesTo(r.type)).flatMap((r) => rule.check(r)) : rule.check(resources, f);
    return found.filter((x) => !x.undetermined).map((x) => x.message);
}

/** The objects the Istio 1.3.3 chart renders with these values, by Istio's own renderer. */
export function renderIstioChart(values: unknown): Array<{ apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-values-")), "values.yaml");
    fs.writeFileSync(file, jsyaml.dump(values));
    const r = spawnSync(OSLOISTIO, ["render", "-chart", ISTIO_CHART, "-values", file, "-namespace", "istio-system", "-name", "istio", "-kube-version", "1.15.12"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`osloistio render failed: ${r.stderr}`);
    return (jsyaml.loadAll(r.stdout) as Array<Record<string, any> | null>).filter((d): d is any => !!d && typeof d.kind === "string");
}
