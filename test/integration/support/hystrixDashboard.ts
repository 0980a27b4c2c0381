import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { get, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from 'playwright-core';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (this file is test/integration/support/hystrixDashboard.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where the packed dashboard is kept between runs (git-ignored). */
export const DASHBOARD_CACHE = join(REPO_ROOT, '.cache', 'hystrix-dashboard');
export const DASHBOARD_PACKAGE = 'hystrix-dashboard@1.0.4';
/** underscore 1.8.3 from node_modules, served where monitor.html expects the CDN copy. */
export const UNDERSCORE_FILE = join(REPO_ROOT, 'node_modules', 'underscore', 'underscore-min.js');
/** The script URL monitor.html asks for (protocol-relative in the page). */
export const UNDERSCORE_CDN_PATH = '/ajax/libs/underscore.js/1.8.3/underscore-min.js';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The unmodified `webapp/` of the npm package hystrix-dashboard 1.0.4 (the Netflix dashboard's web files): packed
 * with `npm pack` into .cache/hystrix-dashboard on first use and unpacked there; reused afterwards.
 */
export async function hystrixDashboardWebapp(): Promise<string> {
  const webapp = join(DASHBOARD_CACHE, 'package', 'webapp');
  if (await exists(join(webapp, 'monitor', 'monitor.html'))) return webapp;
  await mkdir(DASHBOARD_CACHE, { recursive: true });
  let tarball = (await readdir(DASHBOARD_CACHE)).find((f) => f === 'hystrix-dashboard-1.0.4.tgz');
  if (tarball === undefined) {
    await run('npm', ['pack', DASHBOARD_PACKAGE, '--pack-destination', DASHBOARD_CACHE, '--silent'], { timeout: 120_000 });
    tarball = 'hystrix-dashboard-1.0.4.tgz';
  }
  // Unpack beside the cache, then move into place, so a half-unpacked tree is never reused.
  const staging = await mkdtemp(join(DASHBOARD_CACHE, 'unpack-'));
  try {
    await run('tar', ['xzf', join(DASHBOARD_CACHE, tarball), '-C', staging], { timeout: 60_000 });
    await rm(join(DASHBOARD_CACHE, 'package'), { recursive: true, force: true });
    await rename(join(staging, 'package'), join(DASHBOARD_CACHE, 'package'));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return webapp;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.txt': 'text/plain; charset=utf-8',
};

/** Serves a file under `root` (no traversal); false when there is none. */
export async function serveStatic(root: string, urlPath: string, res: ServerResponse): Promise<boolean> {
  const relative = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  const file = join(root, relative);
  if (!file.startsWith(root + sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return false;
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
  await new Promise<void>((done) => {
    createReadStream(file)
      .on('end', () => done())
      .on('error', () => done())
      .pipe(res);
  });
  return true;
}

/**
 * The dashboard's `/proxy.stream?origin=URL`: the origin is everything after `origin=` (monitor.html does not
 * encode it, so a `&` in it splits the query). The upstream SSE is piped unchanged, but only after `ready`
 * resolves (the page throws on an event that arrives before its templates are loaded).
 */
export function proxyStream(req: IncomingMessage, res: ServerResponse, ready: Promise<void>): void {
  const url = req.url ?? '';
  const at = url.indexOf('origin=');
  const origin = at < 0 ? '' : decodeURIComponent(url.slice(at + 'origin='.length));
  let target: URL;
  try {
    target = new URL(origin);
  } catch {
    res.writeHead(400).end('origin must be an absolute URL');
    return;
  }
  if (target.hostname !== '127.0.0.1') {
    res.writeHead(403).end('loopback origins only');
    return;
  }
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  void ready.then(() => {
    if (closed) return;
    const upstream = get(target, { agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, {
        'Content-Type': up.headers['content-type'] ?? 'text/event-stream',
        'Cache-Control': 'no-cache',
      });
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.once('close', () => upstream.destroy());
  });
}

/** The template files monitor.html fetches before it can draw a tile. */
export const DASHBOARD_TEMPLATES = [
  '/components/hystrixCommand/templates/hystrixCircuit.html',
  '/components/hystrixCommand/templates/hystrixCircuitContainer.html',
  '/components/hystrixThreadPool/templates/hystrixThreadPool.html',
  '/components/hystrixThreadPool/templates/hystrixThreadPoolContainer.html',
];

/**
 * A request listener serving the original dashboard's web files and its `/proxy.stream` (held until the templates
 * have been served), plus any extra routes by exact path.
 */
export function originalDashboardListener(
  webapp: string,
  extra: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const served = new Set<string>();
  let templatesServed!: () => void;
  const templatesReady = new Promise<void>((r) => (templatesServed = r));
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = extra[path];
    if (route !== undefined) return route(req, res);
    if (path === '/proxy.stream') return proxyStream(req, res, templatesReady);
    if (DASHBOARD_TEMPLATES.includes(path)) {
      res.once('finish', () => {
        served.add(path);
        if (served.size === DASHBOARD_TEMPLATES.length) templatesServed();
      });
    }
    void serveStatic(webapp, path, res).then((found) => {
      if (!found) res.writeHead(404).end();
    });
  };
}

/** A Chromium reroute (see launchChromium) that answers monitor.html's CDN underscore request from node_modules. */
export async function underscoreReroute(): Promise<(url: string, route: Route) => Promise<boolean>> {
  const underscore = await readFile(UNDERSCORE_FILE);
  return async (url, route) => {
    const u = new URL(url);
    if (u.hostname !== 'cdnjs.cloudflare.com' || u.pathname !== UNDERSCORE_CDN_PATH) return false;
    await route.fulfill({ status: 200, contentType: 'application/javascript', body: underscore });
    return true;
  };
}
