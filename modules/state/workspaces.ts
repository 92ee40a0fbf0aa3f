/** Longest workspace name HCP Terraform and Terraform Enterprise accept. */
export const WORKSPACE_NAME_MAX = 90;

/** Workspace names: letters, digits, '-' and '_'. */
export const WORKSPACE_NAME = /^[A-Za-z0-9_-]+$/;

/** Placeholders of `state.workspaces`: the deployment's name and the stack's. */
const WORKSPACE_PLACEHOLDERS = /\{(name|stack)\}/g;

/** A stack's workspace name under the `state.workspaces` pattern. */
export function workspaceName(pattern: string, deploymentName: string, stack: string): string {
  return pattern.replace(WORKSPACE_PLACEHOLDERS, (_, key: string) => (key === "name" ? deploymentName : stack));
}
