import { App } from "cdktf";
import type { EgressConfig } from "../config/model";
import { HubPortBlockStack, HubStack } from "../hub/stack";
import { portBlocks, portBlockStart } from "../proxy/port-blocks";
import { InterconnectStack } from "../interconnect/stack";
import { SpokeStack } from "../spoke/stack";
import { StateStack } from "../state/stack";

/** The stacks `buildStacks` added to the app, for callers that add their own resources or dependencies. */
export interface EgressStacks {
  /**
   * The state bucket's bootstrap stack.
   * @default - none: the config names an existing state bucket (`state.create: false`)
   */
  readonly state?: StateStack;
  /** The hub core: VPC, NAT, resource gateway and the proxy fleet's shared part. */
  readonly hub: HubStack;
  /** One per port block, in port order: the resources of its spokes' ports, and the outputs they read. */
  readonly portBlocks: readonly HubPortBlockStack[];
  /** In spoke-name order; a retired spoke's stack is empty, so that deploying it destroys the spoke. */
  readonly spokes: readonly SpokeStack[];
  /**
   * The Transit Gateway, VPNs and site routers.
   * @default - none: the config has no `interconnect` section
   */
  readonly interconnect?: InterconnectStack;
}

/**
 * Adds every stack the config describes to `app`. Dependencies follow the deploy order
 * (state bucket, then hub core, then port blocks, then spokes), so `cdktf deploy '*'` runs them in turn.
 */
export function buildStacks(app: App, config: EgressConfig): EgressStacks {
  const state = config.state.backend === "s3" && config.state.create ? new StateStack(app, { ...config, state: config.state }) : undefined;
  const hub = new HubStack(app, config);
  if (state) hub.addDependency(state);
  const blocks = portBlocks(config.spokes).map((block) => {
    const stack = new HubPortBlockStack(app, config, block);
    stack.addDependency(hub);
    return stack;
  });
  const blockAt = new Map(blocks.map((stack) => [stack.start, stack]));
  // External spokes are deployed (and retired) by their projects' own apps (EgressSpoke); the hub still exposes them.
  const spokes = config.spokes.flatMap((spoke) => {
    if (spoke.vpc.kind === "external") return [];
    const stack = new SpokeStack(app, config, { ...spoke, vpc: spoke.vpc });
    stack.addDependency(blockAt.get(portBlockStart(spoke.port))!);
    return [stack];
  });
  const interconnect = config.interconnect ? new InterconnectStack(app, { ...config, interconnect: config.interconnect }) : undefined;
  if (interconnect && state) interconnect.addDependency(state);
  return { state, hub, portBlocks: blocks, spokes, interconnect };
}

/** A new cdktf App writing to `outdir`, holding the config's stacks. */
export function buildApp(config: EgressConfig, outdir: string): App {
  const app = new App({ outdir, stackTraces: false });
  buildStacks(app, config);
  return app;
}
