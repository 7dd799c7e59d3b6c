// Each component's cross-key rules, and the config sections each one reads.
// A rule runs only when its sections passed the schema, so one broken section
// does not hide the problems of the others.
import { checkProgression } from "../canary/validate";
import { capacityTable, meshCapacity } from "../components/istio/capacity";
import { checkIstio } from "../components/istio/validate";
import { checkKubernetes } from "../components/kubernetes/validate";
import { checkMesh } from "../components/mesh/validate";
import { checkVps } from "../components/vps/validate";
import { checkRollout } from "../roll/validate";
import { Problems } from "./problems";
import { SectionName, StackConfig } from "./schema";

export interface Validator {
    readonly needs: ReadonlyArray<SectionName>;
    readonly check: (cfg: StackConfig, p: Problems) => void;
}

export const validators: ReadonlyArray<Validator> = [
    { needs: ["environment", "ssh", "vps", "nodes"], check: checkVps },
    { needs: ["environment", "kubernetes", "nodes", "vps"], check: checkKubernetes },
    { needs: ["istio"], check: checkIstio },
    { needs: ["environment", "mesh", "canaries", "istio"], check: checkMesh },
    { needs: ["canaries", "istio"], check: checkProgression },
    { needs: ["rollout", "nodes"], check: checkRollout },
    // Undersized is an error in prod; elsewhere index.ts warns with the same table.
    {
        needs: ["environment", "istio", "nodes", "load"],
        check: (cfg, p) => {
            const cap = meshCapacity(cfg);
            if (cfg.environment === "prod" && !cap.fits) p.add(["load"], `the workers cannot carry the mesh at this load:\n${capacityTable(cap)}`);
        },
    },
];
