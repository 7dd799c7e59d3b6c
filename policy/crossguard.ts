// The rules as CrossGuard policies (@pulumi/policy 1.21). Resource rules become resource
// policies, which the engine calls with each resource's inputs before it is created or updated;
// stack rules become stack policies, which it calls once with every resource's planned outputs
// (for the resources this program declares, those hold the inputs) and the root stack's outputs.
import { Policies, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { utcDay } from "./rules/annotations";
import { stackFacts, stackOfUrn } from "./rules/facts";
import { Finding, PolicyResource, ResourceRule, Rule, StackRule, UNKNOWN } from "./rules/types";

/** @pulumi/policy's error for reading a value that is known only after `pulumi up` (proxy.js). */
const UnknownValueError = (require("@pulumi/policy") as { UnknownValueError: new (...args: never[]) => Error }).UnknownValueError;

/**
 * Props as plain data. CrossGuard hands them over behind a proxy that throws on every value not
 * known during preview; here such a value becomes UNKNOWN, as in the offline plan, and each rule
 * decides what it cannot check.
 */
export function plainProps(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    const read = (key: string | number): unknown => {
        try {
            return plainProps((value as Record<string | number, unknown>)[key]);
        } catch (e) {
            if (e instanceof UnknownValueError) return UNKNOWN;
            throw e;
        }
    };
    if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(i));
    // Assets and archives stay as they are. (Not `value.constructor`: the proxy would wrap it.)
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.keys(value).map((k) => [k, read(k)]));
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * Reports a finding. A value that is only known after `pulumi up` is no violation: it is reported
 * as advisory, as CrossGuard itself does when a policy reads an unknown ("can't run policy during
 * preview"); its object form of reportViolation carries the level (server.js, makeReportViolationFun).
 */
function report(reportViolation: ReportViolation, f: Finding): void {
    if (f.undetermined) {
        const advisory = reportViolation as unknown as (v: { message: string; urn?: string; enforcementLevel: "advisory" }) => void;
        advisory({ message: `not checked during preview: ${f.message}`, urn: f.urn, enforcementLevel: "advisory" });
    } else {
        reportViolation(f.message, f.urn);
    }
}

function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        validateResource: (args, reportViolation) => {
            if (!rule.appliesTo(args.type)) return;
            const resource: PolicyResource = {
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: plainProps(args.props) as Record<string, unknown>,
                secretOutputs: args.opts.additionalSecretOutputs ?? [],
            };
            for (const f of rule.check(resource)) report(reportViolation, f);
        },
    };
}

function stackPolicy(rule: StackRule, now: () => Date): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        validateStack: (args, reportViolation) => {
            const resources: PolicyResource[] = args.resources.map((r) => ({
                type: r.type,
                name: r.name,
                urn: r.urn,
                props: plainProps(r.props) as Record<string, unknown>,
                secretOutputs: r.opts.additionalSecretOutputs ?? [],
            }));
            const root = resources.find((r) => r.type === ROOT_STACK_TYPE);
            const stack = stackOfUrn(root?.urn ?? resources[0]?.urn ?? "");
            const facts = stackFacts(stack, root?.props ?? {}, utcDay(now()));
            if (!facts.environment) {
                reportViolation(`cannot tell this stack's environment: the program exports no \`environment\` output and the stack "${stack}" is not named dev, staging or prod`);
                return;
            }
            for (const f of rule.check(resources, facts)) report(reportViolation, f);
        },
    };
}

/** The CrossGuard policies for these rules. `now` is when exceptions are judged (the clock, but for tests). */
export function crossGuardPolicies(rules: ReadonlyArray<Rule>, now: () => Date = () => new Date()): Policies {
    return rules.map((rule) => (rule.kind === "resource" ? resourcePolicy(rule) : stackPolicy(rule, now)));
}
