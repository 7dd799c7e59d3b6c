// Rules for mTLS and canary routes.
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { durationMs } from "../istio/validate";

/** Namespaces prod never lets accept plaintext. */
export const PROD_NO_PLAINTEXT = ["istio-system", "kube-system"];

export function checkMesh(cfg: Pick<StackConfig, "environment" | "mesh" | "canaries" | "istio">, p: Problems): void {
    const { mtls } = cfg.mesh;
    if (cfg.environment === "prod" && mtls.mode !== "STRICT") {
        p.add(["mesh", "mtls", "mode"], `prod requires STRICT mTLS, got ${mtls.mode}`);
    }
    const exceptionKeys = new Set<string>();
    mtls.exceptions.forEach((e, i) => {
        if (e.namespace.trim() === "") p.add(["mesh", "mtls", "exceptions", i, "namespace"], "an exception must name a namespace (and optionally a service in it)");
        if (e.service !== undefined && e.service.trim() === "") p.add(["mesh", "mtls", "exceptions", i, "service"], "names no service; remove it to except the whole namespace");
        // prod: the control plane's and Kubernetes' own namespaces never accept plaintext.
        if (cfg.environment === "prod" && PROD_NO_PLAINTEXT.includes(e.namespace)) {
            p.add(["mesh", "mtls", "exceptions", i, "namespace"], `prod refuses a plaintext exception for ${e.namespace}: its traffic carries the mesh's and the cluster's own credentials`);
        }
        const key = `${e.namespace}/${e.service ?? "*"}`;
        if (exceptionKeys.has(key)) p.add(["mesh", "mtls", "exceptions", i], `duplicate exception ${key}`);
        exceptionKeys.add(key);
    });
    if (mtls.exceptions.length > 0 && mtls.mode === "DISABLE") p.add(["mesh", "mtls", "exceptions"], "exceptions have no meaning while mtls.mode is DISABLE");

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

        if (c.retries && c.retries.attempts > 0) {
            if (c.timeout === undefined) p.add(at("timeout"), "required with retries: attempts × perTryTimeout must fit in the route timeout");
            else {
                const total = c.retries.attempts * durationMs(c.retries.perTryTimeout);
                if (total > durationMs(c.timeout)) {
                    p.add(at("retries"), `${c.retries.attempts} attempts × ${c.retries.perTryTimeout} = ${total}ms exceeds the route timeout ${c.timeout}`);
                }
            }
        }
    });

    const ing = cfg.mesh.ingress;
    if (ing && !injected.has(ing.namespace)) p.add(["mesh", "ingress", "namespace"], `${ing.namespace} has no sidecar injection; add it to istio.injectNamespaces`);
}
