import type { Construct } from "constructs";
import type { EgressConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { EgressHub } from "./egress-hub";
import { stackStateLocation } from "../state/backend";
import { HUB_STACK } from "../core/stack-names";

/** The hub stack: the {@link EgressHub} for every spoke in the config, state in S3 or its HCP Terraform workspace. */
export class HubStack extends EgressStack {
  /** The hub the stack holds. */
  readonly hub: EgressHub;

  constructor(scope: Construct, config: EgressConfig) {
    super(scope, HUB_STACK, { region: config.hub.region, tags: config.tags, accountId: config.hub.accountId, state: stackStateLocation(config, HUB_STACK) });
    this.hub = new EgressHub(this, "hub", { name: config.name, hub: config.hub, spokes: config.spokes });
  }
}
