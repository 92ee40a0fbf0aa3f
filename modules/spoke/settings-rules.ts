/**
 * Rules on a spoke's settings that both the config validation and the `EgressSpoke` construct
 * enforce. Pure: no constructs.
 */
import { ENDPOINT_PRESETS, resolveEndpoints } from "../endpoints/services";

/** Interface endpoints the SSM agent uses (`ssm`, `ssmmessages`, `ec2messages`): the `ssm` preset. */
const SSM_AGENT_ENDPOINTS = ENDPOINT_PRESETS["ssm"].interface;

/** What {@link applyProxySettingsProblem} needs to know about a spoke. */
export interface ProxySettingsDelivery {
  /** A VPC the spoke creates (`new`: no NAT gateway, no internet route) or an existing one. */
  readonly vpcKind: "new" | "existing";
  /** @default "none" */
  readonly applyProxySettings?: "none" | "tagged";
  /** The spoke's endpoint presets and service ids, each well-formed. @default [] */
  readonly endpoints?: readonly string[];
}

/**
 * Why `applyProxySettings: tagged` cannot work for a spoke, or undefined when it can. The State
 * Manager association runs through the SSM agent, which must reach SSM; a new spoke VPC has no way
 * out but the proxy, whose settings are what the association would apply, so it needs the SSM
 * endpoints. An existing VPC may have a NAT gateway or the endpoints already: its routes are not
 * known here, so it is allowed.
 */
export function applyProxySettingsProblem(spoke: ProxySettingsDelivery): string | undefined {
  if (spoke.applyProxySettings !== "tagged" || spoke.vpcKind !== "new") return undefined;
  const present = resolveEndpoints(spoke.endpoints ?? []).interface;
  const missing = SSM_AGENT_ENDPOINTS.filter((service) => !present.includes(service));
  if (missing.length === 0) return undefined;
  return (
    `"tagged" cannot work here: the SSM agent must reach SSM to run the association, and a new spoke VPC has no NAT gateway or internet route ` +
    `(no endpoint for ${missing.join(", ")}). Add the "ssm" preset to endpoints (ssm, ssmmessages and ec2messages), or set applyProxySettings: none`
  );
}
