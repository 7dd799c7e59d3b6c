// Each component's cross-key rules, and the config sections each one reads.
// A rule runs only when its sections passed the schema, so one broken section
// does not hide the problems of the others.
import { checkProgression } from "../canary/validate";
import { capacityTable, meshCapacity, misfitMessage } from "../components/istio/capacity";
import { checkIstio, checkIstioNodes } from "../components/istio/validate";
import { checkKubernetes } from "../components/kubernetes/validate";
import { checkDerivedNames, checkMesh } from "../components/mesh/validate";
import { checkVps } from "../components/vps/validate";
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
    { needs: ["istio", "nodes"], check: checkIstioNodes },
    { needs: ["environment", "mesh", "canaries", "istio"], check: checkMesh },
    { needs: ["environment", "mesh", "canaries", "istio", "kubernetes"], check: checkDerivedNames },
    { needs: ["canaries", "istio"], check: checkProgression },
    // A control-plane pod that no worker can hold never starts: an error everywhere. Undersized
    // for the expected load, or for all the control plane's pods together, is an error in prod;
    // elsewhere index.ts warns with the same table.
    {
        needs: ["environment", "istio", "nodes", "load"],
        check: (cfg, p) => {
            if (!cfg.nodes.some((n) => n.role === "worker")) {
                p.add(["nodes"], "no worker: the mesh's pods have nowhere to run (kubeadm taints control planes NoSchedule)");
                return;
            }
            const cap = meshCapacity(cfg);
            for (const m of cap.misfits) p.add(m.pod.key, misfitMessage(m, cap.largestWorker));
            if (cfg.environment !== "prod" || cap.misfits.length > 0) return;
            if (cap.unplaced.length > 0) p.add(["nodes"], `the workers cannot hold the Istio control plane's pods together (requests against allocatable):\n${capacityTable(cap)}`);
            else if (!cap.fits) p.add(["load"], `the workers cannot carry the mesh at this load:\n${capacityTable(cap)}`);
        },
    },
];
