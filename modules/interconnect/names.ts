/**
 * Account-wide names the interconnect gives AWS resources, shared by the constructs and the config
 * validation so a name AWS would reject is a config error, not a failed apply. Pure.
 */

/** IAM role and instance profile names: at most 64 characters (IAM quotas). */
export const IAM_NAME_MAX = 64;

/**
 * Name of a Linux router's IAM role and instance profile. IAM names are account-wide and the sites'
 * Regions share an account, so the name carries the Region.
 */
export function routerRoleName(deploymentName: string, siteName: string, region: string): string {
  return `${deploymentName}-${siteName}-router-${region}`;
}

/**
 * SSM SecureString parameter holding a tunnel's pre-shared key. Parameter names are per Region and
 * account; the deployment and site names keep two deployments apart.
 */
export function tunnelKeyParameterName(deploymentName: string, siteName: string, tunnel: 1 | 2): string {
  return `/egresslink/${deploymentName}/interconnect/${siteName}/tunnel${tunnel}-psk`;
}
