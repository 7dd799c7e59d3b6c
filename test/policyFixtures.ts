// Resources for the policy rules' tests, built from the program's own renders where it has them.
import { bashCommand } from "../components/shared/script";
import { MeshObject } from "../components/mesh/render";
import { Environment, Finding, PolicyResource, Rule, StackFacts } from "../policy/rules";

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
