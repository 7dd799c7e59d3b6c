// Traffic routing: VirtualServices that Istio 1.3 accepts and that route to subsets that exist,
// and canaries that move only along their progression's steps.
import { PROGRESSION_STEPS, PROGRESSION_SUBSET } from "./annotations";
import { annotationsOf, describe, namespaceOf, NETWORKING, ofKind, serviceHost } from "./k8s";
import { asArray, at, Finding, isIstioKind, isRecord, PolicyResource, ResourceRule, StackRule, undetermined, UNKNOWN } from "./types";

const ROUTE_SECTIONS = ["http", "tcp", "tls"] as const;

interface RouteRef {
    readonly section: string;
    readonly index: number;
    readonly destinations: Array<Record<string, unknown>>;
}

function routesOf(vs: PolicyResource): RouteRef[] {
    const out: RouteRef[] = [];
    for (const section of ROUTE_SECTIONS) {
        asArray(at(vs.props, "spec", section)).forEach((r, index) => {
            out.push({ section, index, destinations: asArray(at(r, "route")).filter(isRecord) });
        });
    }
    return out;
}

/** The DestinationRules whose host is `host` (name.namespace form), the most specific first as Istio 1.3 picks them. */
function rulesFor(host: string, rules: ReadonlyArray<PolicyResource>, clusterDomain: string | undefined): PolicyResource[] {
    const exact = rules.filter((dr) => serviceHost(String(at(dr.props, "spec", "host") ?? ""), namespaceOf(dr)) === host);
    if (exact.length || !clusterDomain) return exact;
    const fqdn = `${host}.svc.${clusterDomain}`;
    const wildcard = rules
        .map((dr) => ({ dr, h: String(at(dr.props, "spec", "host") ?? "") }))
        .filter(({ h }) => h === "*" || (h.startsWith("*.") && fqdn.endsWith(h.slice(1))))
        .sort((a, b) => b.h.length - a.h.length);
    return wildcard.length ? wildcard.filter((w) => w.h === wildcard[0].h).map((w) => w.dr) : [];
}

export const virtualServiceRoutes: StackRule = {
    kind: "stack",
    name: "virtualservice-routes",
    description: "Every VirtualService's weights sum to 100 (Istio 1.3: a route with several destinations), and every subset it routes to exists in a DestinationRule for the same host.",
    enforcementLevel: "mandatory",
    check(resources, facts) {
        const findings: Finding[] = [];
        const rules = ofKind(resources, NETWORKING, "DestinationRule");
        for (const vs of ofKind(resources, NETWORKING, "VirtualService")) {
            const ns = namespaceOf(vs);
            for (const route of routesOf(vs)) {
                const where = `${describe(vs)} ${route.section}[${route.index}]`;
                const weights = route.destinations.map((d) => d.weight);
                if (weights.includes(UNKNOWN)) {
                    findings.push(undetermined(`${where}: its weights are known only after pulumi up`, vs.urn));
                } else {
                    for (const w of weights) {
                        if (w !== undefined && !(Number.isInteger(w) && (w as number) >= 0 && (w as number) <= 100)) {
                            findings.push({ urn: vs.urn, message: `${where}: weight ${JSON.stringify(w)} is not an integer from 0 to 100` });
                        }
                    }
                    const sum = weights.reduce<number>((s, w) => s + (typeof w === "number" ? w : 0), 0);
                    if (route.destinations.length > 1 && sum !== 100) {
                        findings.push({ urn: vs.urn, message: `${where}: the weights sum to ${sum}, not 100 (${route.destinations.map((d) => `${String(at(d, "destination", "subset") ?? at(d, "destination", "host"))}=${String(d.weight ?? 0)}`).join(", ")})` });
                    }
                }
                for (const d of route.destinations) {
                    const subset = at(d, "destination", "subset");
                    const rawHost = at(d, "destination", "host");
                    if (subset === undefined || typeof rawHost !== "string") continue;
                    if (subset === UNKNOWN || rawHost === UNKNOWN) {
                        findings.push(undetermined(`${where}: a destination is known only after pulumi up`, vs.urn));
                        continue;
                    }
                    const host = serviceHost(rawHost, ns);
                    const candidates = rulesFor(host, rules, facts.clusterDomain);
                    const defined = candidates.some((dr) => asArray(at(dr.props, "spec", "subsets")).some((s) => at(s, "name") === subset));
                    if (!defined) {
                        findings.push({
                            urn: vs.urn,
                            message:
                                `${where}: routes to subset "${String(subset)}" of ${host}, which ` +
                                (candidates.length ? `${candidates.map(describe).join(", ")} does not define` : "no DestinationRule for that host defines"),
                        });
                    }
                }
            }
        }
        return findings;
    },
};

/** The share of traffic a subset gets from a VirtualService's default (unmatched) HTTP route. */
export function defaultRouteWeight(vs: PolicyResource, subset: string): number | undefined {
    const http = asArray(at(vs.props, "spec", "http"));
    const fallback = http.filter((r) => asArray(at(r, "match")).length === 0);
    const route = fallback[0] ?? http[http.length - 1];
    if (route === undefined) return undefined;
    const destinations = asArray(at(route, "route")).filter(isRecord);
    if (destinations.length === 1) return at(destinations[0], "destination", "subset") === subset ? 100 : 0;
    return destinations.filter((d) => at(d, "destination", "subset") === subset).reduce<number>((s, d) => s + (typeof d.weight === "number" ? d.weight : 0), 0);
}

/** "10,25,50,100" → [10, 25, 50, 100]; undefined when malformed. */
export function parseSteps(text: string): number[] | undefined {
    const steps = text.split(",").map((s) => s.trim());
    if (steps.length === 0 || steps.some((s) => !/^\d{1,3}$/.test(s))) return undefined;
    const numbers = steps.map(Number);
    return numbers.every((n) => n <= 100) ? numbers : undefined;
}

export const canaryProgression: ResourceRule = {
    kind: "resource",
    name: "canary-progression",
    description:
        "A canary's weight is one of its progression's steps (or 0, a rollback), so that one `pulumi up` moves it along its steps and never to a weight in between. The previous weight is not visible to a policy: a jump between two steps (10 to 100) is not caught here.",
    enforcementLevel: "advisory",
    appliesTo: (type) => isIstioKind(type, NETWORKING, "VirtualService"),
    check(vs) {
        const a = annotationsOf(vs);
        const stepsText = a[PROGRESSION_STEPS];
        if (stepsText === undefined) return [];
        const subset = a[PROGRESSION_SUBSET];
        const steps = typeof stepsText === "string" ? parseSteps(stepsText) : undefined;
        if (!steps) return [{ message: `${describe(vs)}: annotation ${PROGRESSION_STEPS} "${String(stepsText)}" is not a list of percentages such as 10,25,50,100` }];
        if (typeof subset !== "string" || subset === "") return [{ message: `${describe(vs)}: annotation ${PROGRESSION_SUBSET} must name the canary's subset` }];
        if (JSON.stringify(at(vs.props, "spec", "http") ?? null).includes(UNKNOWN)) return [undetermined(`${describe(vs)}: its routes are known only after pulumi up`)];
        const weight = defaultRouteWeight(vs, subset);
        if (weight === undefined) return [{ message: `${describe(vs)}: has no HTTP route for its canary ${subset}` }];
        if (weight !== 0 && !steps.includes(weight)) {
            return [{ message: `${describe(vs)}: canary subset ${subset} gets ${weight}%, which is not a step of its progression (${steps.join(", ")}); move it to the next step, or to 0 to roll back` }];
        }
        return [];
    },
};
