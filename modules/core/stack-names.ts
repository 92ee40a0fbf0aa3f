/**
 * Stack names: each is a folder under `<out>/stacks/`, a state key or workspace name, and a
 * `cdktf deploy` argument. Pure, so that config checks and the summary need no provider classes.
 */
import { portBlockStart } from "../proxy/port-blocks";

/** Name of the bootstrap stack that creates the state bucket. */
export const STATE_STACK = "egress-state";

/** Name of the hub stack (and of its state file). */
export const HUB_STACK = "hub";

/** What every port-block stack's name starts with (`hub-ports-<first port>`), and no other stack's. */
export const HUB_PORTS_STACK_PREFIX = "hub-ports-";

/** Name of a port block's stack (and of its state file), by the block's first port (see `portBlocks`). */
export function portBlockStackName(start: number): string {
  return `${HUB_PORTS_STACK_PREFIX}${start}`;
}

/** The stack whose state a spoke reads the hub contract from: its port block's. */
export function spokeHubStack(spoke: { readonly port: number }): string {
  return portBlockStackName(portBlockStart(spoke.port));
}

/** Name of the interconnect stack (and of its state file). */
export const INTERCONNECT_STACK = "interconnect";

/** What every spoke stack's name starts with, and no other stack's. */
export const SPOKE_STACK_PREFIX = "spoke-";

/** Name of a spoke's stack (and of its state file). */
export function spokeStackName(spokeName: string): string {
  return `${SPOKE_STACK_PREFIX}${spokeName}`;
}
