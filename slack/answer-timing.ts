/**
 * Times Slack's requests at the edge: from a POST's arrival to the end of its answer (for a
 * command or a click, the ack). Slack shows the user an error and retries when the answer takes
 * more than 3 s, so this is what an operator alerts on (jit_slack_ack_seconds). The clock is
 * monotonic and injectable; health and metrics (GETs) are not timed.
 */
import type { RequestListener } from 'node:http';

export function timeAnswers(next: RequestListener, observe: (seconds: number) => void, nowMs: () => number = () => performance.now()): RequestListener {
  return (req, res) => {
    if ((req.method ?? '').toUpperCase() === 'POST') {
      const arrived = nowMs();
      res.once('finish', () => observe((nowMs() - arrived) / 1000));
    }
    return next(req, res);
  };
}
