/** A dependency check: resolves when the dependency answers, rejects (or times out) when it does not. */
export type HealthCheck = () => Promise<unknown>;

/** The result of one check in `GET /health`. */
export interface CheckResult {
  status: 'ok' | 'down';
  latencyMs: number;
  error?: string;
}

/** Runs every check at once, each bounded by `timeoutMs`, so `/health` answers within that time. */
export async function runChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: 'ok', latencyMs: Math.round(performance.now() - started) }];
      } catch (error) {
        return [
          name,
          {
            status: 'down',
            latencyMs: Math.round(performance.now() - started),
            error: error instanceof Error ? error.message : String(error),
          },
        ];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
