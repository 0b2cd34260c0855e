export async function runReplica(): Promise<void> {
  throw new Error('not yet');
}
