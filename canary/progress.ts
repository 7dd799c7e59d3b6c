// One decision round for one canary: read the stack file and the state, ask Prometheus, decide,
// print the table and, unless it is a dry run, write the weights and apply them.
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { readStackFile } from "../plan/stackFile";
import { parseStackConfig } from "../stacks/parse";
import { formatProblem, NAMESPACE } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";
import { analysisWindowSeconds, decide, Decision, Figures, finished, Standing } from "./decide";
import { endpointFromKubeconfig, endpointFromUrl, instantQuery, PrometheusEndpoint, Unreachable } from "./prometheus";
import { canaryQueries, QueryOutcome } from "./promql";
import { PulumiCli, upCommandLine } from "./pulumi";
import { readRouteState, routeUrns, sameWeights, stackNameOf } from "./state";
import { stackFilePath, withWeights, writeAtomically } from "./stackFile";
import { renderTable } from "./table";
import { VERSION_LABEL } from "./validate";

/** Bad usage or configuration: nothing was decided. */
export class UsageError extends Error {}

/** The decision was made but could not be applied. */
export class ApplyError extends Error {}

export interface RoundOptions {
    /** The project directory: Pulumi.yaml and Pulumi.<stack>.yaml. */
    readonly dir: string;
    /** As given to the Pulumi CLI (may be org/project/stack). */
    readonly stack: string;
    readonly namespace: string;
    readonly service: string;
    readonly dryRun: boolean;
    readonly prometheusUrl?: string;
    readonly pulumi: PulumiCli;
    readonly print: (text: string) => void;
    readonly now?: () => number;
}

export interface RoundResult {
    readonly decision: Decision;
    /** Whether new weights were written and applied. */
    readonly applied: boolean;
}

interface CanaryInFile {
    readonly config: StackConfig;
    readonly index: number;
    readonly canary: StackConfig["canaries"][number];
    readonly prog: NonNullable<StackConfig["canaries"][number]["progression"]>;
    readonly canarySubset: string;
    readonly stableSubset: string;
}

export function findCanary(file: string, stackName: string, namespace: string, service: string): CanaryInFile {
    if (!fs.existsSync(file)) throw new UsageError(`no stack file ${file}`);
    const raw = readStackFile(file);
    const { config, problems } = parseStackConfig(stackName, { values: raw.values, isSecret: (k) => raw.secretKeys.includes(k) });
    if (!config) throw new UsageError(`${path.basename(file)} has ${problems.length} problem(s):\n  ${problems.map(formatProblem).join("\n  ")}`);
    const index = config.canaries.findIndex((c) => c.namespace === namespace && c.service === service);
    if (index < 0) {
        const known = config.canaries.map((c) => `${c.namespace}/${c.service}`).join(", ") || "none";
        throw new UsageError(`${path.basename(file)} has no ${NAMESPACE}:canaries entry for ${namespace}/${service} (canaries: ${known})`);
    }
    const canary = config.canaries[index];
    if (!canary.progression) throw new UsageError(`${NAMESPACE}:canaries[${index}].progression is not set: nothing says how ${namespace}/${service} may progress`);
    const canarySubset = canary.progression.subset ?? canary.subsets[canary.subsets.length - 1].name;
    const stableSubset = canary.subsets.find((s) => s.name !== canarySubset)!.name;
    return { config, index, canary, prog: canary.progression, canarySubset, stableSubset };
}

function projectName(dir: string): string {
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file)) throw new UsageError(`no Pulumi.yaml in ${dir}: run the command in the project directory`);
    const name = (jsyaml.load(fs.readFileSync(file, "utf8")) as { name?: unknown } | null)?.name;
    if (typeof name !== "string") throw new UsageError(`${file} names no project`);
    return name;
}

function formatWeights(w: Readonly<Record<string, number>>): string {
    return Object.entries(w)
        .map(([k, v]) => `${k} ${v}`)
        .join(" / ");
}

async function measure(ep: PrometheusEndpoint, queries: ReturnType<typeof canaryQueries>, timeSeconds: number): Promise<Figures> {
    const settled = await Promise.allSettled([queries.requests, queries.successRate, queries.p99].map((q) => instantQuery(ep, q, timeSeconds)));
    const unreachable = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    if (unreachable.length === settled.length) return { unreachable: (unreachable[0].reason as Error).message };
    const [requests, successRate, p99Seconds] = settled.map((s): QueryOutcome => {
        if (s.status === "fulfilled") return s.value;
        const e = s.reason as Error;
        return { error: e instanceof Unreachable ? `unreachable: ${e.message}` : e.message };
    });
    return { requests, successRate, p99Seconds };
}

export async function runRound(o: RoundOptions): Promise<RoundResult> {
    const now = (o.now ?? Date.now)();
    const stackName = stackNameOf(o.stack);
    const file = stackFilePath(o.dir, stackName);
    const text = fs.readFileSync(file, "utf8");
    const c = findCanary(file, stackName, o.namespace, o.service);
    const project = projectName(o.dir);
    const weight = c.canary.weights[c.canarySubset];
    const title = `canary ${o.namespace}/${o.service} on stack ${o.stack}: ${c.canarySubset} against ${c.stableSubset}, ${new Date(now).toISOString()}`;
    const print = (standing: Standing, decision: Decision, windowSeconds?: number, figures?: Figures) =>
        o.print(renderTable({ title, prog: c.prog, canary: c.canarySubset, stable: c.stableSubset, standing, decision, windowSeconds, figures }));

    const end = finished(weight);
    if (end) {
        print({ canaryWeight: weight, served: { unknown: "not measured" } }, end);
        return { decision: end, applied: false };
    }

    // How long the current weights have served, and what to target: from the Pulumi state.
    const urns = routeUrns(o.stack, project, o.namespace, o.service);
    let targets: ReadonlyArray<string> = [urns.destinationRule, urns.virtualService];
    let served: Standing["served"];
    let notApplied: string | undefined;
    try {
        const st = readRouteState(o.pulumi.exportStack(o.stack), urns);
        if (st.children.length > 0) targets = st.children;
        served =
            st.modifiedAt === undefined
                ? { unknown: "the state has no `modified` time for the route's VirtualService (checkpoints before Pulumi 3.60 lack it): run `pulumi up` with a newer CLI" }
                : { ms: Math.max(0, now - st.modifiedAt) };
        if (!st.appliedWeights) notApplied = `the state has no VirtualService for the route: run \`pulumi up --stack ${o.stack}\` first`;
        else if (!sameWeights(st.appliedWeights, c.canary.weights)) {
            notApplied = `the stack runs ${formatWeights(st.appliedWeights)} but ${path.basename(file)} says ${formatWeights(c.canary.weights)}: apply or undo that change first`;
        }
    } catch (e) {
        served = { unknown: (e as Error).message };
    }
    const standing: Standing = { canaryWeight: weight, served, notApplied };

    const windowSeconds = analysisWindowSeconds(c.prog, served);
    const version = c.canary.subsets.find((s) => s.name === c.canarySubset)!.labels[VERSION_LABEL];
    const queries = canaryQueries({ namespace: o.namespace, service: o.service, version }, windowSeconds);
    let figures: Figures;
    try {
        const ep = o.prometheusUrl ? endpointFromUrl(o.prometheusUrl) : endpointFromKubeconfig(o.pulumi.kubeconfig(o.stack));
        figures = await measure(ep, queries, now / 1000);
    } catch (e) {
        figures = { unreachable: (e as Error).message };
    }

    const decision = decide(c.prog, standing, figures);
    print(standing, decision, windowSeconds, figures);
    if (decision.verdict !== "promote" && decision.verdict !== "rollback") return { decision, applied: false };

    const weights = { [c.stableSubset]: 100 - decision.canaryWeight, [c.canarySubset]: decision.canaryWeight };
    const key = `${NAMESPACE}:canaries[${c.index}].weights`;
    const command = upCommandLine(o.stack, targets);
    if (o.dryRun) {
        o.print(`dry run: would set ${key} to ${formatWeights(weights)} in ${path.basename(file)} and run\n  ${command}`);
        return { decision, applied: false };
    }
    if (fs.readFileSync(file, "utf8") !== text) throw new ApplyError(`${path.basename(file)} changed while deciding; nothing written`);
    writeAtomically(file, withWeights(text, file, c.index, weights));
    o.print(`set ${key} to ${formatWeights(weights)} in ${path.basename(file)}\n$ ${command}`);
    const status = o.pulumi.up(o.stack, targets);
    if (status !== 0) {
        if (decision.verdict === "promote") {
            writeAtomically(file, text);
            throw new ApplyError(`pulumi up exited ${status}: the promotion is not applied, and ${path.basename(file)} is as it was`);
        }
        throw new ApplyError(`pulumi up exited ${status}: the rollback stays written in ${path.basename(file)}; apply it with\n  ${command}`);
    }
    return { decision, applied: true };
}
