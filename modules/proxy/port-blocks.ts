/**
 * Spokes are grouped by port into blocks of 50 (3100-3149, 3150-3199, ...). In ha mode a block
 * is one NLB and one Auto Scaling group - 50 is both the NLB's listener quota and the ASG's
 * target-group quota - and in both modes one security group rule per block covers its spokes'
 * ports, keeping rule counts far below the per-group quota. A spoke's block depends only on
 * its own port, so adding or removing spokes never moves another one.
 */
export const PORT_BLOCK_SIZE = 50;

/** Spokes (or anything with a port) whose ports share one block of `PORT_BLOCK_SIZE` ports. */
export interface PortBlock<T extends { readonly port: number }> {
  /** First port of the block; the block's stable key. */
  readonly start: number;
  /** Lowest port actually used in the block. */
  readonly fromPort: number;
  /** Highest port actually used in the block. */
  readonly toPort: number;
  /** Members in port order. */
  readonly members: readonly T[];
}

/** The first port of `port`'s block: the block's stable key. */
export function portBlockStart(port: number): number {
  return Math.floor(port / PORT_BLOCK_SIZE) * PORT_BLOCK_SIZE;
}

/** Groups items by port block, in port order. */
export function portBlocks<T extends { readonly port: number }>(items: readonly T[]): PortBlock<T>[] {
  const byStart = new Map<number, T[]>();
  for (const item of [...items].sort((a, b) => a.port - b.port)) {
    const start = portBlockStart(item.port);
    byStart.set(start, [...(byStart.get(start) ?? []), item]);
  }
  return [...byStart.entries()].map(([start, members]) => ({ start, fromPort: members[0].port, toPort: members[members.length - 1].port, members }));
}
