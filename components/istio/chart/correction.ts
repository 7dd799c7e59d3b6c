// The one change the program makes to Istio 1.3.3's chart before Helm sees it.
//
// charts/gateways/templates/role.yaml and rolebindings.yaml, line 4, read
//     {{- if ($spec.sds) and (eq $spec.sds.enabled true) }}
// which Go's text/template has refused since Go 1.11 ("can't give argument to non-function
// $spec.sds"): the Helm inside current @pulumi/kubernetes providers fails on it for every
// enabled gateway. The correction moves `and` to the front, which is what the line means:
//     {{- if and ($spec.sds) (eq $spec.sds.enabled true) }}
// (`and` stops at its first false argument since Go 1.18, so a gateway without `sds` is fine).
// Nothing else changes; if the text is not exactly there, the program stops.
import { ChartFiles } from "./manifest";

export interface LineCorrection {
    readonly file: string;
    /** 1-based. */
    readonly line: number;
    readonly from: string;
    readonly to: string;
}

const SDS_FROM = "{{- if ($spec.sds) and (eq $spec.sds.enabled true) }}";
const SDS_TO = "{{- if and ($spec.sds) (eq $spec.sds.enabled true) }}";

export const CHART_CORRECTIONS: ReadonlyArray<LineCorrection> = [
    { file: "charts/gateways/templates/role.yaml", line: 4, from: SDS_FROM, to: SDS_TO },
    { file: "charts/gateways/templates/rolebindings.yaml", line: 4, from: SDS_FROM, to: SDS_TO },
];

/** The chart with the corrections applied; throws, naming file and line, when a line to correct is not as expected. */
export function correctChart(files: ChartFiles, corrections: ReadonlyArray<LineCorrection> = CHART_CORRECTIONS): Map<string, Buffer> {
    const out = new Map(files);
    for (const c of corrections) {
        const content = files.get(c.file);
        if (!content) throw new Error(`cannot correct the Istio chart: ${c.file} is missing`);
        const lines = content.toString("utf8").split("\n");
        const found = lines[c.line - 1];
        if (found !== c.from) {
            throw new Error(`cannot correct the Istio chart: ${c.file} line ${c.line} should read ${JSON.stringify(c.from)}, found ${JSON.stringify(found ?? "<end of file>")}`);
        }
        lines[c.line - 1] = c.to;
        out.set(c.file, Buffer.from(lines.join("\n")));
    }
    return out;
}
