// Superset in headless Chromium: a wrong password is refused; admin signs in; every dashboard
// named on the command line opens with each chart rendered with data (a canvas, an svg, table
// rows or a big number) and none showing an error; a full-page screenshot of each goes to
// <shots dir>/superset-<slug>.png. With --country CC, the Overview is opened again with its
// country native filter set to CC (through the URL) and its big number printed, so the caller
// can compare it with ClickHouse. Prints one JSON line per dashboard:
//   {"dashboard": slug, "charts": n, "states": {...}} and {"filtered_total": "1,234"}
//   node superset_dashboards.mjs <base url> <admin password> <shots dir> [--country CC] slug...
import { check, run } from './browser.mjs';

const args = process.argv.slice(2);
const [base, password, shots] = args;
let country = null;
const slugs = [];
for (let i = 3; i < args.length; ++i) {
  if (args[i] === '--country') country = args[++i];
  else slugs.push(args[i]);
}
if (!shots || slugs.length === 0) {
  console.error('usage: node superset_dashboards.mjs <base url> <admin password> <shots dir> [--country CC] slug...');
  process.exit(2);
}

async function signIn(page, pw) {
  await page.goto(`${base}/login/`);
  await page.fill('[data-test="username-input"]', 'admin');
  await page.fill('[data-test="password-input"]', pw);
  await page.click('[data-test="login-button"]');
}

// What each chart of the page shows right now: loading, error, empty or rendered.
function chartStates() {
  return Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map((chart) => {
    const title = chart.querySelector('[data-test="editable-title"]')?.textContent?.trim() || '?';
    const text = chart.textContent || '';
    const error = chart.querySelector('[data-test="error-tooltip"], .ant-alert-error, .alert-danger');
    if (error || /Unexpected error|Error:|Data error/.test(text)) return { title, state: 'error', text: text.slice(0, 300) };
    if (chart.querySelector('.loading, [aria-label="Loading"], [data-test="loading-indicator"]')) return { title, state: 'loading' };
    if (/No results were returned|No data/.test(text)) return { title, state: 'empty' };
    const drawn = chart.querySelector('canvas, svg path, svg circle, svg rect, table tbody tr, .header-line');
    return { title, state: drawn ? 'rendered' : 'loading' };
  });
}

async function openDashboard(page, path) {
  await page.goto(`${base}${path}`);
  await page.waitForSelector('[data-test="chart-grid-component"]', { timeout: 60000 });
  let states = [];
  const deadline = Date.now() + 90000;
  while (Date.now() < deadline) {
    states = await page.evaluate(chartStates);
    if (states.length && states.every((s) => s.state !== 'loading')) break;
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(1000);  // let the charts finish their entry animation
  return states;
}

await run(async (browser) => {
  // Tall enough that no chart is left unrendered below the fold (dashboards virtualize).
  const page = await browser.newPage({ viewport: { width: 1600, height: 2400 } });

  await signIn(page, `${password}-wrong`);
  await page.waitForTimeout(1500);
  check(page.url().includes('/login'), `a wrong password was accepted: ${page.url()}`);

  await signIn(page, password);
  await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 30000 });

  const failures = [];
  for (const slug of slugs) {
    const states = await openDashboard(page, `/superset/dashboard/${slug}/`);
    await page.screenshot({ path: `${shots}/superset-${slug}.png`, fullPage: true });
    const summary = {};
    for (const s of states) summary[s.title] = s.state;
    console.log(JSON.stringify({ dashboard: slug, charts: states.length, states: summary }));
    if (states.length === 0) failures.push(`${slug}: no charts`);
    for (const s of states) {
      if (s.state !== 'rendered') failures.push(`${slug} / ${s.title}: ${s.state}${s.text ? ` (${s.text})` : ''}`);
    }
  }
  check(failures.length === 0, `charts not rendered with data:\n  ${failures.join('\n  ')}`);

  if (country) {
    const id = 'NATIVE_FILTER-overview-country';
    const rison = `(${id}:(id:${id},extraFormData:(filters:!((col:geo_country,op:IN,val:!('${country}')))),` +
                  `filterState:(value:!('${country}'))))`;
    await openDashboard(page, `/superset/dashboard/overview/?native_filters=${encodeURIComponent(rison)}`);
    await page.screenshot({ path: `${shots}/superset-overview-${country}.png`, fullPage: true });
    const total = await page.locator('.header-line').first().textContent();
    console.log(JSON.stringify({ filtered_total: total.trim() }));
  }
});
