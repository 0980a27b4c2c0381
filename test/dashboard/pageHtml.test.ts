import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { inlinePageScript } from '../../.config/tsup.config.js';
import { pageCsp, renderPage } from '../../src/dashboard/page/pageHtml.js';
import { pageScript } from '../../src/dashboard/page/pageScript.js';
import { PAGE_CSS } from '../../src/dashboard/page/pageStyles.js';

const CLIENT_DIR = join(import.meta.dirname, '../../src/dashboard/page/client');

function hashOf(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function inline(html: string, tag: 'script' | 'style'): string[] {
  const re = tag === 'script' ? /<script>([\s\S]*?)<\/script>/g : /<style>([\s\S]*?)<\/style>/g;
  return [...html.matchAll(re)].map((m) => m[1]!);
}

describe('the dashboard page', () => {
  it('has a script bundled from the TypeScript client: one classic script, ASCII only, safe inside <script>', () => {
    const script = pageScript();
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toMatch(/<\/script|<!--/i);
    expect(script).toMatch(/^[\x20-\x7e\n]*$/);
    expect(script).not.toMatch(/\bimport\s*[({]|\bexport\s/);
    // Strings from client/main.ts, connection.ts and model.ts made it in.
    expect(script).toContain('No circuit matches the filter.');
    expect(script).toContain('text/event-stream');
    expect(script).toContain('Half-open');
    expect(pageScript()).toBe(script); // bundled once, then cached
  });

  it('allows exactly its own inline script and style by hash, and nothing from elsewhere', () => {
    const html = renderPage({ streams: [{ url: 'hystrix.stream', label: 'this process' }] });
    const scripts = inline(html, 'script');
    const styles = inline(html, 'style');
    expect(scripts).toEqual([pageScript()]);
    expect(styles).toEqual([PAGE_CSS]);
    expect(pageCsp()).toContain(`script-src ${hashOf(pageScript())}`);
    expect(pageCsp()).toContain(`style-src ${hashOf(PAGE_CSS)}`);
    expect(pageCsp()).toContain("default-src 'none'");
    expect(pageCsp()).toContain("connect-src 'self'");
  });

  it('embeds its configuration so that no stream label can end the script element', () => {
    const label = '</script><script>alert(1)</script>&';
    const html = renderPage({ streams: [{ url: 'proxy/0', label }] });
    expect(html).not.toContain('<script>alert(1)');
    const json = /<script id="bw-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual({ streams: [{ url: 'proxy/0', label }] });
  });

  it('names every circuit state with a word and never writes stream data as HTML', () => {
    const sources = readdirSync(CLIENT_DIR)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(CLIENT_DIR, f), 'utf8'))
      .join('\n');
    for (const word of ["'Closed'", "'Open'", "'Half-open'"]) expect(sources).toContain(word);
    expect(sources).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(pageScript()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('is inlined at build time: the built module returns the same script and does not load esbuild', async () => {
    // The same esbuild plugin tsup runs for `npm run build`, on the module that renders the page.
    const out = await build({
      entryPoints: [join(import.meta.dirname, '../../src/dashboard/page/pageHtml.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: [inlinePageScript],
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']esbuild["']|require\(["']esbuild["']\)|buildSync/);
    const dir = await mkdtemp(join(tmpdir(), 'breakwater-page-'));
    try {
      const file = join(dir, 'pageHtml.mjs');
      await writeFile(file, code);
      const built = (await import(pathToFileURL(file).href)) as { renderPage: typeof renderPage; pageCsp: typeof pageCsp };
      const html = built.renderPage({ streams: [{ url: 'hystrix.stream', label: 'this process' }] });
      expect(inline(html, 'script')).toEqual([pageScript()]);
      expect(built.pageCsp()).toBe(pageCsp());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
