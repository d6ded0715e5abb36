/**
 * Tells the gateway when the deployment tables change: LISTEN on `flywheel_traffic` (triggers in
 * 0002_serving.sql notify on every change) for an immediate reload, and a poll as the fallback
 * for notifications missed while the listening connection was down.
 */
import pg from 'pg';

export const TRAFFIC_CHANNEL = 'flywheel_traffic';

export interface ChangeFeed {
  close(): Promise<void>;
}

export function watchChanges(url: string, pollMs: number, onChange: (reason: string) => void): ChangeFeed {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, application_name: 'flywheel-gateway-listen' });
    const reconnect = () => {
      if (client !== c) return;
      client = undefined;
      c.end().catch(() => undefined);
      if (!closed) retry = setTimeout(() => void connect(), 1_000);
    };
    c.on('error', reconnect);
    c.on('end', reconnect);
    c.on('notification', (n) => onChange(`notify ${n.payload ?? ''}`));
    client = c;
    try {
      await c.connect();
      await c.query(`LISTEN ${TRAFFIC_CHANNEL}`);
      // Changes made while we were not listening are only seen by reading again.
      onChange('listening');
    } catch {
      reconnect();
    }
  };
  void connect();
  const poll = setInterval(() => onChange('poll'), pollMs);
  poll.unref();

  return {
    async close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
