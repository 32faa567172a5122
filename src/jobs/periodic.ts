import type { Logger } from '../lib/logger.js';

/**
 * Runs `task` every `intervalMs`, never two runs at once, logging (not
 * throwing) failures so one bad run does not stop the schedule.
 */
export function runPeriodically(name: string, intervalMs: number, task: () => Promise<unknown>, logger: Logger) {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = task()
      .then(() => undefined)
      .catch((error: unknown) => logger.error('periodic task failed', { task: name, error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    /** Stops the schedule and waits for a run in progress. */
    async stop() {
      clearInterval(timer);
      await running;
    },
    runNow: tick,
  };
}
