// What the rules know about the stack, told the same way on both paths: the environment and the
// cluster domain come from the program's stack outputs (`environment`, `clusterDomain`), the
// stack's name from a URN.
import { Environment, ENVIRONMENTS, StackFacts } from "./types";

const STRICTNESS: Record<Environment, number> = { dev: 0, staging: 1, prod: 2 };

const asEnvironment = (v: unknown): Environment | undefined => (ENVIRONMENTS as ReadonlyArray<unknown>).includes(v) ? (v as Environment) : undefined;

/**
 * The environment whose rules apply: the stricter of the one the stack declares and the one its
 * name says (a stack named `prod` is held to prod's rules whatever it declares).
 */
export function environmentOf(stack: string, declared: unknown): Environment | undefined {
    const candidates = [asEnvironment(stack), asEnvironment(declared)].filter((e): e is Environment => e !== undefined);
    return candidates.sort((a, b) => STRICTNESS[b] - STRICTNESS[a])[0];
}

/** The stack's name in a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn);
    return m ? m[1] : "";
}

export function stackFacts(stack: string, outputs: Readonly<Record<string, unknown>>, today: string): StackFacts {
    const clusterDomain = typeof outputs.clusterDomain === "string" ? outputs.clusterDomain : undefined;
    return { stack, environment: environmentOf(stack, outputs.environment), clusterDomain, today };
}
