// Mutual TLS in prod: STRICT mesh-wide, and every plaintext hole a declared, owned, dated exception.
import { EXCEPTION_EXPIRES, EXCEPTION_OWNER, isCalendarDate } from "./annotations";
import { annotationsOf, AUTHENTICATION, describe, ISTIO_ROOT_NAMESPACE, nameOf, namespaceOf, NETWORKING, ofKind, tlsModes } from "./k8s";
import { asArray, at, Finding, isRecord, PolicyResource, StackFacts, StackRule, undetermined } from "./types";

/** Whether a DestinationRule host covers every service of the cluster domain (`*.local` covers `*.svc.cluster.local`). */
export function coversClusterDomain(host: string, clusterDomain: string): boolean {
    if (host === "*") return true;
    return host.startsWith("*.") && `.svc.${clusterDomain}`.endsWith(host.slice(1));
}

/** Istio 1.3: a peer `{mtls: {}}` or `{mtls: {mode: STRICT}}` is STRICT; PERMISSIVE or no mtls peer accepts plaintext. */
function peersAreStrict(spec: unknown): boolean {
    const peers = asArray(at(spec, "peers"));
    if (at(spec, "peerIsOptional") === true) return false;
    const mtls = peers.filter((p) => isRecord(p) && "mtls" in p).map((p) => at(p, "mtls"));
    if (mtls.length === 0) return false;
    return mtls.every((m) => m === null || m === undefined || (isRecord(m) && (m.mode === undefined || m.mode === "STRICT")));
}

/** The API server is not in the mesh: the one DestinationRule that may turn TLS off without an exception (Istio's own security chart renders it). */
function isApiServerRule(dr: PolicyResource, clusterDomain: string | undefined): boolean {
    const host = String(at(dr.props, "spec", "host") ?? "");
    const expected = clusterDomain ? host === `kubernetes.default.svc.${clusterDomain}` : host.startsWith("kubernetes.default.svc.");
    return expected && namespaceOf(dr) === ISTIO_ROOT_NAMESPACE;
}

export const prodStrictMtls: StackRule = {
    kind: "stack",
    name: "prod-strict-mtls",
    description: "prod has the STRICT MeshPolicy `default` and the mesh-wide ISTIO_MUTUAL DestinationRule for its cluster domain.",
    enforcementLevel: "mandatory",
    check(resources, facts) {
        if (facts.environment !== "prod") return [];
        const findings: Finding[] = [];
        const meshPolicies = ofKind(resources, AUTHENTICATION, "MeshPolicy").filter((r) => nameOf(r) === "default");
        if (meshPolicies.length === 0) {
            findings.push({ message: "prod has no MeshPolicy `default`: mTLS is not enforced (mesh.mtls.mode must be STRICT: peers [{mtls: {}}])" });
        }
        for (const mp of meshPolicies) {
            const spec = at(mp.props, "spec");
            if (!peersAreStrict(spec)) {
                findings.push({ urn: mp.urn, message: `the MeshPolicy \`default\` is not STRICT (peers ${JSON.stringify(at(spec, "peers") ?? [])}${at(spec, "peerIsOptional") === true ? ", peerIsOptional" : ""}): prod needs peers [{mtls: {}}]` });
            }
        }

        if (!facts.clusterDomain) {
            findings.push(undetermined("the stack does not export `clusterDomain`, so the mesh-wide DestinationRule's host cannot be checked"));
            return findings;
        }
        const domain = facts.clusterDomain;
        const meshWide = ofKind(resources, NETWORKING, "DestinationRule").filter(
            (dr) => namespaceOf(dr) === ISTIO_ROOT_NAMESPACE && coversClusterDomain(String(at(dr.props, "spec", "host") ?? ""), domain),
        );
        const mutual = meshWide.filter((dr) => {
            const exportTo = at(dr.props, "spec", "exportTo");
            const exported = exportTo === undefined || asArray(exportTo).includes("*");
            return exported && at(dr.props, "spec", "trafficPolicy", "tls", "mode") === "ISTIO_MUTUAL";
        });
        if (mutual.length === 0) {
            findings.push({
                message:
                    `prod has no DestinationRule in ${ISTIO_ROOT_NAMESPACE} with tls.mode ISTIO_MUTUAL for every service of its cluster domain ${domain} (host *.local or *.svc.${domain})` +
                    (meshWide.length ? `; found ${meshWide.map(describe).join(", ")} without it` : ""),
            });
        }
        for (const dr of mutual) {
            if (tlsModes(dr).some((m) => m !== "ISTIO_MUTUAL")) {
                findings.push({ urn: dr.urn, message: `${describe(dr)} turns ISTIO_MUTUAL off for some ports or subsets (${tlsModes(dr).join(", ")})` });
            }
        }
        return findings;
    },
};

/** The objects that let plaintext through: DestinationRules with TLS off, Policies that accept plaintext. */
function plaintextObjects(resources: ReadonlyArray<PolicyResource>, facts: StackFacts): PolicyResource[] {
    const rules = ofKind(resources, NETWORKING, "DestinationRule").filter((dr) => tlsModes(dr).includes("DISABLE") && !isApiServerRule(dr, facts.clusterDomain));
    const policies = ofKind(resources, AUTHENTICATION, "Policy").filter((p) => !peersAreStrict(at(p.props, "spec")));
    return [...rules, ...policies];
}

export const mtlsExceptionsDeclared: StackRule = {
    kind: "stack",
    name: "mtls-exceptions-declared",
    description: "In prod, every DestinationRule that turns TLS off (and every Policy that accepts plaintext) belongs to a mesh.mtls.exceptions entry with an owner and an expiry date that has not passed.",
    enforcementLevel: "mandatory",
    check(resources, facts) {
        if (facts.environment !== "prod") return [];
        const findings: Finding[] = [];
        for (const obj of plaintextObjects(resources, facts)) {
            const a = annotationsOf(obj);
            const owner = a[EXCEPTION_OWNER];
            const expires = a[EXCEPTION_EXPIRES];
            const what = `${describe(obj)} lets plaintext through${at(obj.props, "spec", "host") ? ` (host ${String(at(obj.props, "spec", "host"))})` : ""}`;
            if (typeof owner !== "string" || owner.trim() === "" || typeof expires !== "string") {
                findings.push({ urn: obj.urn, message: `${what} without a declared exception: add it to mesh.mtls.exceptions with an owner and an expires date` });
            } else if (!isCalendarDate(expires)) {
                findings.push({ urn: obj.urn, message: `${what}: its exception's expiry "${expires}" is not a YYYY-MM-DD date` });
            } else if (facts.today > expires) {
                findings.push({ urn: obj.urn, message: `${what}: the exception owned by ${owner} lapsed after ${expires} (today is ${facts.today}); move the workload to mTLS and remove the exception, or renew it with a new expires date` });
            }
        }
        return findings;
    },
};
