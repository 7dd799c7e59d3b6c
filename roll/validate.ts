// Rules for `oslo-mesh:rollout` that relate it to the nodes.
import { Problems } from "../stacks/problems";
import { StackConfig } from "../stacks/schema";

/**
 * A roll takes at most `maxUnavailable` workers out of service at once. Istio and the workloads
 * run on the workers (control planes are tainted), so with two workers or more one of them must
 * keep serving: maxUnavailable stays below their number. With a single worker the only wave is
 * that worker, whatever the setting.
 */
export function checkRollout(cfg: Pick<StackConfig, "rollout" | "nodes">, p: Problems): void {
    const workers = cfg.nodes.filter((n) => n.role === "worker").length;
    const max = cfg.rollout.maxUnavailable;
    if (workers >= 2 && max >= workers) {
        p.add(["rollout", "maxUnavailable"], `${max} would take all ${workers} workers out of service at once; expected at most ${workers - 1}, so that a worker keeps serving the mesh`);
    }
}
