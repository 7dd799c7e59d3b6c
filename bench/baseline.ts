// The model's "today": the generated 3-node stack as the program planned it before the
// shorter critical path (issue 20, items 4 and 5), recorded by bench/recordBaseline.ts.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../plan/project";
import { PlanResource } from "../plan/run";
import { ModelNode } from "./model";

export const BASELINE_FILE = path.join(PROJECT_DIR, "bench", "baseline-3-nodes.json");

export interface Baseline {
    /** The commit whose program planned it. */
    readonly commit: string;
    readonly nodes: ModelNode[];
    readonly resources: PlanResource[];
}

export function loadBaseline(): Baseline {
    return JSON.parse(fs.readFileSync(BASELINE_FILE, "utf8")) as Baseline;
}
