// Shared by the browser tests: Debian's Chromium, headless, driven by playwright-core (which
// never downloads a browser), and a tiny check() that fails the script with a clear message.
import { chromium } from 'playwright-core';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Runs `body(browser)`; exits 1 with the error on failure, so the C++ test sees it.
export async function run(body) {
  const browser = await launch();
  try {
    await body(browser);
  } catch (err) {
    console.error(`FAIL: ${err.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
