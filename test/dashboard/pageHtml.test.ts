import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP, renderPage } from '../../src/dashboard/page/pageHtml.js';
import { PAGE_SCRIPT } from '../../src/dashboard/page/pageScript.js';
import { PAGE_CSS } from '../../src/dashboard/page/pageStyles.js';

function hashOf(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function inline(html: string, tag: 'script' | 'style'): string[] {
  const re = tag === 'script' ? /<script>([\s\S]*?)<\/script>/g : /<style>([\s\S]*?)<\/style>/g;
  return [...html.matchAll(re)].map((m) => m[1]!);
}

describe('the dashboard page', () => {
  it('has a script that parses as a classic script', () => {
    expect(() => new Function(PAGE_SCRIPT)).not.toThrow();
    expect(PAGE_SCRIPT).not.toContain('${');
  });

  it('allows exactly its own inline script and style by hash, and nothing from elsewhere', () => {
    const html = renderPage({ streams: [{ url: 'hystrix.stream', label: 'this process' }] });
    const scripts = inline(html, 'script');
    const styles = inline(html, 'style');
    expect(scripts).toEqual([PAGE_SCRIPT]);
    expect(styles).toEqual([PAGE_CSS]);
    expect(PAGE_CSP).toContain(`script-src ${hashOf(PAGE_SCRIPT)}`);
    expect(PAGE_CSP).toContain(`style-src ${hashOf(PAGE_CSS)}`);
    expect(PAGE_CSP).toContain("default-src 'none'");
  });

  it('embeds its configuration so that no stream label can end the script element', () => {
    const label = '</script><script>alert(1)</script>&';
    const html = renderPage({ streams: [{ url: 'proxy/0', label }] });
    expect(html).not.toContain('<script>alert(1)');
    const json = /<script id="bw-config" type="application\/json">(.*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual({ streams: [{ url: 'proxy/0', label }] });
  });

  it('names every circuit state with a word and never writes stream data as HTML', () => {
    for (const word of ["'Closed'", "'Open'", "'Half-open'"]) expect(PAGE_SCRIPT).toContain(word);
    expect(PAGE_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
