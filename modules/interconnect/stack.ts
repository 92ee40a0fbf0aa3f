import type { Construct } from "constructs";
import type { EgressConfig, InterconnectConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { Interconnect } from "./interconnect";
import { stackStateLocation } from "../state/backend";
import { INTERCONNECT_STACK } from "../core/stack-names";

/**
 * The interconnect in one state: the Transit Gateway's Region is the stack's provider, every
 * other site Region gets an aliased provider, so customer gateways, VPNs and the routers that
 * depend on each other's attributes are planned together.
 */
export class InterconnectStack extends EgressStack {
  /** The interconnect the stack holds. */
  readonly interconnect: Interconnect;

  constructor(scope: Construct, config: EgressConfig & { readonly interconnect: InterconnectConfig }) {
    super(scope, INTERCONNECT_STACK, { region: config.interconnect.transitGateway.region, tags: config.tags, accountId: config.hub.accountId, state: stackStateLocation(config, INTERCONNECT_STACK) });
    this.interconnect = new Interconnect(this, "interconnect", { name: config.name, config: config.interconnect, providerFor: (region) => this.providerFor(region) });
  }
}
