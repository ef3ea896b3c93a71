/**
 * How the page talks to `amalgam serve` (the HTTP transport of the IPC contract in ipc.ts); the server
 * (src-main/server) and the renderer's bridge both use these names.
 */

/** POST `${INVOKE_PATH}<channel>` with the request as JSON; the answer is the channel's Result as JSON */
export const INVOKE_PATH = '/api/invoke/'
/** GET: Server-Sent Events, `event:` = the event channel, `data:` = the payload as JSON */
export const EVENTS_PATH = '/api/events'
/** API calls carry the access token in this header */
export const TOKEN_HEADER = 'x-amalgam-token'
/** the served page carries the access token in `<meta name="amalgam-token" content="...">` */
export const TOKEN_META = 'amalgam-token'
