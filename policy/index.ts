// The oslo-mesh policy pack: `pulumi preview --policy-pack policy` (after `npm ci` here).
// Every rule lives in rules/ as a pure function; `npm run plan -- --policy` runs the same ones.
import { PolicyPack } from "@pulumi/policy";
import { crossGuardPolicies } from "./crossguard";
import { RULES } from "./rules";

new PolicyPack("oslo-mesh", {
    description: "oslo-mesh: STRICT mTLS in prod with owned, dated exceptions; routes Istio accepts; limits, pinned images and charts, verified downloads; closed admin access; quiet secrets.",
    // Each rule sets its own level; this is only the default for a rule that would not.
    enforcementLevel: "mandatory",
    policies: crossGuardPolicies(RULES),
});
