/**
 * The HTML trace viewer in a real browser (Debian's headless Chromium, driven by playwright-core):
 * the page loads offline with no errors and no network requests, draws one lane per node and
 * one arrow per delivery, and stepping with the slider and the arrow keys updates the state
 * diff panel. A screenshot is saved for people to look at. Skipped, saying so, only when
 * /usr/bin/chromium is absent (.ci/run installs it).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceFile } from '../traces/format.ts';
import { toHtml } from '../traces/html.ts';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present) console.warn(`html-viewer test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

const trace = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'traces', 'examples', 'two-phase.volatile-rm.json'), 'utf8')) as TraceFile;

describe.skipIf(!present)('HTML trace viewer in headless Chromium', () => {
  let context: BrowserContext;
  const dir = mkdtempSync(join(tmpdir(), 'pacta-html-'));
  const page = join(dir, 'trace.html');

  beforeAll(async () => {
    writeFileSync(page, toHtml(trace));
    // A fresh profile directory per run: no state leaks between runs.
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 760 },
    });
  });
  afterAll(async () => {
    await context?.close();
  });

  it('loads offline, steps with the slider and keys, shows the diff, and screenshots', async () => {
    const tab = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    tab.on('request', (r) => !r.url().startsWith('file:') && requests.push(r.url()));
    await tab.goto(pathToFileURL(page).href);

    const n = trace.steps.length - 1;
    expect(await tab.title()).toBe(`two-phase:volatile-rm: violates "${trace.property!.name}" after ${n} steps`);
    // One lane per node, one arrow per delivery.
    expect(await tab.locator('svg .lanehead').allTextContents()).toEqual(['tm', 'rm1', 'rm2', 'rm3']);
    const deliveries = trace.steps.filter((s) => s.event.kind === 'deliver').length;
    expect(await tab.locator('svg line.arrow').count()).toBe(deliveries);

    const diff = () => tab.locator('#diff tbody').innerText();
    expect(await tab.locator('#step-label').innerText()).toBe(`step 0 / ${n}`);
    expect(await diff()).toMatch(/the initial state/);

    // The slider: jump to the crash.
    const crashAt = trace.steps.findIndex((s) => s.event.kind === 'crash');
    await tab.locator('#step').fill(String(crashAt));
    expect(await tab.locator('#step-label').innerText()).toBe(`step ${crashAt} / ${n}`);
    expect(await tab.locator('#event').innerText()).toMatch(new RegExp(`^${crashAt}\\. rm\\d crashes`));
    const atCrash = await diff();
    expect(atCrash).toMatch(/rm\d\.crashed\s+false\s+true/);
    expect(await tab.locator('#state tr.crashed').count()).toBe(1);

    // The keys: one step on, the diff changes (the restart).
    await tab.locator('body').click({ position: { x: 5, y: 5 } });
    await tab.keyboard.press('ArrowRight');
    expect(await tab.locator('#step-label').innerText()).toBe(`step ${crashAt + 1} / ${n}`);
    const afterKey = await diff();
    expect(afterKey).not.toBe(atCrash);
    expect(afterKey).toMatch(/rm\d\.crashed\s+true\s+false/);
    // Later steps are dimmed; earlier ones are not.
    expect(await tab.locator(`svg g[data-step="${crashAt + 2}"]`).getAttribute('class')).toBe('future');
    expect(await tab.locator(`svg g[data-step="${crashAt}"]`).getAttribute('class')).toBe('');

    // End: the violating step, with the diff of its last change.
    await tab.keyboard.press('End');
    expect(await tab.locator('#step-label').innerText()).toBe(`step ${n} / ${n}`);
    expect(await tab.locator('#event').innerText()).toMatch(/✗$/);
    expect(await diff()).toMatch(/rm\d\s+prepared\s+committed/);
    await tab.keyboard.press('ArrowLeft');
    expect(await tab.locator('#step-label').innerText()).toBe(`step ${n - 1} / ${n}`);

    // Clicking a row of the diagram selects that step.
    await tab.locator('svg rect.row[data-step="2"]').click();
    expect(await tab.locator('#step-label').innerText()).toBe(`step 2 / ${n}`);

    await tab.locator('#step').fill(String(crashAt + 1));
    const shot = join(dir, 'viewer.png');
    await tab.screenshot({ path: shot });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    if (process.env.PACTA_SCREENSHOT) writeFileSync(process.env.PACTA_SCREENSHOT, readFileSync(shot));

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await tab.close();
  });
});
