import type { ServerResponse } from 'node:http';

/**
 * @internal headers every breakwater response carries: browsers must not guess a type for a plain-text error or a
 * metrics page (a guessed `text/html` would run whatever a command name holds).
 */
export const NOSNIFF = { 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * @internal answers a short plain-text response (an error or a refusal). Returns false, and writes nothing, when
 * the response was already answered or the client has gone: the caller decides whether that needs reporting.
 */
export function plainReply(res: ServerResponse, status: number, message: string, extra: Readonly<Record<string, string>> = {}): boolean {
  if (res.headersSent || res.destroyed || res.writableEnded) return false;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...NOSNIFF, ...extra });
  res.end(message.endsWith('\n') ? message : `${message}\n`);
  return true;
}
