// An agent desktop's code with the npm package's desktop client (cobrowse-client/desktop):
// typed lookup, stop, the session's event stream and the embedded agent page's events.
import {
  CobrowseApiError, createDesktopClient, onAgentPageEvents,
  type DesktopEvent, type DesktopEventType, type SessionLookup,
} from 'cobrowse-client/desktop';

const server = 'https://cobrowse.example.com';
const client = createDesktopClient({ serverUrl: server, credential: 'agent-jwt' });
const frame = document.createElement('iframe');
const seen: DesktopEventType[] = [];

export async function follow(number: string): Promise<() => void> {
  const session: SessionLookup = await client.lookup(number);
  frame.src = `${server}/cobrowse/slave.html#sid=${session.token}`;
  const events = client.sessionEvents(number, (e: DesktopEvent) => {
    seen.push(e.type);
    const since: number | null = e.activatedAt;
    if (e.type === 'ended') console.log(e.historyId, e.endReason, since);
  }, { onError: (err: Error) => console.warn(err.message) });
  const stopListening = onAgentPageEvents(frame, server, (e) => seen.push(e.type));
  return () => {
    events.close();
    stopListening();
    client.stop(number).catch((e: unknown) => {
      if (e instanceof CobrowseApiError && e.code === 'unknown_session') return;
      throw e;
    });
  };
}
