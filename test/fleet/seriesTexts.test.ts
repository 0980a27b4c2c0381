import { describe, expect, it } from 'vitest';
import { SeriesTexts } from '../../src/fleet/seriesTexts.js';

describe('SeriesTexts (the cluster primary’s series texts, without a string per series)', () => {
  it('gives back every text and finds every series by its text and kind, across chunks and table growth', () => {
    const t = new SeriesTexts();
    const texts = Array.from({ length: 5000 }, (_, i) => `m{command="K.${i}",event="${i % 7 === 0 ? 'é"\\n' : 'ok'}"}`);
    texts.push('', 'x', '😀{a="😀"}');
    for (let i = 0; i < texts.length; i++) {
      expect(t.add(texts[i]!)).toBe(i);
      t.note(texts[i]!, i % 2 === 0 ? 0 : 1, i);
      if (i % 300 === 299) t.seal(); // pieces of several sizes, some past the chunk size
    }
    t.seal();
    expect(t.count).toBe(texts.length);
    for (let i = 0; i < texts.length; i++) {
      expect(t.text(i)).toBe(texts[i]);
      expect(t.is(i, texts[i]!)).toBe(true);
      expect(t.find(texts[i]!, i % 2 === 0 ? 0 : 1)).toBe(i);
      expect(t.find(texts[i]!, i % 2 === 0 ? 1 : 0)).toBe(-1); // the other kind is another series
    }
    expect(t.find('m{command="K.5000",event="ok"}', 0)).toBe(-1);
    expect(t.find('m{command="K.1",event="ok"', 1)).toBe(-1); // a prefix of a series' text
    expect(t.is(3, texts[4]!)).toBe(false);
  });

  it('finds a series by another text of it (its labels in another order) and keeps its own text', () => {
    const t = new SeriesTexts();
    const i = t.add('m{a="1",b="2"}');
    t.note('m{a="1",b="2"}', 1, i);
    t.note('m{b="2",a="1"}', 1, i);
    t.seal();
    expect(t.find('m{b="2",a="1"}', 1)).toBe(i);
    expect(t.find('m{b="2",a="1"}', 0)).toBe(-1);
    expect(t.text(i)).toBe('m{a="1",b="2"}');
    expect(t.is(i, 'm{b="2",a="1"}')).toBe(false);
  });
});
