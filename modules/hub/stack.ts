import type { Construct } from "constructs";
import type { EgressConfig, SpokeConfig } from "../config/model";
import { EgressStack } from "../core/stack";
import { EgressHub } from "./egress-hub";
import { HubPortBlock } from "./port-block";
import { HubRemoteState } from "./remote-state";
import { stackStateLocation, stackStateReader } from "../state/backend";
import { HUB_STACK, portBlockStackName } from "../core/stack-names";
import type { PortBlock } from "../proxy/port-blocks";

/**
 * The hub core's stack: the {@link EgressHub} (VPC, NAT, resource gateway, the proxy fleet's
 * shared part), whatever the spokes, state in S3 or its HCP Terraform workspace.
 */
export class HubStack extends EgressStack {
  /** The hub core the stack holds. */
  readonly hub: EgressHub;

  constructor(scope: Construct, config: EgressConfig) {
    super(scope, HUB_STACK, { region: config.hub.region, tags: config.tags, accountId: config.hub.accountId, state: stackStateLocation(config, HUB_STACK) });
    this.hub = new EgressHub(this, "hub", { name: config.name, hub: config.hub, spokePorts: config.spokes.map((s) => s.port) });
  }
}

/**
 * One port block's stack, `hub-ports-<first port>`: the {@link HubPortBlock} for the spokes on the
 * block's ports, built on the hub core read from the core's state. Adding or changing a spoke
 * plans only its block's stack (and its own); the block's spokes read the hub contract from here.
 */
export class HubPortBlockStack extends EgressStack {
  /** The block's first port: its stable key. */
  readonly start: number;
  /** The hub core's outputs, read from its state. */
  readonly core: HubRemoteState;
  /** The block's resources. */
  readonly block: HubPortBlock;

  constructor(scope: Construct, config: EgressConfig, block: PortBlock<SpokeConfig>) {
    const stackName = portBlockStackName(block.start);
    super(scope, stackName, { region: config.hub.region, tags: config.tags, accountId: config.hub.accountId, state: stackStateLocation(config, stackName) });
    this.start = block.start;
    this.core = new HubRemoteState(this, "core", stackStateReader(config, HUB_STACK));
    this.block = new HubPortBlock(this, "hub", { name: config.name, hub: config.hub, start: block.start, spokes: block.members, core: this.core.coreOutputs() });
  }
}
