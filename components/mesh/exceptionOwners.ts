// Every plaintext exception in prod names who answers for it and the last day it may live, so
// that it cannot quietly outlive its reason: after that day the policy pack fails the stack
// (policy/rules/mtls.ts). Only presence is checked here; a date in the past is the policy's call.
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";

export function checkExceptionOwners(cfg: Pick<StackConfig, "environment" | "mesh">, p: Problems): void {
    if (cfg.environment !== "prod") return;
    cfg.mesh.mtls.exceptions.forEach((e, i) => {
        if (e.owner === undefined) p.add(["mesh", "mtls", "exceptions", i, "owner"], "required in prod: the team or person who answers for this plaintext exception");
        if (e.expires === undefined) p.add(["mesh", "mtls", "exceptions", i, "expires"], "required in prod: the last day this plaintext exception may live, YYYY-MM-DD");
    });
}
