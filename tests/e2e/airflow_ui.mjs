// Airflow's UI in headless Chromium: a wrong password is refused, admin logs in, the DAG list
// shows the four DAGs. Screenshots go to <shots dir>.
//   node airflow_ui.mjs <base url> <admin password> <shots dir>
import { check, run } from './browser.mjs';

const [base, password, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node airflow_ui.mjs <base url> <admin password> <shots dir>');
  process.exit(2);
}
const DAGS = ['init_data_pipeline', 'streaming_to_clickhouse', 'build_dwh_layer', 'data_quality_checks'];

async function signIn(page, pw) {
  // Signed out, the UI sends the browser to the login page (a client-side redirect).
  await page.goto(`${base}/`);
  await page.waitForURL(/\/auth\/login/, { timeout: 30000 });
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

await run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

  await signIn(page, `${password}-wrong`);
  await page.getByText('Invalid credentials').waitFor({ timeout: 15000 });
  check(page.url().includes('/auth/login'), `a wrong password was accepted: ${page.url()}`);
  await page.screenshot({ path: `${shots}/airflow-login-refused.png` });

  await signIn(page, password);
  await page.waitForURL((url) => !url.pathname.startsWith('/auth/'), { timeout: 30000 });
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: `${shots}/airflow-home.png` });

  await page.goto(`${base}/dags`, { waitUntil: 'networkidle' });
  for (const dag of DAGS) {
    await page.getByText(dag, { exact: true }).first().waitFor({ timeout: 30000 });
  }
  await page.screenshot({ path: `${shots}/airflow-dags.png`, fullPage: true });
  console.log(`airflow UI: login refused with a wrong password, admin signed in, ${DAGS.length} DAGs listed`);
});
