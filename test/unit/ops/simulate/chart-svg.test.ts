import { describe, expect, it } from '@jest/globals';
import { chartSvg, hourStep, niceCeiling, PANEL_TITLES } from '../../../../ops/simulate/chart-svg.ts';
import type { SimulationResult } from '../../../../ops/simulate/types.ts';

/** Well-formed XML, checked by hand (no XML parser is a dependency, and xmllint is not installed here). */
function wellFormednessErrors(xml: string): string[] {
  const errors: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const match of body.matchAll(token)) {
    const [, closing, name, , selfClosing, text, stray] = match;
    if (stray !== undefined) {
      errors.push(`malformed tag at ${match.index}: ${body.slice(match.index, match.index + 40)}`);
      continue;
    }
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) errors.push(`unescaped & in ${JSON.stringify(text)}`);
      if (stack.length === 0 && text.trim() !== '') errors.push(`text outside the root: ${JSON.stringify(text)}`);
      continue;
    }
    if (closing) {
      if (stack.pop() !== name) errors.push(`</${name}> closes nothing open`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots += 1;
      stack.push(name!);
    } else if (stack.length === 0) roots += 1;
  }
  if (stack.length > 0) errors.push(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) errors.push(`${roots} root elements`);
  return errors;
}

function result(minutes: number): SimulationResult {
  return {
    profile: { name: 'mine <&> "test"', description: 'a day', arrivalsPerMinute: [1], fileBytes: 1, poisonShare: 0, drainMinutes: minutes - 1 },
    minutes: Array.from({ length: minutes }, (_, minute) => ({
      minute,
      arrivals: minute === 30 ? 1000 : 5,
      visible: minute % 50,
      inFlight: 8,
      oldestAgeSeconds: minute === 40 ? 1200 : 10,
      runningTasks: 1 + (minute % 3),
      desiredTasks: 2,
      deleted: 5,
      deadLettered: 0,
    })),
    alarmsFired: {},
    taskHours: 1,
    sqsRequests: 1,
  };
}

describe('chartSvg', () => {
  it.each([1, 180, 1500])('is well-formed XML with the four panels’ titles (%i minutes)', (minutes) => {
    const svg = chartSvg(result(minutes), { tasksPerMinute: Array.from({ length: minutes + 5 }, () => 1) }, 900);
    expect(wellFormednessErrors(svg)).toEqual([]);
    for (const title of PANEL_TITLES) expect(svg).toContain(`>${title.replace(/&/g, '&amp;')}</text>`);
    expect(svg.match(/<polyline /g)).toHaveLength(5);
    expect(svg).toContain('width="800"');
  });

  it('escapes the profile’s name, draws the threshold dashed, and keeps a one-minute burst in a long run', () => {
    const svg = chartSvg(result(1500), { tasksPerMinute: [1] }, 900);
    expect(svg).toContain('mine &lt;&amp;&gt; &quot;test&quot;');
    expect(svg).toMatch(/<line [^>]*stroke="#d62728" stroke-dasharray/);
    expect(svg).toContain('alarm threshold 900 s');
    // The arrivals' axis reaches 1k: the burst's maximum survived the per-pixel reduction.
    expect(svg).toContain('>1k</text>');
  });

  it('the checker itself catches broken XML', () => {
    expect(wellFormednessErrors('<svg><g></svg>')).not.toEqual([]);
    expect(wellFormednessErrors('<svg><text>a & b</text></svg>')).not.toEqual([]);
  });
});

describe('axis helpers', () => {
  it('rounds the top of an axis up to 1, 2 or 5 × 10^k', () => {
    expect([0, 0.3, 1, 7, 12, 900, 1000, 1001].map(niceCeiling)).toEqual([1, 0.5, 1, 10, 20, 1000, 1000, 2000]);
  });

  it('puts at most about 12 hour ticks on the axis', () => {
    expect(hourStep(1)).toBe(0.25);
    expect(hourStep(4)).toBe(0.5);
    expect(hourStep(7)).toBe(1);
    expect(hourStep(25)).toBe(3);
  });
});
