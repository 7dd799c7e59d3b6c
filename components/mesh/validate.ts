// Rules for mTLS, canary routes and the ingress: what Istio 1.3.3, the API server or Pulumi
// would refuse (grammar.ts, names.ts) is refused here first, with the config key.
import { Path, Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { durationMs } from "../shared/duration";
import { headerNameProblem, hostsOverlap, ingressHostProblem, labelProblem, retryOnProblem } from "./grammar";
import { derivedNames } from "./names";

type MeshCfg = Pick<StackConfig, "environment" | "mesh" | "canaries" | "istio" | "kubernetes">;

/** Namespaces prod never lets accept plaintext. */
export const PROD_NO_PLAINTEXT = ["istio-system", "kube-system"];

/** A lowercase DNS-1123 label, as namespaces and services are named. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Kubernetes object names the program derives are kept to a DNS label's 63 characters (a Gateway's must be one). */
export const MAX_DERIVED_NAME = 63;

export function checkMesh(cfg: Omit<MeshCfg, "kubernetes">, p: Problems): void {
    checkMtls(cfg, p);
    checkCanaries(cfg, p);
    checkIngress(cfg, p);
}

function checkMtls(cfg: Omit<MeshCfg, "kubernetes">, p: Problems): void {
    const { mtls } = cfg.mesh;
    if (cfg.environment === "prod" && mtls.mode !== "STRICT") {
        p.add(["mesh", "mtls", "mode"], `prod requires STRICT mTLS, got ${mtls.mode}`);
    }
    const exceptionKeys = new Set<string>();
    mtls.exceptions.forEach((e, i) => {
        const at = ["mesh", "mtls", "exceptions", i];
        if (e.namespace.trim() === "") p.add([...at, "namespace"], "an exception must name a namespace (and optionally a service in it)");
        else if (!DNS_LABEL.test(e.namespace)) p.add([...at, "namespace"], `${JSON.stringify(e.namespace)} is not a namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)`);
        if (e.service !== undefined && e.service.trim() === "") p.add([...at, "service"], "names no service; remove it to except the whole namespace");
        else if (e.service !== undefined && !DNS_LABEL.test(e.service)) p.add([...at, "service"], `${JSON.stringify(e.service)} is not a service name (a DNS-1123 label: lowercase letters, digits and '-', at most 63)`);
        // prod: the control plane's and Kubernetes' own namespaces never accept plaintext.
        if (cfg.environment === "prod" && PROD_NO_PLAINTEXT.includes(e.namespace)) {
            p.add([...at, "namespace"], `prod refuses a plaintext exception for ${e.namespace}: its traffic carries the mesh's and the cluster's own credentials`);
        }
        const key = `${e.namespace}/${e.service ?? "*"}`;
        if (exceptionKeys.has(key)) p.add(at, `duplicate exception ${key}`);
        exceptionKeys.add(key);
    });
    if (mtls.exceptions.length > 0 && mtls.mode === "DISABLE") p.add(["mesh", "mtls", "exceptions"], "exceptions have no meaning while mtls.mode is DISABLE");
}

function checkCanaries(cfg: Omit<MeshCfg, "kubernetes">, p: Problems): void {
    const injected = new Set(cfg.istio.injectNamespaces);
    const hosts = new Map<string, number>();
    cfg.canaries.forEach((c, i) => {
        const at = (...rest: Array<string | number>) => ["canaries", i, ...rest];
        const host = `${c.service}.${c.namespace}`;
        if (hosts.has(host)) p.add(at("service"), `the host ${host} is already routed by canaries[${hosts.get(host)}]`);
        else hosts.set(host, i);
        if (!injected.has(c.namespace)) p.add(at("namespace"), `${c.namespace} has no sidecar injection, so no proxy would apply the route; add it to istio.injectNamespaces`);

        if (c.subsets.length === 0) p.add(at("subsets"), "expected at least one subset");
        const subsetNames = new Set<string>();
        c.subsets.forEach((s, k) => {
            if (subsetNames.has(s.name)) p.add(at("subsets", k, "name"), `duplicate subset name "${s.name}"`);
            subsetNames.add(s.name);
            if (Object.keys(s.labels).length === 0) p.add(at("subsets", k, "labels"), "expected at least one label to select the subset's pods, such as {version: v1}");
            for (const [key, value] of Object.entries(s.labels)) {
                const problem = labelProblem(key, value);
                if (problem) p.add(at("subsets", k, "labels", key), problem);
            }
        });

        const weights = Object.entries(c.weights);
        if (weights.length === 0) p.add(at("weights"), "expected a weight per subset, such as {v1: 90, v2: 10}");
        let sum = 0;
        let allIntegers = true;
        for (const [name, w] of weights) {
            if (!subsetNames.has(name)) p.add(at("weights", name), `routes to subset "${name}", which the DestinationRule does not define (subsets: ${[...subsetNames].join(", ")})`);
            if (!Number.isInteger(w) || w < 0 || w > 100) {
                p.add(at("weights", name), `must be an integer from 0 to 100, got ${w}`);
                allIntegers = false;
            }
            sum += w;
        }
        if (weights.length > 0 && allIntegers && sum !== 100) p.add(at("weights"), `must sum to 100, got ${sum}`);

        if (c.match && !subsetNames.has(c.match.subset)) p.add(at("match", "subset"), `"${c.match.subset}" is not a subset of this canary (subsets: ${[...subsetNames].join(", ")})`);
        if (c.match && Object.keys(c.match.headers).length === 0) p.add(at("match", "headers"), "expected at least one header to match");
        for (const name of Object.keys(c.match?.headers ?? {})) {
            const problem = headerNameProblem(name);
            if (problem) p.add(at("match", "headers", name), problem);
        }

        if (c.retries) {
            if (c.retries.retryOn !== undefined) {
                const problem = retryOnProblem(c.retries.retryOn);
                if (problem) p.add(at("retries", "retryOn"), problem);
            }
            const timeout = c.timeout === undefined ? undefined : durationMs(c.timeout);
            if (timeout === undefined) p.add(at("timeout"), "required with retries: attempts × perTryTimeout must fit in the route timeout");
            else {
                const total = c.retries.attempts * durationMs(c.retries.perTryTimeout);
                if (total > timeout) p.add(at("retries"), `${c.retries.attempts} attempts × ${c.retries.perTryTimeout} = ${total}ms exceeds the route timeout ${c.timeout}`);
            }
        }
    });
}

function checkIngress(cfg: Omit<MeshCfg, "kubernetes">, p: Problems): void {
    const ing = cfg.mesh.ingress;
    if (!ing) return;
    const injected = new Set(cfg.istio.injectNamespaces);
    if (!injected.has(ing.namespace)) p.add(["mesh", "ingress", "namespace"], `${ing.namespace} has no sidecar injection; add it to istio.injectNamespaces`);
    ing.hosts.forEach((h, k) => {
        const problem = ingressHostProblem(h);
        if (problem) {
            p.add(["mesh", "ingress", "hosts", k], problem);
            return;
        }
        const earlier = ing.hosts.findIndex((o, j) => j < k && ingressHostProblem(o) === undefined && hostsOverlap(o, h));
        if (earlier >= 0) {
            const o = ing.hosts[earlier];
            p.add(["mesh", "ingress", "hosts", k], o === h ? `repeats hosts[${earlier}]` : `${JSON.stringify(h)} overlaps hosts[${earlier}] ${JSON.stringify(o)}: Istio refuses a VirtualService whose hosts cover each other; keep the wider one`);
        }
    });
    (ing.uris ?? []).forEach((u, k) => {
        const [kind, value] = Object.entries(u)[0];
        if (value === "") p.add(["mesh", "ingress", "uris", k, kind], "cannot be empty");
        else if (kind !== "regex" && !value.startsWith("/")) p.add(["mesh", "ingress", "uris", k, kind], `a path starts with "/", got ${JSON.stringify(value)}`);
    });
}

/**
 * Two entries must not derive the same Kubernetes object or the same Pulumi resource, and a
 * derived name must stay within 63 characters. (It needs kubernetes.clusterDomain, so it runs
 * as a rule of its own: a broken kubernetes section does not hide checkMesh's problems.)
 */
export function checkDerivedNames(cfg: MeshCfg, p: Problems): void {
    const objects = new Map<string, Path>();
    const resources = new Map<string, Path>();
    const where = (path: Path) => path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
    for (const d of derivedNames(cfg)) {
        const o = d.object;
        const id = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
        if (o.metadata.name.length > MAX_DERIVED_NAME) p.add(d.path, `derives the ${id}, a name of ${o.metadata.name.length} characters (at most ${MAX_DERIVED_NAME}): use shorter names`);
        const sameObject = objects.get(id);
        const sameResource = resources.get(d.resource);
        if (sameObject && where(sameObject) !== where(d.path)) p.add(d.path, `derives the ${id}, which ${where(sameObject)} derives too: one would overwrite the other`);
        else if (sameResource && where(sameResource) !== where(d.path)) p.add(d.path, `derives the Pulumi resource ${d.resource.split("::")[1]}, which ${where(sameResource)} derives too: rename one of them`);
        if (!sameObject) objects.set(id, d.path);
        if (!sameResource) resources.set(d.resource, d.path);
    }
}
