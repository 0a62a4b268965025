/** Reading Prometheus exposition text in tests. */

/** The value of one sample line, e.g. sample(text, 'jit_grants_total{kind="ec2-ssh",outcome="ok"}'); undefined when absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
