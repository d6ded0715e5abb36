/** OnlineSnapshot: how often it snapshots the online learner, and each snapshot registered (or why not). */
import type { OnlineSnapshotStatus } from '../../workflows/online-learning';
import { closedBadly, fields, section, type Renderer } from './types';

export const renderOnlineSnapshot: Renderer<OnlineSnapshotStatus, OnlineSnapshotStatus> = ({ status, result, ...view }) => {
  const s = status ?? result;
  return [
    ...fields({ stage: s?.state, name: s?.name, every: s ? `${s.everySeconds} s` : undefined, requests: s?.requests, registered: s?.registered }),
    ...section(
      'snapshots (decisions)',
      (s?.recent ?? []).map((x) => (x.snapshotted ? `v${x.version} generation ${x.generation}: ${x.learned} labels learnt${x.created ? '' : ' (already registered)'}` : `skipped: ${x.reason}`)),
    ),
    ...closedBadly({ ...view, status, result }),
  ];
};
