import { describe, expect, it } from 'vitest';
import { flameGraph, totalOf, type FlameNode } from './flame';

const tree: FlameNode = {
  name: 'root',
  self: 0,
  children: [
    { name: 'handler <a&b>', self: 30, children: [{ name: 'session.run', self: 10, children: [] }] },
    { name: 'writev', self: 60, children: [] },
    { name: 'tiny', self: 0.001, children: [] },
  ],
};

const shares = (svg: string) => Object.fromEntries([...svg.matchAll(/data-name="([^"]*)" data-share="([^"]*)"/g)].map((m) => [m[1], Number(m[2])]));

describe('flameGraph', () => {
  it('sizes each frame by its time and its callees’ time', () => {
    expect(totalOf(tree)).toBeCloseTo(100.001);
    const s = shares(flameGraph(tree, { title: 't' }));
    expect(s.root).toBe(100);
    expect(s['handler &lt;a&amp;b&gt;']).toBe(40);
    expect(s['session.run']).toBe(10);
    expect(s.writev).toBe(60);
  });

  it('leaves out boxes too narrow to see, escapes names, and draws callees above callers', () => {
    const svg = flameGraph(tree, { title: '<profile>' });
    expect(svg).not.toContain('data-name="tiny"');
    expect(svg).not.toContain('<profile>');
    const y = (name: string) => Number(new RegExp(`data-name="${name}"[^>]*><title>[^<]*</title><rect x="[^"]*" y="([^"]*)"`).exec(svg)![1]);
    expect(y('session.run')).toBeLessThan(y('handler &lt;a&amp;b&gt;'));
    expect(y('handler &lt;a&amp;b&gt;')).toBeLessThan(y('root'));
  });
});
