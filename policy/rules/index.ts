// Every rule of the pack, in the order they are reported. Add a rule here and it runs in both
// `pulumi preview --policy-pack policy` and `npm run plan -- --policy`.
import { adminAccessClosed, oddControlPlanes } from "./access";
import { downloadsVerified } from "./downloads";
import { istioChartPinned, noLatestImage } from "./images";
import { resourceLimits } from "./limits";
import { mtlsExceptionsDeclared, prodStrictMtls } from "./mtls";
import { canaryProgression, virtualServiceRoutes } from "./routes";
import { secretCommandsSilent } from "./secrets";
import { Rule } from "./types";

export const RULES: ReadonlyArray<Rule> = [
    prodStrictMtls,
    mtlsExceptionsDeclared,
    virtualServiceRoutes,
    canaryProgression,
    resourceLimits,
    noLatestImage,
    istioChartPinned,
    downloadsVerified,
    adminAccessClosed,
    oddControlPlanes,
    secretCommandsSilent,
];

export * from "./types";
